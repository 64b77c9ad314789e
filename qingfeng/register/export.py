"""Clue exports (jsonl, csv, xlsx). Every export is written to the access log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import allowed
from qingfeng.register.models import Clue, User
from qingfeng.register.safe_output import FULL_NOTE, mask_tree, safe_cell
from qingfeng.register.service import describe, require
from qingfeng.register.users import audit

FORMATS = ("jsonl", "csv", "xlsx")
EXPORT_FIELDS = (
    "rule",
    "keys",
    "subjects",
    "amount",
    "status",
    "severity",
    "evidence",
    "first_seen",
    "last_seen",
)
FLAT_COLUMNS = (
    "id",
    "rule",
    "rule_name",
    "keys",
    "subjects",
    "amount",
    "period_start",
    "period_end",
    "status",
    "severity",
    "detection_state",
    "town",
    "village",
    "path",
    "evidence",
    "first_seen",
    "last_seen",
    "as_of",
    "fingerprint",
)


def export_records(clues: list[Clue], *, mask: bool = False) -> Iterator[dict[str, Any]]:
    for clue in clues:
        d = describe(clue)
        if mask:  # the whole record: keys and subjects whole, every text scanned (register.safe_output)
            d = mask_tree(d)
        yield {
            "id": d["id"],
            **{k: d[k] for k in EXPORT_FIELDS},
            **{k: d[k] for k in FLAT_COLUMNS if k not in EXPORT_FIELDS and k != "id"},
        }


def _cell(value: Any) -> Any:
    """JSON in cells for keys, subjects and evidence; never a live formula (a name like "=HYPERLINK(...)")."""
    return safe_cell(json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value)


def write_export(records: list[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    if fmt == "jsonl":
        for r in records:
            out.write((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8"))
    elif fmt == "csv":
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow(FLAT_COLUMNS)
        for r in records:
            w.writerow([_cell(r.get(c)) for c in FLAT_COLUMNS])
        out.write(("\ufeff" + text.getvalue()).encode("utf-8"))  # BOM: Excel opens Chinese CSV correctly
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("线索")
        ws.append(list(FLAT_COLUMNS))
        for r in records:
            ws.append([_cell(r.get(c)) for c in FLAT_COLUMNS])
        wb.save(out)
    else:
        raise InvalidInput(f"未知的导出格式 {fmt!r}，可选：{', '.join(FORMATS)}")


def export_clues(
    session: Session,
    actor: User | str,
    fmt: str,
    out: IO[bytes],
    *,
    clue_ids: list[int] | None = None,
    ip: str | None = None,
) -> int:
    """Export clues (all, or ``clue_ids``) in ``fmt`` to a binary stream; audited. ``actor`` is a user, or the
    name of a command-line operator (who sees unmasked IDs, as the database owner does)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"未知的导出格式 {fmt!r}，可选：{', '.join(FORMATS)}")
    stmt = select(Clue).order_by(Clue.id)
    mask = False
    if isinstance(actor, User):
        require(actor, "export")
        mask = not allowed(actor.role, "see_ids")
    if clue_ids is not None:
        stmt = stmt.where(Clue.id.in_(clue_ids))
    records = list(export_records(list(session.scalars(stmt)), mask=mask))
    write_export(records, fmt, out)
    shown = isinstance(actor, User) and not mask  # a role shown full numbers (the CLI operator owns the db)
    detail = f"{fmt} {len(records)} 条" + (f"; {FULL_NOTE}" if shown else "")
    audit(session, actor, "export", target="clue", detail=detail, ip=ip)
    session.commit()
    return len(records)


def export_to_file(session: Session, actor: User | str, fmt: str, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        return export_clues(session, actor, fmt, out)
