"""The OpenAPI document says what every route answers: a real schema, and one refusal shape."""

from __future__ import annotations

from typing import Any

import pytest

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.settings import Settings

#: Refusals answered as ``{"detail": "<message>"}`` (docs/api.md, "Error shapes").
MESSAGE_STATUSES = {"401", "403", "404", "409", "413", "502"}
#: The telephony webhook and the platforms' caller lookups answer their platform in shapes of
#: their own (docs/telephony/).
_VENDOR = {"401": "SignatureRefused", "404": "SourceRefused", "422": "PayloadRefused"}
OWN_REFUSALS = {
    "/webhooks/{provider}/{source_id}": {**_VENDOR, "413": "Message"},
    "/lookups/ringover/{source_id}": _VENDOR,
    "/lookups/3cx/{source_id}": _VENDOR,
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    runtime = Runtime.create(
        Settings(data_dir=tmp_path_factory.mktemp("openapi"), database_url=None)
    )
    spec: dict[str, Any] = create_app(runtime).openapi()
    return spec


def _operations(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Return (method, path, first tag) of every documented operation."""
    return [
        (method, path, (operation.get("tags") or [""])[0])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _says_something(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """Tell whether a schema names what it holds: not ``{}``, not an object of anything."""
    schema = _resolve(schema, document)
    if schema.get("type") == "array":
        return _says_something(schema.get("items", {}), document)
    if schema.get("type") == "object" or "additionalProperties" in schema:
        return bool(schema.get("properties"))
    return bool(schema.get("type") or schema.get("anyOf") or schema.get("oneOf"))


def _answers(document: dict[str, Any], method: str, path: str) -> list[tuple[str, str, Any]]:
    """Return (status, media type, schema) of every 2xx answer; none when it is 204 alone."""
    responses = document["paths"][path][method]["responses"]
    return [
        (status, media, content.get("schema", {}))
        for status, answer in responses.items()
        if status.startswith("2") and status != "204"
        for media, content in answer.get("content", {"": {}}).items()
    ] or ([] if "204" in responses else [("", "", {})])


def test_every_answer_has_a_schema_that_says_what_it_holds(
    document: dict[str, Any],
) -> None:
    vague = []
    for method, path, _tag in _operations(document):
        answers = _answers(document, method, path)
        if not all(_says_something(s, document) for _, _, s in answers):
            vague.append(f"{method.upper()} {path}: {answers}")
    assert len(_operations(document)) > 30, "the walk found (almost) no route"
    assert not vague, "answers without a schema that says what they hold:\n" + "\n".join(vague)


def test_every_refusal_has_the_documented_shape(
    document: dict[str, Any],
) -> None:
    wrong = []
    for method, path, _tag in _operations(document):
        responses = document["paths"][path][method]["responses"]
        for status, answer in responses.items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            expected = "Message" if status in MESSAGE_STATUSES else "HTTPValidationError"
            expected = OWN_REFUSALS.get(path, {}).get(status, expected)
            named = schema.get("$ref", "").rsplit("/", 1)[-1]
            if (status in MESSAGE_STATUSES or status == "422") and named != expected:
                wrong.append(f"{method.upper()} {path} {status}: {schema}")
    assert not wrong, "refusals not in the documented shape:\n" + "\n".join(wrong)


def test_authenticated_routes_document_their_401(
    document: dict[str, Any],
) -> None:
    silent = [
        f"{method.upper()} {path}"
        for method, path, _tag in _operations(document)
        if document["paths"][path][method].get("security")
        and "401" not in document["paths"][path][method]["responses"]
    ]
    assert not silent, "routes needing a key that do not say they may answer 401:\n" + "\n".join(
        silent
    )
