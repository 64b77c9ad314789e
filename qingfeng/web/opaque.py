"""Opaque URL parameters: a subject page and a search term are addressed by a sealed token, never by the
resident ID, account number or name itself (URLs reach access logs, proxies, browser history and
``Referer`` headers).

A token is a deterministic authenticated encryption of the value under a key derived from the app's
session secret (SIV with HMAC-SHA256: the tag is an HMAC of purpose and value, the keystream an HMAC of
the tag), so the same subject always has the same address, nobody without the secret can read or forge
one, and the server needs no lookup table to open it. Tokens are written in letters only, so no run of
digits in a URL can look like a personal number to the masking policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from fastapi import Request

_TAG_BYTES = 16
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_LETTERS = "abcdefghijklmnopqrstuvwxyzBCDFGH"
_TO_LETTERS = str.maketrans(_B32, _LETTERS)
_FROM_LETTERS = str.maketrans(_LETTERS, _B32)
SEARCH = "q"  # the purpose of a queue search term (``?qt=``)


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class Sealer:
    def __init__(self, secret: str) -> None:
        root = _hmac(secret.encode("utf-8"), b"qingfeng/opaque-url/v1")
        self._mac = _hmac(root, b"mac")
        self._enc = _hmac(root, b"enc")

    def _tag(self, purpose: str, data: bytes) -> bytes:
        return _hmac(self._mac, purpose.encode("utf-8") + b"\0" + data)[:_TAG_BYTES]

    def _stream(self, tag: bytes, size: int) -> bytes:
        blocks = (_hmac(self._enc, tag + n.to_bytes(4, "big")) for n in range(-(-size // 32)))
        return b"".join(blocks)[:size]

    def seal(self, purpose: str, value: str) -> str:
        data = value.encode("utf-8")
        tag = self._tag(purpose, data)
        body = bytes(a ^ b for a, b in zip(data, self._stream(tag, len(data)), strict=True))
        return base64.b32encode(tag + body).decode("ascii").rstrip("=").translate(_TO_LETTERS)

    def open(self, purpose: str, token: str) -> str | None:
        """The sealed value, or None for anything that is not a token of this purpose and secret."""
        if not token or len(token) > 2000 or not token.isascii() or not token.isalpha():
            return None
        text = token.translate(_FROM_LETTERS)
        try:
            raw = base64.b32decode(text + "=" * (-len(text) % 8))
        except ValueError:
            return None
        if len(raw) < _TAG_BYTES:
            return None
        tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        data = bytes(a ^ b for a, b in zip(body, self._stream(tag, len(body)), strict=True))
        if not hmac.compare_digest(tag, self._tag(purpose, data)):
            return None
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return value if self.seal(purpose, value) == token else None  # one spelling per value

    def subject(self, kind: str, subject_id: str) -> str:
        """The token of a subject page (``/subjects/{kind}/{token}``)."""
        return self.seal(f"subject:{kind}", subject_id)

    def open_subject(self, kind: str, token: str) -> str | None:
        return self.open(f"subject:{kind}", token)


@lru_cache(maxsize=8)
def _sealer(secret: str) -> Sealer:
    return Sealer(secret)


def sealer(request: Request) -> Sealer:
    """The app's sealer (keyed by its session secret)."""
    return _sealer(request.app.state.settings.secret())


def subject_path(request: Request, kind: str, subject_id: str) -> str:
    """The site-relative address of a subject page, the subject's id sealed."""
    return str(
        request.url_for("subject", kind=kind, subject_id=sealer(request).subject(kind, subject_id)).path
    )
