"""CSV and XLSX files of tables (queue, monthly report, audit log): every text cell through the masking
policy (the viewer's ``Masker``; masked when none is given) and safe against formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from qingfeng.register.safe_output import safe_cell
from qingfeng.web.masking import MASKED, Masker


def _cell(value: Any, masker: Masker) -> Any:
    return safe_cell(masker.text(value) if isinstance(value, str) else value)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, masker: Masker = MASKED) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v, masker) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese CSV correctly


def to_xlsx(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], *, masker: Masker = MASKED
) -> bytes:
    """One worksheet per (title, header, rows)."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(v, masker) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def attachment(filename: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
