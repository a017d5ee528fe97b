"""The refusal log's excerpt keeps no secret, and its budget bounds the writes of a flood."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.ingest.refusals import EXCERPT_CHARS, REDACTED, RefusalBudget, excerpt

# Secrets from an alphabet the rest of the bodies below never form a long run of.
SECRETS = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=80)
KEYS = st.sampled_from(["token", "Token", "webhook_token", "secret", "api_key", "signature"])
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
FILLER = st.text(st.characters(codec="utf-8", exclude_characters=ALPHABET))


@settings(max_examples=200)
@given(secret=SECRETS, key=KEYS, filler=FILLER, cut=st.integers(0, 2000), pretty=st.booleans())
def test_a_json_secret_never_reaches_the_excerpt(
    secret: str, key: str, filler: str, cut: int, pretty: bool
) -> None:
    document = {"resource": "call", "note": filler, key: secret, "data": {"id": 1, key: secret}}
    body = json.dumps(document, indent=2 if pretty else None).encode()
    for delivered in (body, body[:cut]):
        shown = excerpt(delivered, ())
        assert secret not in shown
        assert len(shown) <= EXCERPT_CHARS
    # The marker shows wherever the first secret starts early enough for the marker to fit (a
    # long filler, escaped six characters a control character, may push it out of the excerpt).
    first = body.decode().find(json.dumps(secret))
    if first + 1 + len(REDACTED) <= EXCERPT_CHARS:
        assert REDACTED in excerpt(body, ())


@settings(max_examples=100)
@given(secret=SECRETS, key=KEYS, filler=FILLER)
def test_a_form_secret_never_reaches_the_excerpt(secret: str, key: str, filler: str) -> None:
    body = urlencode({"CallSid": "CA1", "note": filler, key: secret}).encode()
    assert secret not in excerpt(body, ())


@settings(max_examples=100)
@given(secrets=st.lists(SECRETS, min_size=1, max_size=3), filler=FILLER, where=st.integers(0, 600))
def test_the_sources_own_secrets_are_redacted_anywhere(
    secrets: list[str], filler: str, where: int
) -> None:
    text = filler[:where] + "".join(secrets) + filler[where:]
    shown = excerpt(text.encode(), secrets)
    for secret in secrets:
        assert secret not in shown
    assert "\x00" not in excerpt(b"a\x00b", ())


def test_the_budget_allows_a_burst_then_one_a_second() -> None:
    now = [0.0]
    budget = RefusalBudget(burst=3, per_second=1, clock=lambda: now[0])
    assert [budget.take("s") for _ in range(5)] == [True, True, True, False, False]
    assert budget.take("other")
    now[0] = 1.0
    assert [budget.take("s") for _ in range(2)] == [True, False]
    now[0] = 100.0
    assert [budget.take("s") for _ in range(4)] == [True, True, True, False]
