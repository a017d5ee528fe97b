"""The HubSpot fake's batch create: up to 100 inputs in one request, 201 or 207 multi-status.

As HubSpot documents it (``docs/connectors/hubspot.md``, batch endpoints): the body is
``{"inputs": [{"properties", "associations", "objectWriteTraceId"}]}``, at most 100 inputs;
the answer is 201 with every created object, or 207 with ``numErrors`` and ``errors`` when some
inputs failed, each error naming its input's ``objectWriteTraceId`` in its context. HubSpot
answers 207 only when every input carries a unique ``objectWriteTraceId``; without them the
fake refuses the whole batch with the first input's error and creates nothing [UNVERIFIED: the
documentation says only that 207 needs the trace ids]. The batch counts as one request against
the limits (the gate sees one request), and a scripted commit fault
(:meth:`HubSpotState.fail_after_commit`) stores the whole batch, then loses its answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake.gate import NOT_FOUND, error
from callbridge.connectors.hubspot.fake.state import HubSpotState, now_iso, object_type

MAX_INPUTS = 100
Links = list[tuple[str, str, int]]


class Api(Protocol):
    """What a batch needs of the fake's routes (``routes.Api``): one create's steps."""

    state: HubSpotState

    def checked(self, kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], Links] | Response:
        """Return a create input's properties and associations, or the answer refusing it."""

    def store(self, kind: str, props: dict[str, Any], links: Links) -> dict[str, Any] | Response:
        """Store a checked create; 409 when a unique value is taken."""

    def shown(self, kind: str, stored: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        """Return an object as HubSpot answers it."""


async def create(api: Api, request: Request) -> Response:
    """Create every input (or, untraced, none on any error) and answer 201 or 207."""
    kind = object_type(request.path_params["type"])
    if kind is None:
        return error(404, *NOT_FOUND)
    inputs = (await request.json()).get("inputs") or []
    if len(inputs) > MAX_INPUTS:
        return error(400, f"Too many inputs: the limit is {MAX_INPUTS}", "VALIDATION_ERROR")
    traces = [item.get("objectWriteTraceId") for item in inputs]
    traced = all(traces) and len(set(traces)) == len(traces)
    if not traced and (refused := _first_refusal(api, kind, inputs)) is not None:
        return refused
    started = now_iso()
    results, errors = [], []
    for item, trace in zip(inputs, traces, strict=True):
        checked = api.checked(kind, item)
        stored = checked if isinstance(checked, Response) else api.store(kind, *checked)
        if isinstance(stored, Response):
            errors.append(_error_of(stored, str(trace)))
            continue
        shown = api.shown(kind, stored, list(item.get("properties") or {}))
        results.append(shown | ({"objectWriteTraceId": trace} if trace else {}))
    fault = api.state.take_fault(kind)
    if fault is not None and fault.status is not None:  # stored, and the answer is lost
        return error(fault.status, "An upstream server did not answer in time", "ERROR")
    if fault is not None:
        await asyncio.sleep(fault.hold)
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results}
    answer |= {"startedAt": started, "completedAt": now_iso()}
    if errors:
        answer |= {"numErrors": len(errors), "errors": errors}
    return JSONResponse(answer, status_code=207 if errors else 201)


def _first_refusal(api: Api, kind: str, inputs: list[dict[str, Any]]) -> Response | None:
    """Return the answer refusing an untraced batch: its first invalid or duplicate input."""
    seen: dict[str, set[str]] = {}
    for item in inputs:
        checked = api.checked(kind, item)
        if isinstance(checked, Response):
            return checked
        props = checked[0]
        holder = api.state.holder(kind, props)
        if holder is not None:
            return error(409, f"{kind} already exists. Existing ID: {holder}", "CONFLICT")
        for name in api.state.unique.get(kind, set()) & set(props):
            value = str(props[name])
            if value in seen.setdefault(name, set()):
                return error(409, f"Duplicate {name} value {value} in the batch", "CONFLICT")
            seen[name].add(value)
    return None


def _error_of(answer: Response, trace: str) -> dict[str, Any]:
    """Return an input's error as a 207 lists it: the error body, with its trace id."""
    body: dict[str, Any] = json.loads(bytes(answer.body))
    body.pop("correlationId", None)
    return body | {"context": {"objectWriteTraceId": [trace]}}
