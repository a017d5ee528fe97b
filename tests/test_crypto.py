"""SecretBox: what is sealed opens as it was, however often, and no caller shares a value."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.crypto import SecretBox

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@settings(max_examples=100)
@given(values=st.lists(st.dictionaries(st.text(), json_values, max_size=4), min_size=1))
def test_opened_values_are_their_own(values: list[dict[str, Any]]) -> None:
    """Each open (the first or a kept one) gives the sealed value, and changing it changes
    nothing another open gives; a token sealed with the older key opens too."""
    box, old = SecretBox([NEW, OLD]), SecretBox([OLD])
    tokens = [(old if i % 2 else box).seal(value) for i, value in enumerate(values)]
    for _ in range(2):
        for token, value in zip(tokens, values, strict=True):
            opened = box.open(token)
            assert opened == value
            assert isinstance(opened, dict)
            opened["changed by a caller"] = True


def test_a_token_no_key_opens_is_refused_every_time() -> None:
    """A refusal is not kept as an answer: each open of that token says what to do."""
    token = SecretBox([Fernet.generate_key().decode()]).seal({"token": "x"})
    box = SecretBox([NEW, OLD])
    for _ in range(2):
        with pytest.raises(ValueError, match="CALLBRIDGE_SECRET_KEY lacks the key"):
            box.open(token)
