"""CSV and XLSX files of tables (queue, monthly report, audit log): every text cell through the masking
policy (the viewer's ``Masker``; masked when none is given) and safe against formula injection."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

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
    """One worksheet per (title, header, rows): the header frozen and filterable, columns as wide as
    their text, exact amounts (``Decimal``) as numbers shown with two places."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        body = [[_cell(v, masker) for v in row] for row in rows]
        for index, width in enumerate(_widths(header, body), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(body) + 1}"
        sheet.append(list(header))
        for row in body:
            sheet.append([_amount(sheet, v) if isinstance(v, Decimal) else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _amount(sheet: Any, value: Decimal) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "#,##0.00"
    return cell


def _widths(header: Sequence[str], body: list[list[Any]], *, sample: int = 500) -> list[int]:
    """Display width per column (a CJK character counts twice) over the header and the first rows."""

    def width(value: Any) -> int:
        text = f"{value:,.2f}" if isinstance(value, Decimal) else "" if value is None else str(value)
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    out = []
    for index, title in enumerate(header):
        longest = max([width(title), *(width(row[index]) for row in body[:sample] if index < len(row))])
        out.append(min(max(longest + 2, 6), 60))
    return out


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def attachment(filename: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
