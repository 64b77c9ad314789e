"""What leaves the register for people: THE masking policy (resident IDs, bank accounts, mobile numbers),
and spreadsheet cells that cannot run as formulas. Shared by the register export and the web pages,
exports and logs (``qingfeng.web.masking`` applies it per viewer; docs/ui.md, "Masking").

What is masked, wherever it occurs (structured fields and free text alike):

- resident ID, 18 characters: ``330109********4321`` (region and sequence kept, birth date hidden);
- resident ID, 15 digits (issued before 1999): ``330109******321``;
- mobile number ``1[3-9]`` + 9 digits (also ``+86``, spaces or hyphens): ``139****5678``;
- bank account, 12 to 19 digits: ``***************0123`` (the last four kept); written in groups of four
  with spaces or hyphens (``6217 0012 3456 7890 123``) when it starts like a card (3, 4, 5, 6, 8, 9), and
  in other groupings when it also passes the Luhn check (a list of amounts rarely does).

Full-width digits (``３３０１０９…``, as typed with a Chinese input method) are recognised like ASCII ones.

A number is only recognised as a whole (never inside a longer run of digits or letters, a decimal or a
``1,234`` amount), so dates, amounts, clue numbers and hashes are left alone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

MASKED_KINDS = ("person", "account")  # a bank account is personal data too; companies and projects are not
_ID_KEYS = ("person", "cadre", "recipient", "payee", "relative")
_ACCOUNT_KEYS = ("account",)
_PHONE_KEYS = ("phone", "mobile")
MASKED_KEYS = (*_ID_KEYS, *_ACCOUNT_KEYS, *_PHONE_KEYS)  # clue keys masked whole, whatever their form
UNMASKED_FIELDS = frozenset({"fingerprint"})  # machine identifiers (hashes) that must round-trip as they are
FULL_NOTE = "显示完整号码"  # the audit detail of a view or export that showed full numbers

_LEFT = r"(?<![0-9A-Za-z])(?<![0-9][.,])"  # not inside a word, a decimal or a 1,234 amount
_RIGHT = r"(?![0-9A-Za-z])(?![.,][0-9])"
_PERSONAL = re.compile(
    _LEFT
    + r"""(?:
        (?P<id18>\d{6}(?P<s18>[ -]?)\d{8}(?P=s18)\d{3}[\dXx])
      | (?P<id15>\d{6}(?P<s15>[ -]?)\d{6}(?P=s15)\d{3})
      | (?P<mobile>(?P<cc>(?:\+|00)86[ -]?)?1[3-9]\d(?P<sm>[ -]?)\d{4}(?P=sm)\d{4})
      | (?P<account>\d{12,19})
      | (?P<grouped>\d{4,6}(?P<sg>[ -])\d{4}(?:(?P=sg)\d{4}){1,3}(?:(?P=sg)\d{1,4})?)
    )"""
    + _RIGHT,
    re.VERBOSE | re.ASCII,
)
_SEPARATORS = re.compile(r"[ -]")
_CARD_START = "345689"  # UnionPay 62, Visa 4, Mastercard 5, JCB/Amex 3; 8 and 9: older domestic cards


def _birth_date(yyyymmdd: str) -> bool:
    try:
        day = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1880 <= day.year <= 2100


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _keep(text: str, head: int, tail: int) -> str:
    """Stars for every digit (or X) of ``text`` but the first ``head`` and the last ``tail``; separators stay."""
    places = [i for i, ch in enumerate(text) if ch.isalnum()]
    kept = set(places[:head]) | (set(places[-tail:]) if tail else set())
    return "".join(ch if i in kept or not ch.isalnum() else "*" for i, ch in enumerate(text))


def _masked(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = _SEPARATORS.sub("", text)
    if match.group("id18"):
        if digits[-1] in "Xx" or _birth_date(digits[6:14]):
            return _keep(text, 6, 4)
        return _keep(text, 0, 4)  # 18 digits that are no ID: an account number
    if match.group("id15"):
        return _keep(text, 6, 3) if _birth_date("19" + digits[6:12]) else _keep(text, 0, 4)
    if match.group("mobile"):
        prefix = match.group("cc") or ""
        return prefix + _keep(text[len(prefix) :], 3, 4)
    if match.group("account"):
        return _keep(text, 0, 4)
    if 12 <= len(digits) <= 19 and digits[0] in _CARD_START and (_groups_of_four(text) or _luhn(digits)):
        return _keep(text, 0, 4)
    return text


def _groups_of_four(text: str) -> bool:
    groups = _SEPARATORS.split(text)
    return all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4


# one character for one: positions in the probe are positions in the text
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－　", "0123456789Xx- ")


def mask_text(value: Any) -> str:
    """Mask every resident ID, bank account and mobile number inside free text (notes, paths, audit rows)."""
    if value is None or value == "":
        return ""
    text = str(value)
    probe = text.translate(_FULLWIDTH)
    if probe == text:
        return _PERSONAL.sub(_masked, text)
    out, last = [], 0
    for match in _PERSONAL.finditer(probe):
        masked = _masked(match)
        if masked != match.group(0):
            out.append(text[last : match.start()])
            out.append(masked)
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def contains_personal(value: Any) -> bool:
    """Whether ``mask_text`` would change ``value``."""
    text = "" if value is None else str(value)
    return mask_text(text) != text


def _whole(text: str, tail: int) -> str:
    """A structured value that matched no pattern (an unusual ID or account format): mostly stars."""
    if len(text) <= 4:
        return "*" * len(text)
    if tail:
        return "*" * (len(text) - tail) + text[-tail:]
    if len(text) >= 15:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return text[:1] + "*" * (len(text) - 3) + text[-2:]


def mask_identifier(value: Any) -> str:
    """A field that holds a person's ID (``keys.person``, a person subject): masked whatever its format."""
    text = "" if value is None else str(value)
    masked = mask_text(text)
    return masked if masked != text or not text else _whole(text, 0)


def mask_account(value: Any) -> str:
    """A field that holds a bank account (``keys.account``, an account subject): the last four kept."""
    text = "" if value is None else str(value)
    masked = mask_text(text)
    return masked if masked != text or not text else _whole(text, 4)


def mask_phone(value: Any) -> str:
    text = "" if value is None else str(value)
    masked = mask_text(text)
    return masked if masked != text or not text else _whole(text, 4)


def mask_subject_id(kind: str | None, value: str | None) -> str | None:
    """A subject's id: persons and accounts masked whole; a company, project or village scanned only."""
    if value is None or value == "":
        return value
    if kind == "person":
        return mask_identifier(value)
    if kind == "account":
        return mask_account(value)
    return mask_text(value)


def mask_key(name: str | None, value: Any) -> Any:
    """A clue key: person-, account- and phone-like keys masked whole, any other text scanned."""
    if value is None:
        return None
    if name in _ID_KEYS:
        return mask_identifier(value)
    if name in _ACCOUNT_KEYS:
        return mask_account(value)
    if name in _PHONE_KEYS:
        return mask_phone(value)
    return mask_text(value)


def mask_tree(value: Any, key: str | None = None) -> Any:
    """Any JSON-like value (a clue record, an API answer): every string masked, keys and subjects whole."""
    if isinstance(value, str):
        return mask_key(key, value) if key in MASKED_KEYS else mask_text(value)
    if isinstance(value, Mapping):
        kind = value.get("kind") if "id" in value else None  # a subject: {"kind", "id", "name"}
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if k in UNMASKED_FIELDS:
                out[k] = v
            elif k == "id" and isinstance(kind, str) and isinstance(v, str):
                out[k] = mask_subject_id(kind, v)
            else:
                out[k] = mask_tree(v, k)
        return out
    if isinstance(value, list | tuple):
        return [mask_tree(v, key) for v in value]
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A spreadsheet cell that is shown as text, never evaluated (=, +, -, @, tab, CR prefixed with ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
