"""Opaque URL parameters: a subject page and a search term are addressed by a sealed token, never by the
resident ID, account number or name itself (URLs reach access logs, proxies, browser history and
``Referer`` headers).

A token is the value under AES-SIV (RFC 5297, deterministic authenticated encryption, from the
``cryptography`` package) with a key derived from the app's session secret and the token's purpose as
associated data: the same subject always has the same address, nobody without the secret can read or
forge one, and the server needs no lookup table to open it. Tokens are written in letters only, so no run
of digits in a URL can look like a personal number to the masking policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from fastapi import Request

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_LETTERS = "abcdefghijklmnopqrstuvwxyzBCDFGH"
_TO_LETTERS = str.maketrans(_B32, _LETTERS)
_FROM_LETTERS = str.maketrans(_LETTERS, _B32)
SEARCH = "q"  # the purpose of a queue search term (``?qt=``)


class Sealer:
    def __init__(self, secret: str) -> None:
        key = hmac.new(secret.encode("utf-8"), b"qingfeng/opaque-url/v1", hashlib.sha512).digest()
        self._siv = AESSIV(key)  # 64 bytes: AES-256-SIV

    def seal(self, purpose: str, value: str) -> str:
        sealed = self._siv.encrypt(value.encode("utf-8"), [purpose.encode("utf-8")])
        return base64.b32encode(sealed).decode("ascii").rstrip("=").translate(_TO_LETTERS)

    def open(self, purpose: str, token: str) -> str | None:
        """The sealed value, or None for anything that is not a token of this purpose and secret."""
        if not token or len(token) > 2000 or not token.isascii() or not token.isalpha():
            return None
        text = token.translate(_FROM_LETTERS)
        try:
            data = self._siv.decrypt(
                base64.b32decode(text + "=" * (-len(text) % 8)), [purpose.encode("utf-8")]
            )
            value = data.decode("utf-8")
        except (ValueError, InvalidTag, UnicodeDecodeError):
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
