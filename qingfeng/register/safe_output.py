"""What leaves the register for people: resident IDs masked for roles without ``see_ids``, and
spreadsheet cells that cannot run as formulas. Shared by the register export and the web pages/exports."""

from __future__ import annotations

import re
from typing import Any

from qingfeng.register.lifecycle import mask_id

MASKED_KINDS = ("person", "account")  # a bank account is personal data too; companies and projects are not
MASKED_KEYS = ("person", "cadre", "account", "recipient", "payee", "relative")
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def mask_text(value: Any) -> str:
    """Mask every 18-character resident ID inside free text (paths, notes, audit targets)."""
    if value is None or value == "":
        return ""
    return _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), str(value))


def mask_subject_id(kind: str | None, value: str | None) -> str | None:
    return mask_id(value) if kind in MASKED_KINDS else value


def mask_key(name: str, value: Any) -> Any:
    """A clue key: person-like keys masked whole, any other text scanned for IDs."""
    if value is None:
        return None
    return mask_id(str(value)) if name in MASKED_KEYS else mask_text(value)


def safe_cell(value: Any) -> Any:
    """A spreadsheet cell that is shown as text, never evaluated (=, +, -, @, tab, CR prefixed with ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
