"""Framing: turn one delivered file into staged all-string Parquet (I/O only, no parsing).

CSV: the encoding is detected (BOM, then strict UTF-8, then the declared one), the header is
matched by name, rows with the wrong number of fields are rejected with their original text.
XLSX: the named sheet, its header row found among the first rows. Every staged row carries
``_line``: its 1-based physical line in the file, or its Excel row number.

A CSV file cut off mid-transfer lands its complete lines: when its last record is incomplete (the
file ends inside a character, inside a quoted field, or without a newline after fewer fields than
the header has), that record alone is rejected as ``truncated_line``. Undecodable bytes anywhere
else still refuse the whole file.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import datetime as dt
import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from qingfeng.feeds.model import FileSpec

BATCH_ROWS = 200_000
CHUNK = 1 << 20
HEADER_SEARCH_ROWS = 5
UTF8_BOM = codecs.BOM_UTF8
GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936"}
REJECT_SCHEMA = pa.schema(
    [
        ("_line", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("column", pa.string()),
        ("detail", pa.string()),
    ]
)
# the reasons framing rejects a CSV record for (docs/feeds.md, "Quarantine reasons")
RejectReason = Literal["wrong_field_count", "malformed_row", "truncated_line"]
Reject = tuple[int, int, RejectReason, str]  # first line, last line, reason, detail
EOF_MARK = "\x00qingfeng:end-of-file\x00"  # a line no delivered file contains (see _ends_in_open_quote)


class FramingError(ValueError):
    """A file that cannot be read as its file kind; the message names file, line and column."""


@dataclass
class Framed:
    rows_read: int = 0
    rows_staged: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None
    header_line: int = 1


def frame_file(path: Path, spec: FileSpec, staged: Path, rejects: Path) -> Framed:
    """Write the rows of ``path`` to ``staged`` (and framing rejects to ``rejects``)."""
    if path.stat().st_size == 0:
        raise FramingError(f"{path.name}: the file is empty (0 bytes, not even a header)")
    if spec.format == "xlsx":
        return _frame_xlsx(path, spec, staged)
    return _frame_csv(path, spec, staged, rejects)


# --- encodings -------------------------------------------------------------------------------


def _first_bad_offset(path: Path, encoding: str) -> tuple[int | None, bool, int]:
    """Byte offset of the first byte that does not decode (None if all do), whether all is ASCII,
    and how many bytes at the very end begin a character that never ends (the file was cut off
    inside it: these alone do not count as undecodable)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pos, ascii_only = 0, True
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            pending = _pending(decoder)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return max(pos - pending + exc.start, 0), False, 0
            ascii_only = ascii_only and chunk.isascii()
            pos += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # only an incomplete sequence is left: the buffered bytes
        return None, False, len(exc.object) - exc.start
    return None, ascii_only, 0


def _pending(decoder: codecs.IncrementalDecoder) -> int:
    try:
        buffered = decoder.getstate()[0]
    except (AttributeError, NotImplementedError):
        return 0
    return len(buffered) if isinstance(buffered, bytes) else 0


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def detect_encoding(path: Path, declared: str) -> tuple[str, list[str], int]:
    """The encoding to read ``path`` with, warnings when it is not the declared one, and the number
    of bytes at the very end that start a character cut off by an interrupted transfer.

    Such a cut-off character does not count against an encoding: a UTF-8 file cut inside its last
    character is still read as UTF-8 (GB18030 would decode most of its bytes, as gibberish)."""
    declared = codecs.lookup(declared).name  # normalises e.g. GBK -> gbk, utf8 -> utf-8
    with path.open("rb") as fh:
        has_bom = fh.read(3) == UTF8_BOM
    if has_bom:
        bad, _, cut = _first_bad_offset(path, "utf-8-sig")
        if bad is None:
            return "utf-8-sig", _lie_warning(declared, "utf-8-sig", path), cut
        _undecodable(path, "UTF-8 (the file starts with a UTF-8 byte order mark)", bad)
    bad, ascii_only, cut = _first_bad_offset(path, "utf-8")
    if bad is None:
        return "utf-8", [] if ascii_only else _lie_warning(declared, "utf-8", path), cut
    fallback = "gb18030" if declared in GB_FAMILY or declared.startswith("utf") else declared
    bad_fallback, _, cut = _first_bad_offset(path, fallback)
    if bad_fallback is None:
        return fallback, _lie_warning(declared, fallback, path), cut
    # the encoding that decodes further is the likely one: report its first bad bytes
    best, other = (("UTF-8", bad), (fallback, bad_fallback))[:: 1 if bad >= bad_fallback else -1]
    _undecodable(path, f"{best[0]} (nor {other[0]}: line {_line_of(path, other[1])})", best[1])
    raise AssertionError("unreachable")


def _lie_warning(declared: str, actual: str, path: Path) -> list[str]:
    same = {declared, actual} <= {"utf-8", "utf-8-sig"} or (declared in GB_FAMILY and actual in GB_FAMILY)
    return (
        []
        if same
        else [f"{path.name}: declared encoding {declared}, but the file is {actual}; read as {actual}"]
    )


def _undecodable(path: Path, tried: str, offset: int) -> None:
    with path.open("rb") as fh:
        fh.seek(offset)
        sample = fh.read(4).hex(" ")
    raise FramingError(
        f"{path.name}: line {_line_of(path, offset)}: bytes at offset {offset} ({sample}) do not decode as {tried}; "
        "the file was not ingested"
    )


# --- header matching ---------------------------------------------------------------------------


def _match_header(
    path: Path, spec: FileSpec, header: list[str], where: str
) -> tuple[dict[str, int], list[str]]:
    """Map canonical column -> position; fail on a missing required column, warn on extras."""
    cells = [h.strip().lstrip("\ufeff") for h in header]
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if cell in seen and cell in spec.columns:
            raise FramingError(f"{path.name}: {where}: column '{cell}' appears twice in the header")
        seen.setdefault(cell, i)
    if not any(name in seen for name in spec.columns):
        raise FramingError(
            f"{path.name}: {where}: the header does not match table {spec.table} "
            f"(expected {list(spec.columns)}, found {cells})"
        )
    missing = [name for name, col in spec.columns.items() if col.required and name not in seen]
    if missing:
        raise FramingError(
            f"{path.name}: {where}: missing required column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{m}'" for m in missing)
            + f" (table {spec.table})"
        )
    warnings = []
    extras = [c for c in cells if c not in spec.columns]
    if extras:
        warnings.append(f"{path.name}: extra columns not loaded: {extras}")
    absent = [name for name in spec.columns if name not in seen]
    if absent:
        warnings.append(f"{path.name}: optional columns absent, loaded as blank: {absent}")
    positions = {col.name: seen[name] for name, col in spec.columns.items() if name in seen}
    return positions, warnings


class _StageWriter:
    """Buffers rows and writes them to one Parquet file in batches, all columns as strings."""

    def __init__(self, target: Path, spec: FileSpec, positions: dict[str, int]):
        self.names = [c.name for c in spec.columns.values()]
        self.positions = positions
        self.schema = pa.schema([(n, pa.string()) for n in self.names] + [("_line", pa.int64())])
        target.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(target, self.schema, compression="zstd")
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        self.count = 0

    def add(self, row: list[str], line: int) -> None:
        self.rows.append(row)
        self.lines.append(line)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def add_columns(self, columns: Sequence[pa.Array] | Mapping[int, pa.Array], lines: pa.Array) -> None:
        """Write rows given as columns by their position in the file, with their line numbers."""
        n = len(lines)
        arrays = [
            columns[self.positions[name]] if name in self.positions else pa.nulls(n, pa.string())
            for name in self.names
        ]
        self.writer.write_table(pa.Table.from_arrays([*arrays, lines], schema=self.schema))
        self.count += n

    def flush(self) -> None:
        if not self.rows:
            return
        transposed = list(zip(*self.rows, strict=True))
        columns = {i: pa.array(transposed[i], pa.string()) for i in set(self.positions.values())}
        self.add_columns(columns, pa.array(self.lines, pa.int64()))
        self.rows, self.lines = [], []

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.count


# --- CSV -----------------------------------------------------------------------------------------


def _frame_csv(path: Path, spec: FileSpec, staged: Path, rejects: Path) -> Framed:
    encoding, warnings, cut = detect_encoding(path, spec.encoding or "utf-8")
    out = Framed(encoding=encoding, warnings=warnings, header_line=spec.header_row)
    bad: list[Reject] = []
    blank_lines = 0
    errors = "backslashreplace" if cut else "strict"  # only the cut-off character does not decode
    with path.open(encoding=encoding, errors=errors, newline="") as fh:
        reader = csv.reader(fh)
        header: list[str] = []
        for _ in range(spec.header_row):
            header = next(reader, [])
        if not header:
            raise FramingError(f"{path.name}: line {spec.header_row}: no header row")
        if cut and reader.line_num >= _physical_lines(path):
            raise FramingError(
                f"{path.name}: line {reader.line_num}: the file ends in its header, cut off inside a "
                f"character ({_bytes(cut)} of an incomplete {encoding} character); no row to ingest"
            )
        positions, header_warnings = _match_header(
            path, spec, header, f"line {reader.line_num} (read as {encoding})"
        )
        out.warnings += header_warnings
        width = len(header)
        staged_rows = None
        if not cut and reader.line_num == spec.header_row and width > 1:
            staged_rows = _stage_with_arrow(path, encoding, spec, positions, width, staged)
        if staged_rows is None:
            cut_off = functools.partial(_cut_off, path, encoding, errors, cut, width)
            staged_rows, bad, blank_lines = _stage_line_by_line(
                reader, spec, positions, width, staged, cut_off
            )
        out.rows_staged = staged_rows
    if blank_lines:
        out.warnings.append(f"{path.name}: {blank_lines} blank line(s) skipped")
    if bad and bad[-1][2] == "truncated_line":
        out.warnings.append(
            f"{path.name}: line {bad[-1][0]}, the last, is cut off (an interrupted transfer?): "
            f"quarantined as truncated_line, the complete lines before it are loaded"
        )
    if bad:
        _write_rejects(path, encoding, errors, bad, rejects)
        for _, _, reason, _ in bad:
            out.rejected[reason] = out.rejected.get(reason, 0) + 1
    out.rows_read = out.rows_staged + len(bad)
    if out.rows_read == 0:
        out.warnings.append(f"{path.name}: the file has a header but no data rows")
    return out


def _stage_line_by_line(
    reader: _csv.Reader,
    spec: FileSpec,
    positions: dict[str, int],
    width: int,
    staged: Path,
    cut_off: Callable[[int, int], str | None],
) -> tuple[int, list[Reject], int]:
    """Stage the rows after the header with Python's csv reader: (rows staged, rejects, blank lines).

    ``cut_off(first, last)`` says why the last record (lines first..last) is cut off, or None.
    """
    bad: list[Reject] = []
    blank_lines = 0
    writer = _StageWriter(staged, spec, positions)
    add_row, add_line = writer.rows.append, writer.lines.append  # the hot loop avoids method calls
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_num = reader.line_num
            bad.append((prev + 1, max(line_num, prev + 1), "malformed_row", f"CSV error: {exc}"))
            if line_num <= prev:
                break
            prev = line_num
            continue
        line = prev + 1
        prev = reader.line_num
        if len(row) == width:
            if len(writer.rows) >= BATCH_ROWS:  # before an add, so the last row is still buffered
                writer.flush()
                add_row, add_line = writer.rows.append, writer.lines.append
            add_row(row)
            add_line(line)
        elif not row:
            blank_lines += 1
        else:
            bad.append((line, prev, "wrong_field_count", f"{len(row)} fields, the header has {width}"))
    last = max(writer.lines[-1:] + [b[0] for b in bad[-1:]], default=0)  # the last record's first line
    detail = cut_off(last, reader.line_num) if last else None
    if detail is not None:  # the last record is rejected as cut off, whether staged or rejected so far
        if writer.lines and writer.lines[-1] == last:
            writer.rows.pop()
            writer.lines.pop()
        else:
            bad.pop()
        bad.append((last, reader.line_num, "truncated_line", detail))
    return writer.close(), bad, blank_lines


def _cut_off(
    path: Path, encoding: str, errors: str, cut: int, width: int, first: int, last: int
) -> str | None:
    """Why the file's last record, on lines ``first``..``last``, was cut off (None if it is complete).

    Cut off: the file ends inside a character (``cut`` bytes of it), or inside a quoted field, or
    without a newline after fewer fields than the header's ``width``. A last line without a newline
    that is otherwise complete is an ordinary row: many exports end that way.
    """
    data = _last_lines(path, last - first + 1)
    newline = data.endswith((b"\n", b"\r"))
    size = len(data.rstrip(b"\r\n").rsplit(b"\n", 1)[-1])
    text = data.decode(encoding, errors)
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    fields = len(rows[-1]) if rows else 0
    ends = f"the last line ends without a newline after {size} bytes"
    if cut:
        return f"{ends}, mid-character ({_bytes(cut)} of an incomplete {encoding} character; {fields} of {width} fields)"
    if _ends_in_open_quote(text):
        where = ends if not newline else f"the last line ({size} bytes) ends"
        return f"{where} inside a quoted field that is never closed (the record starts on line {first})"
    if not newline and fields < width:
        return f"{ends}, with {fields} of {width} fields"
    return None


def _bytes(n: int) -> str:
    return f"{n} byte{'s' if n != 1 else ''}"


def _ends_in_open_quote(text: str) -> bool:
    """Whether ``text`` ends inside a quoted field. Python's csv reader (like Arrow's) silently closes
    such a field at the end of the input; a marker line appended joins the open field instead of
    being a row of its own."""
    if '"' not in text:
        return False
    lines = io.StringIO(text, newline="").readlines()
    return sum(1 for _ in csv.reader([*lines, EOF_MARK])) == sum(1 for _ in csv.reader(lines))


def _last_lines(path: Path, n: int) -> bytes:
    """The bytes of the last ``n`` lines of ``path``, with their line breaks."""
    with path.open("rb") as fh:
        pos = fh.seek(0, io.SEEK_END)
        chunks: list[bytes] = []
        breaks = 0
        while pos > 0:
            step = min(CHUNK, pos)
            pos -= step
            fh.seek(pos)
            chunk = fh.read(step)
            breaks += chunk.count(b"\n", 0, len(chunk) - (not chunks and chunk.endswith(b"\n")))
            chunks.append(chunk)
            if breaks >= n:
                break
    data = b"".join(reversed(chunks))
    end = len(data) - data.endswith(b"\n")
    for _ in range(n):
        end = data.rfind(b"\n", 0, end)
        if end < 0:
            return data
    return data[end + 1 :]


def _stage_with_arrow(
    path: Path, encoding: str, spec: FileSpec, positions: dict[str, int], width: int, staged: Path
) -> int | None:
    """Stage the rows with Arrow's CSV reader (C++, outside the GIL): the rows staged, or None
    when the file needs the line-by-line reader.

    Only a regular file qualifies: each row one physical line of ``width`` fields, no blank line.
    Then a row's line number is its position after the header. Anything else (a blank line, a
    row of another width, a quoted line break) leaves the line-by-line reader to report it.
    """
    import pyarrow.csv as pacsv

    if encoding not in {"utf-8", "utf-8-sig"} | GB_FAMILY:  # newline bytes stand alone only in these
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                skip_rows=spec.header_row, column_names=names, encoding=encoding, block_size=CHUNK * 16
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        writer = _StageWriter(staged, spec, positions)
        try:
            for batch in reader:
                first = spec.header_row + 1 + writer.count
                writer.add_columns(batch.columns, pa.array(range(first, first + batch.num_rows), pa.int64()))
        finally:
            rows = writer.close()
    except pa.ArrowInvalid:  # a row of another width
        staged.unlink(missing_ok=True)
        return None
    if spec.header_row + rows != _physical_lines(path):  # a blank line (skipped), a quoted line break
        staged.unlink()
        return None
    if _ends_in_open_quote(_last_lines(path, 1).decode(encoding)):  # Arrow closes it silently
        staged.unlink()
        return None
    return rows


def _physical_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK * 16):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _write_rejects(path: Path, encoding: str, errors: str, bad: list[Reject], target: Path) -> None:
    """Rejected records keep their original text, read back from the file (the bytes of a cut-off
    character as ``\\xNN`` escapes)."""
    wanted = {ln: i for i, (first, last, _, _) in enumerate(bad) for ln in range(first, last + 1)}
    texts = [""] * len(bad)
    with path.open(encoding=encoding, errors=errors, newline="") as fh:
        for number, text in enumerate(fh, start=1):
            if number in wanted:
                texts[wanted[number]] += text
    table = pa.table(
        {
            "_line": [b[0] for b in bad],
            "raw": [t.rstrip("\r\n") for t in texts],
            "reason": [b[2] for b in bad],
            "column": [None] * len(bad),
            "detail": [b[3] for b in bad],
        },
        schema=REJECT_SCHEMA,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target)


# --- XLSX ----------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame_xlsx(path: Path, spec: FileSpec, staged: Path) -> Framed:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FramingError(f"{path.name}: not a readable Excel workbook: {exc}") from None
    try:
        if spec.sheet not in book.sheetnames:
            raise FramingError(f"{path.name}: no sheet '{spec.sheet}' (the workbook has {book.sheetnames})")
        rows: Iterator[tuple] = book[spec.sheet].iter_rows(values_only=True)
        head = [list(r) for _, r in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
        header_index = _find_header(path, spec, head)
        out = Framed(header_line=header_index + 1)
        if header_index + 1 != spec.header_row:
            out.warnings.append(
                f"{path.name}: sheet {spec.sheet}: header found on row {header_index + 1}, "
                f"declared row {spec.header_row} (title row missing or added)"
            )
        header = [_cell_text(c) for c in head[header_index]]
        positions, warnings = _match_header(path, spec, header, f"sheet {spec.sheet} row {header_index + 1}")
        out.warnings += warnings
        width = len(header)
        writer = _StageWriter(staged, spec, positions)
        body: Iterable[tuple | list] = [*head[header_index + 1 :], *[]]
        for number, row in enumerate(_chain(body, rows), start=header_index + 2):
            cells = [_cell_text(c) for c in row[:width]]
            if not any(c.strip() for c in cells):
                continue
            cells += [""] * (width - len(cells))
            writer.add(cells, number)
        out.rows_staged = out.rows_read = writer.close()
        return out
    finally:
        book.close()


def _chain(first: Iterable, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _find_header(path: Path, spec: FileSpec, head: list[list]) -> int:
    expected = set(spec.columns)
    scores = [sum(1 for c in row if isinstance(c, str) and c.strip() in expected) for row in head]
    if not scores or max(scores) == 0:
        raise FramingError(
            f"{path.name}: sheet {spec.sheet}: no header row among the first {HEADER_SEARCH_ROWS} rows "
            f"(expected columns {list(spec.columns)})"
        )
    return scores.index(max(scores))
