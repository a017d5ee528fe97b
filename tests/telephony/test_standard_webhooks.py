"""Standard Webhooks signatures: valid, rotated, wrong, missing, stale, future, tampered."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from callbridge.errors import SignatureError
from callbridge.telephony.standard_webhooks import generate_secret, sign, verify

# The test vector every official Standard Webhooks library checks against.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = datetime(2025, 3, 4, 8, 14, 2, tzinfo=UTC)
BODY = b'{"id":"evt_1","type":"call.ended","timestamp":1741076042,"call":{"id":"c1"}}'


def signed(secret: str, *, body: bytes = BODY, when: datetime = NOW) -> dict[str, str]:
    """Return the three headers of a delivery of ``body`` signed with ``secret`` at ``when``."""
    timestamp = int(when.timestamp())
    return {
        "webhook-id": "msg_2Lq8Zk1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "msg_2Lq8Zk1", timestamp, body),
    }


def test_official_vector_signs_and_verifies() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    now = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC)
    verify(headers, VECTOR_BODY, [VECTOR_SECRET], now)


def test_signature_matches_an_independent_hmac() -> None:
    secret = generate_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = b"msg_2Lq8Zk1." + str(int(NOW.timestamp())).encode() + b"." + BODY
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    assert signed(secret)["webhook-signature"] == f"v1,{expected}"


def test_generated_secrets_are_24_random_bytes() -> None:
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 24
    assert first != second


def test_valid_delivery_passes() -> None:
    secret = generate_secret()
    verify(signed(secret), BODY, [secret], NOW)


def test_header_names_are_case_insensitive() -> None:
    secret = generate_secret()
    headers = {name.title(): value for name, value in signed(secret).items()}
    verify(headers, BODY, [secret], NOW)


def test_secret_without_prefix_is_accepted() -> None:
    secret = generate_secret()
    verify(signed(secret), BODY, [secret.removeprefix("whsec_")], NOW)


def test_rotation_any_signature_against_any_secret() -> None:
    old, new, unrelated = generate_secret(), generate_secret(), generate_secret()
    headers = signed(old)
    headers["webhook-signature"] += " " + signed(new)["webhook-signature"]
    verify(headers, BODY, [new], NOW)
    verify(headers, BODY, [old], NOW)
    verify(headers, BODY, [unrelated, old], NOW)
    verify(signed(new), BODY, [old, new], NOW)


def test_unknown_signature_versions_are_skipped() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-signature"] = "v1a,c2lnbmVk v2,abc " + headers["webhook-signature"]
    verify(headers, BODY, [secret], NOW)


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureError, match="matches none of the 2 secret"):
        verify(signed(generate_secret()), BODY, [generate_secret(), generate_secret()], NOW)


def test_wrong_signature_fails() -> None:
    secret = generate_secret()
    headers = signed(secret)
    headers["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(SignatureError, match="matches none"):
        verify(headers, BODY, [secret], NOW)


def test_tampered_body_fails() -> None:
    secret = generate_secret()
    tampered = BODY.replace(b'"c1"', b'"c2"')
    with pytest.raises(SignatureError, match="exact bytes of the body"):
        verify(signed(secret), tampered, [secret], NOW)


def test_tampered_id_fails() -> None:
    secret = generate_secret()
    headers = signed(secret) | {"webhook-id": "msg_other"}
    with pytest.raises(SignatureError, match="matches none"):
        verify(headers, BODY, [secret], NOW)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_named(header: str) -> None:
    secret = generate_secret()
    headers = signed(secret)
    del headers[header]
    with pytest.raises(SignatureError, match=f"^{header} header is missing"):
        verify(headers, BODY, [secret], NOW)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_blank_header_counts_as_missing(header: str) -> None:
    secret = generate_secret()
    headers = signed(secret) | {header: "  "}
    with pytest.raises(SignatureError, match=f"^{header} header is missing"):
        verify(headers, BODY, [secret], NOW)


@pytest.mark.parametrize("value", ["abc", "1741076042.5", "-1741076042", "\uff11\uff12\uff13"])
def test_timestamp_must_be_whole_seconds(value: str) -> None:
    secret = generate_secret()
    headers = signed(secret) | {"webhook-timestamp": value}
    with pytest.raises(SignatureError, match="whole UNIX seconds"):
        verify(headers, BODY, [secret], NOW)


def test_stale_timestamp_fails_with_the_skew() -> None:
    secret = generate_secret()
    headers = signed(secret, when=NOW - timedelta(seconds=412))
    message = "webhook-timestamp is 412 s behind server time; tolerance is 300 s: check the sender"
    with pytest.raises(SignatureError, match=message):
        verify(headers, BODY, [secret], NOW)


def test_future_timestamp_fails_with_the_skew() -> None:
    secret = generate_secret()
    headers = signed(secret, when=NOW + timedelta(seconds=301))
    with pytest.raises(SignatureError, match="301 s ahead of server time; tolerance is 300 s"):
        verify(headers, BODY, [secret], NOW)


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_timestamps_within_tolerance_pass(skew: int) -> None:
    secret = generate_secret()
    verify(signed(secret, when=NOW + timedelta(seconds=skew)), BODY, [secret], NOW)


def test_tolerance_is_configurable() -> None:
    secret = generate_secret()
    headers = signed(secret, when=NOW - timedelta(seconds=60))
    verify(headers, BODY, [secret], NOW, tolerance=timedelta(seconds=60))
    with pytest.raises(SignatureError, match="tolerance is 30 s"):
        verify(headers, BODY, [secret], NOW, tolerance=timedelta(seconds=30))


def test_no_v1_entry_fails() -> None:
    secret = generate_secret()
    headers = signed(secret) | {"webhook-signature": "v1a,abcdef v1,"}
    with pytest.raises(SignatureError, match="no 'v1,<base64>' entry"):
        verify(headers, BODY, [secret], NOW)


def test_no_configured_secret_fails() -> None:
    with pytest.raises(SignatureError, match="no webhook secret is configured"):
        verify(signed(generate_secret()), BODY, [], NOW)


def test_malformed_configured_secret_fails_without_revealing_it() -> None:
    with pytest.raises(SignatureError, match="secret #2 of this source is not a valid") as caught:
        verify(signed(generate_secret()), BODY, [generate_secret(), "whsec_not*base64"], NOW)
    assert "not*base64" not in str(caught.value)
