"""X-Twilio-Signature: checked with Twilio's RequestValidator over the public URL and the form."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from callbridge.errors import SignatureError
from callbridge.telephony.twilio import TwilioAdapter

ADAPTER = TwilioAdapter()
NOW = datetime(2025, 4, 11, 12, 0, tzinfo=UTC)
TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # an Auth Token: 32 hex digits
URL = "https://callbridge.example.com/webhooks/twilio/5f0c7a1e-2b6d-4c1a-9e3f-7d8a6b5c4e21"
PARAMS = {
    "AccountSid": "AC" + "0123456789abcdef" * 2,
    "CallSid": "CA" + "1f2e3d4c5b6a7988" * 2,
    "CallStatus": "completed",
    "From": "+14155550123",
    "To": "+14155550100",
    "Timestamp": "Fri, 11 Apr 2025 10:01:50 +0000",
}


def sign(url: str = URL, params: dict[str, str] | None = None, token: str = TOKEN) -> str:
    """Return the signature Twilio sends for ``url`` and ``params`` (its own algorithm)."""
    return str(RequestValidator(token).compute_signature(url, PARAMS if params is None else params))


def verify(
    body: bytes, headers: dict[str, str], url: str = URL, tokens: list[str] | None = None
) -> None:
    """Run the adapter's check."""
    ADAPTER.verify(headers, body, tokens or [TOKEN], NOW, url)


BODY = urlencode(PARAMS).encode()


def test_twilios_documented_test_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    headers = {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    verify(urlencode(params).encode(), headers, url, ["12345"])


def test_a_valid_signature_with_any_of_the_sources_tokens() -> None:
    verify(BODY, {"X-Twilio-Signature": sign()}, tokens=["an older token", TOKEN])
    verify(BODY, {"x-twilio-signature": sign()})  # header names in any case


def test_the_url_with_or_without_its_default_port_verifies() -> None:
    with_port = URL.replace(".com/", ".com:443/")
    verify(BODY, {"X-Twilio-Signature": sign(with_port)})
    verify(BODY, {"X-Twilio-Signature": sign()}, with_port)


def test_parameters_in_any_order_verify() -> None:
    reordered = urlencode(dict(reversed(list(PARAMS.items())))).encode()
    verify(reordered, {"X-Twilio-Signature": sign()})


def test_the_missing_header_is_refused_saying_so() -> None:
    with pytest.raises(SignatureError, match="X-Twilio-Signature header is missing"):
        verify(BODY, {})
    with pytest.raises(SignatureError, match="missing"):
        verify(BODY, {"X-Twilio-Signature": ""})


def test_another_token_is_refused_naming_the_url_checked() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(BODY, {"X-Twilio-Signature": sign(token="0" * 32)})
    assert URL in str(caught.value)
    assert "CALLBRIDGE_PUBLIC_URL" in str(caught.value)


@pytest.mark.parametrize(
    "other",
    [URL.replace("https", "http"), URL.replace("callbridge.", "proxy."), URL + "?x=1", URL + "/"],
)
def test_a_signature_of_another_url_is_refused(other: str) -> None:
    with pytest.raises(SignatureError):
        verify(BODY, {"X-Twilio-Signature": sign(other)})


@given(st.sampled_from(sorted(PARAMS)), st.text(max_size=20))
def test_any_changed_parameter_is_refused(name: str, value: str) -> None:
    if PARAMS[name] == value:
        return
    body = urlencode({**PARAMS, name: value}).encode()
    with pytest.raises(SignatureError):
        verify(body, {"X-Twilio-Signature": sign()})


def test_an_added_parameter_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify(BODY + b"&CallDuration=999", {"X-Twilio-Signature": sign()})


def test_no_url_is_refused_rather_than_guessed() -> None:
    with pytest.raises(SignatureError, match="no public URL"):
        ADAPTER.verify({"X-Twilio-Signature": sign()}, BODY, [TOKEN], NOW)


# --- JSON bodies: the URL carries bodySHA256, the signature covers the URL alone ----------------


def json_delivery(document: object) -> tuple[bytes, str]:
    """Return a JSON body and the URL Twilio posts it to, with its bodySHA256."""
    body = json.dumps(document).encode()
    return body, f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"


def test_body_sha256_variant_verifies() -> None:
    body, url = json_delivery(PARAMS)
    verify(body, {"X-Twilio-Signature": sign(url, {})}, url)


def test_body_sha256_of_another_body_is_refused() -> None:
    body, url = json_delivery(PARAMS)
    with pytest.raises(SignatureError):
        verify(body.replace(b"completed", b"canceled!"), {"X-Twilio-Signature": sign(url, {})}, url)


def test_body_sha256_variant_with_a_non_utf8_body_is_refused() -> None:
    digest = hashlib.sha256(b"\xff").hexdigest()
    url = f"{URL}?bodySHA256={digest}"
    with pytest.raises(SignatureError, match="not UTF-8"):
        verify(b"\xff", {"X-Twilio-Signature": sign(url, {})}, url)


# --- signatures made with a SharedKey (X-Twilio-Webhooks-Signature-Settings) --------------------


def test_hmac_sha256_named_by_the_settings_header_verifies() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS, "HMAC_SHA256")
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    verify(
        BODY, {"X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": settings}
    )
    with pytest.raises(SignatureError):  # the same signature read as the default HMAC-SHA1
        verify(BODY, {"X-Twilio-Signature": signature})


def test_an_unsupported_algorithm_is_refused_naming_it() -> None:
    headers = {
        "X-Twilio-Signature": sign(),
        "X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5",
    }
    with pytest.raises(SignatureError, match="HMAC_MD5"):
        verify(BODY, headers)


@given(
    body=st.binary(max_size=200),
    signature=st.text(max_size=40),
    settings=st.one_of(st.none(), st.text(max_size=40)),
    url=st.sampled_from([URL, URL + "?bodySHA256=00", URL + "?bodySHA256=", "http://x"]),
)
def test_any_delivery_is_verified_or_refused_never_a_crash(
    body: bytes, signature: str, settings: str | None, url: str
) -> None:
    headers = {"X-Twilio-Signature": signature}
    if settings is not None:
        headers["X-Twilio-Webhooks-Signature-Settings"] = settings
    try:
        verify(body, headers, url)
    except SignatureError:
        return
    raise AssertionError("a random signature verified")
