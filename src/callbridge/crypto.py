"""Encrypt secrets at rest with MultiFernet, so keys can be rotated without losing old data."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# How many opened tokens a process keeps the plaintext of (a few per integration and source).
OPENED_KEPT = 1024


class SecretBox:
    """Encrypts with the newest key and decrypts with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        # A token's plaintext, kept: every sync opens its integration's credentials, and the
        # same token always opens to the same text (Fernet's HMAC and AES cost ~1.5 % of the
        # CPU of a call under load). Each open still parses the text: no caller shares a value.
        self._plaintext = functools.lru_cache(maxsize=OPENED_KEPT)(self._fernet.decrypt)

    def seal(self, values: object) -> bytes:
        """Encrypt a JSON-serialisable value."""
        return self._fernet.encrypt(json.dumps(values).encode())

    def open(self, token: bytes) -> object:
        """Decrypt a value sealed with any of the keys."""
        try:
            return json.loads(self._plaintext(bytes(token)))
        except InvalidToken as err:
            raise ValueError(
                "a stored secret cannot be decrypted: CALLBRIDGE_SECRET_KEY lacks the key it "
                "was encrypted with (keep old keys after the new one, comma-separated)"
            ) from err

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token with the newest key."""
        return self._fernet.rotate(token)


def load_keys(configured: str | None, data_dir: Path) -> list[str]:
    """Return the configured keys, or the key kept in ``data_dir`` (created on first use)."""
    if configured:
        return [key.strip() for key in configured.split(",") if key.strip()]
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return [path.read_text().strip()]
