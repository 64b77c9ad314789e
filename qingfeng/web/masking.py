"""Masking of resident IDs for roles not allowed to see them (the register decides who may)."""

from __future__ import annotations

import re

from qingfeng.register.lifecycle import mask_id

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_text(value: str | None) -> str:
    """Mask every 18-character resident ID inside free text (paths, notes, key values)."""
    if not value:
        return ""
    return _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), str(value))


class Masker:
    """Applies or skips masking for one viewer."""

    def __init__(self, full: bool) -> None:
        self.full = full

    def id(self, value: str | None) -> str:
        return str(value or "") if self.full else str(mask_id(value) or "")

    def text(self, value: str | None) -> str:
        return str(value or "") if self.full else mask_text(value)

    def subject_id(self, kind: str, value: str | None) -> str:
        """Persons (and accounts, which are personal bank data) are masked; companies, projects are not."""
        return self.id(value) if kind in ("person", "account") else str(value or "")
