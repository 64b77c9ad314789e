"""Masking of resident IDs for one viewer (the register decides who may see them, and how to mask)."""

from __future__ import annotations

from qingfeng.register.lifecycle import mask_id
from qingfeng.register.safe_output import mask_subject_id, mask_text

__all__ = ["Masker", "mask_text"]


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
        return str(value or "") if self.full else str(mask_subject_id(kind, value) or "")
