"""The typed model of a feed file.

A feed (``feeds/<feed>.yml``) is one agency export. It holds one or more file kinds; each
file kind lands as one table. The model is the contract between data engineers and the
ingest engine: a broken feed file fails here with the file and the field named.

Feed files are loaded one by one (:func:`load_feeds` returns a :class:`FeedSet`): a broken file
is reported with its file, field and message, and the other feeds load, so that one bad file
cannot take the other feeds' DAGs, the cross-match or ``qingfeng ingest`` down.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import enum
import logging
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from qingfeng.feeds.mentions import MentionDecl, mention_problems

log = logging.getLogger(__name__)

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# The named group of a file pattern that carries the period of a delivery: a year, a month or a day.
PERIOD_GROUP = "period"
PERIOD_SHAPES = {4: "year", 6: "month", 8: "day"}
_PERIOD_ALTERNATIVE = re.compile(r"^(?:\\d|\[0-9\])\{([468])\}$")
DEFAULT_MAX_SHRINK = 0.10


def period_of_digits(digits: str) -> tuple[dt.date, dt.date] | None:
    """``2023`` -> the year, ``202302`` -> the month, ``20231231`` -> the day; None if not a date."""
    if not digits.isdigit() or len(digits) not in PERIOD_SHAPES:
        return None
    try:
        year = int(digits[:4])
        if len(digits) == 4:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        month = int(digits[4:6])
        if len(digits) == 6:
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        day = dt.date(year, month, int(digits[6:8]))
    except ValueError:
        return None
    return day, day


def period_group_source(pattern: str) -> str | None:
    """The text of the ``(?P<period>…)`` group of a pattern (None when it has none)."""
    start = pattern.find(f"(?P<{PERIOD_GROUP}>")
    if start < 0:
        return None
    body = start + len(f"(?P<{PERIOD_GROUP}>")
    depth, i, in_class = 1, body, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pattern[body:i]
        i += 1
    return pattern[body:]


def _check_period_group(pattern: str) -> None:
    """A period group is ``\\d{4}``, ``\\d{6}`` or ``\\d{8}``, or an alternation of them."""
    source = period_group_source(pattern)
    if source is None:
        return
    shapes = [_PERIOD_ALTERNATIVE.match(alt) for alt in source.split("|")]
    if not all(shapes) or len({m.group(1) for m in shapes if m}) != len(shapes):
        raise ValueError(
            f"the period group (?P<period>{source}) must be \\d{{4}} (a year), \\d{{6}} (a month) or "
            f"\\d{{8}} (a day), or an alternation of them such as (?P<period>\\d{{4}}|\\d{{6}})"
        )


def _check_fraction(v: Any) -> Any:
    """``max_shrink``: a number from 0 to 1 (checked before pydantic turns ``yes`` or ``"0.1"`` into one)."""
    if v is None:
        return v
    if isinstance(v, str) and v.strip().endswith("%"):
        raise ValueError(f"max_shrink {v!r}: write a fraction, e.g. 0.1 for 10%")
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ValueError(
            f"max_shrink {v!r} is not a fraction between 0 and 1 (0.1: a delivery may have up to 10% fewer"
            " accepted rows than the one it replaces)"
        )
    return v


# A validator's error about one field of the model it validates: the loader appends the field to
# the error's location, so that the problem names e.g. ``files.0.sheet`` rather than ``files.0``.
FIELD_ERROR = "feed_field"


def _field_error(name: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(FIELD_ERROR, "{field}: {detail}", {"field": name, "detail": message})


# Several such errors at once: each becomes a problem of its own field.
FIELDS_ERROR = "feed_fields"


def _fields_error(problems: list[tuple[str, str]]) -> PydanticCustomError:
    text = "; ".join(f"{name}: {message}" for name, message in problems)
    return PydanticCustomError(FIELDS_ERROR, "{detail}", {"detail": text, "problems": problems})


@dataclass(frozen=True)
class FeedProblem:
    """One problem of one feed file: the file, where in it (``files.0.columns.身份证号.type``; empty
    for the whole file), and what is wrong. Warnings (``qingfeng feeds check`` only) do not fail."""

    file: Path
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}: {where}{self.message}"


class FeedFileError(ValueError):
    """A feed file that does not describe a valid feed."""

    def __init__(self, message: str, problems: Iterable[FeedProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class ColumnType(StrEnum):
    string = "string"
    enum = "enum"
    resident_id = "resident_id"  # GB 11643; 15-digit upgraded, lowercase x upper-cased
    credit_code = "credit_code"  # GB 32100 unified social credit code
    party_id = "party_id"  # a resident ID or a credit code (lessees, shareholders)
    date = "date"  # any of 2023-05-10, 2023/5/10, 20230510, 2023年5月10日, Excel dates
    month = "month"  # YYYYMM -> first day of month
    money = "money"  # "2,846.00" -> decimal(18,2)
    bank_account = "bank_account"  # digits only: spaces, hyphens, full-width digits, Excel's ' removed
    decimal = "decimal"
    int = "int"


ID_TYPES = frozenset({ColumnType.resident_id, ColumnType.credit_code, ColumnType.party_id})


class OnInvalid(StrEnum):
    quarantine = "quarantine"  # the row goes to quarantine with a reason naming the column
    keep = "keep"  # the row is accepted; the raw value and a status column are kept for a later stage


def output_columns_of(columns: Iterable[ColumnSpec]) -> list[str]:
    out: list[str] = []
    for col in columns:
        out.append(col.name)
        if col.type in ID_TYPES:
            out += [f"{col.name}_raw", f"{col.name}_status"]
    return out


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'columns'?)`` when a known word is close to ``word``."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="canonical snake_case name")
    type: ColumnType = ColumnType.string
    required: bool = Field(default=True, description="the header must be present in the file")
    nullable: bool = Field(default=True, description="a blank value is allowed")
    on_invalid: OnInvalid = OnInvalid.quarantine
    values: list[str] | None = Field(default=None, description="allowed values, for type enum")
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not SNAKE.match(v):
            raise ValueError(f"canonical column name {v!r} is not snake_case")
        return v

    @model_validator(mode="after")
    def _enum_has_values(self) -> ColumnSpec:
        if self.type is ColumnType.enum and not self.values:
            raise _field_error("values", f"column {self.name!r} is an enum but lists no values")
        return self


class RowCheck(BaseModel):
    """A row-level rule: rows where ``when`` (a Spark SQL predicate) holds are quarantined."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    when: str
    column: str | None = None
    description: str | None = None

    @field_validator("reason")
    @classmethod
    def _reason_snake(cls, v: str) -> str:
        if not SNAKE.match(v):
            raise ValueError(f"quarantine reason {v!r} is not snake_case")
        return v


class ExtraExpectation(BaseModel):
    """A GX expectation the feed file cannot otherwise say, added to the table's generated suite
    (:mod:`qingfeng.feeds.suite`), e.g. ``{type: expect_column_values_to_be_between, kwargs:
    {column: bidder_count, min_value: 0}}``."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="a GX 1.x expectation type, e.g. expect_column_values_to_be_between")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    severity: Literal["error", "warning"] = Field(
        default="error", description="error fails the feed's ingest; warning is reported"
    )
    notes: str | None = None


class FileSpec(BaseModel):
    """One file kind of a feed, landing as one table."""

    model_config = ConfigDict(extra="forbid")

    table: str
    title: str | None = None
    pattern: str = Field(
        description="regular expression matched against the whole file name; a group "
        "(?P<period>\\d{4}|\\d{6}|\\d{8}) names the year, month or day the delivery covers"
    )
    format: Literal["csv", "xlsx"] = "csv"
    encoding: str | None = Field(
        default=None, description="declared encoding of a csv; detected when it lies"
    )
    sheet: str | None = None
    header_row: Annotated[int, Field(ge=1)] = 1
    columns: dict[str, ColumnSpec]
    keys: list[str] = Field(default_factory=list)
    checks: list[RowCheck] = Field(default_factory=list)
    expectations: list[ExtraExpectation] = Field(
        default_factory=list,
        description="GX expectations beyond those generated from the columns, keys and checks",
    )
    examples: list[str] = Field(
        default_factory=list,
        description="real file names of this kind; `qingfeng feeds check` runs the pattern against them",
    )
    max_shrink: float | None = Field(
        default=None,
        description="a superseding delivery with more than this fraction fewer accepted rows is held; "
        "default the feed's",
    )
    coverage: list[str] = Field(
        default_factory=list,
        description="columns whose values must all still be present in a superseding delivery",
    )
    mentions: list[MentionDecl] = Field(
        default_factory=list,
        description="the columns that name a person, for the resolve stage (docs/feeds.md, section 1)",
    )
    bounds_as_of: bool = Field(
        default=True,
        description="whether the table's latest period bounds the cross-match's as-of date; false for a "
        "signal no rule judges as of a date (petitions), so that a late delivery holds nothing back",
    )

    @field_validator("table")
    @classmethod
    def _table_snake(cls, v: str) -> str:
        if not SNAKE.match(v):
            raise ValueError(f"table name {v!r} is not snake_case")
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern {v!r} is not a regular expression: {exc}") from exc
        _check_period_group(v)
        return v

    @field_validator("max_shrink", mode="before")
    @classmethod
    def _shrink_fraction(cls, v: Any) -> Any:
        return _check_fraction(v)

    @field_validator("columns")
    @classmethod
    def _canonical_names_unique(cls, v: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        declared = [c.name for c in v.values()]
        dupes = {n for n in declared if declared.count(n) > 1}
        if dupes:
            raise ValueError(f"canonical names used twice: {sorted(dupes)}")
        return v

    @field_validator("keys")
    @classmethod
    def _keys_declared(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if "columns" not in info.data:  # the columns are broken: reported on their own
            return v
        names = output_columns_of(info.data["columns"].values())
        unknown = [key for key in v if key not in names]
        if unknown:
            raise ValueError(
                "; ".join(
                    f"key {key!r} is not a declared column{did_you_mean(key, names)}" for key in unknown
                )
            )
        return v

    @field_validator("coverage")
    @classmethod
    def _coverage_declared(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if "columns" not in info.data:
            return v
        names = output_columns_of(info.data["columns"].values())
        problems = [
            f"coverage column {c!r} is not a declared column{did_you_mean(c, names)}"
            for c in v
            if c not in names
        ]
        problems += [
            f"coverage column {c!r} is listed twice" for c in sorted({c for c in v if v.count(c) > 1})
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @field_validator("checks")
    @classmethod
    def _check_columns_declared(cls, v: list[RowCheck], info: ValidationInfo) -> list[RowCheck]:
        if "columns" not in info.data:
            return v
        names = output_columns_of(info.data["columns"].values())
        unknown = [
            f"checks.{i} ({check.reason}): column {check.column!r} is not a declared column"
            f"{did_you_mean(check.column, names)}"
            for i, check in enumerate(v)
            if check.column and check.column not in names
        ]
        if unknown:
            raise ValueError("; ".join(unknown))
        return v

    @field_validator("mentions")
    @classmethod
    def _mentions_declared(cls, v: list[MentionDecl], info: ValidationInfo) -> list[MentionDecl]:
        if "columns" not in info.data:
            return v
        problems = mention_problems(v, {c.name: c.type.value for c in info.data["columns"].values()})
        if problems:
            raise _fields_error(problems)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FileSpec:
        if self.format == "xlsx" and not self.sheet:
            raise _field_error("sheet", f"table {self.table}: an xlsx file kind must name its sheet")
        if self.format == "csv" and not self.encoding:
            raise _field_error("encoding", f"table {self.table}: a csv file kind must declare its encoding")
        return self

    @property
    def output_columns(self) -> list[str]:
        """Canonical columns of the landed table (ID columns also keep ``_raw`` and ``_status``)."""
        return output_columns_of(self.columns.values())

    def matches(self, file_name: str) -> bool:
        return re.fullmatch(self.pattern, file_name) is not None

    @property
    def has_period(self) -> bool:
        return PERIOD_GROUP in re.compile(self.pattern).groupindex

    def period_digits(self, file_name: str) -> str | None:
        """The digits the ``period`` group matched in ``file_name`` (None without a period)."""
        match = re.fullmatch(self.pattern, file_name)
        if match is None or PERIOD_GROUP not in match.re.groupindex:
            return None
        return match.group(PERIOD_GROUP)

    def period_of(self, file_name: str) -> tuple[dt.date, dt.date] | None:
        """The first and last day the file covers, from the ``period`` group of the pattern:
        ``2023`` -> 2023-01-01..2023-12-31, ``202302`` -> 2023-02-01..2023-02-28, ``20231231`` ->
        that day. None when the pattern has no period group, the name does not match, or the
        digits are not a date (``202313``)."""
        digits = self.period_digits(file_name)
        return period_of_digits(digits) if digits else None

    def column_by_name(self, name: str) -> ColumnSpec:
        for col in self.columns.values():
            if col.name == name:
                return col
        raise KeyError(name)


class FeedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feed: str
    title: str
    agency: str | None = None
    schedule: str | None = Field(default="@daily", description="Airflow schedule of the ingest DAG")
    description: str | None = None
    max_shrink: float = Field(
        default=DEFAULT_MAX_SHRINK,
        description="a superseding delivery with more than this fraction fewer accepted rows is held",
    )
    files: list[FileSpec] = Field(min_length=1)

    @field_validator("feed")
    @classmethod
    def _feed_snake(cls, v: str) -> str:
        if not SNAKE.match(v):
            raise ValueError(f"feed name {v!r} is not snake_case")
        return v

    @field_validator("max_shrink", mode="before")
    @classmethod
    def _shrink_fraction(cls, v: Any) -> Any:
        return _check_fraction(v)

    def shrink_limit(self, spec: FileSpec) -> tuple[float, str]:
        """The ``max_shrink`` of a file kind (its own, else the feed's) and whose it is."""
        if spec.max_shrink is not None:
            return spec.max_shrink, f"table {spec.table}'s"
        return self.max_shrink, "the feed's"

    @property
    def tables(self) -> list[str]:
        return [f.table for f in self.files]


@dataclass
class ParsedFeed:
    """One feed file, read and validated: its spec when valid, else its problems."""

    path: Path
    spec: FeedSpec | None
    problems: list[FeedProblem]
    data: Any = None  # the YAML document, when it parsed


def parse_feed(path: Path) -> ParsedFeed:
    """Read and validate one feed file; every problem is reported, none is raised."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return ParsedFeed(path, None, [FeedProblem(path, "", f"not UTF-8 text: {exc}")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        message = f"not valid YAML: {exc}".replace("\n", " ")
        return ParsedFeed(path, None, [FeedProblem(path, where, message)])
    except OSError as exc:
        return ParsedFeed(path, None, [FeedProblem(path, "", f"cannot be read: {exc}")])
    if not isinstance(data, dict):
        return ParsedFeed(
            path,
            None,
            [FeedProblem(path, "", "a feed file must be a mapping with 'feed', 'title' and 'files'")],
            data,
        )
    try:
        spec = FeedSpec.model_validate(data)
    except ValidationError as exc:
        return ParsedFeed(path, None, _problems(path, exc.errors(), data), data)
    if spec.feed != path.stem:
        problem = FeedProblem(path, "feed", f"feed name {spec.feed!r} must equal the file name {path.stem!r}")
        return ParsedFeed(path, None, [problem], data)
    return ParsedFeed(path, spec, [], data)


def load_feed(path: Path) -> FeedSpec:
    parsed = parse_feed(path)
    if parsed.spec is None:
        raise FeedFileError(_describe(path, parsed.problems), parsed.problems)
    return parsed.spec


def _describe(path: Path, problems: list[FeedProblem]) -> str:
    lines = [f"{path}: invalid feed file"]
    lines += [f"  {p.field}: {p.message}" if p.field else f"  {p.message}" for p in problems]
    return "\n".join(lines)


class FeedSet(list[FeedSpec]):
    """The valid feeds of a folder (a list, in file name order) and the problems of the others."""

    def __init__(
        self,
        folder: Path,
        feeds: Iterable[FeedSpec],
        problems: Iterable[FeedProblem],
        parsed: Iterable[ParsedFeed],
    ) -> None:
        super().__init__(feeds)
        self.folder = folder
        self.problems = list(problems)
        self.parsed = list(parsed)

    @property
    def broken(self) -> dict[Path, list[FeedProblem]]:
        """The files that did not load, with their problems."""
        out: dict[Path, list[FeedProblem]] = {}
        for problem in self.problems:
            out.setdefault(problem.file, []).append(problem)
        return out

    def broken_feed_for(self, file_name: str) -> Path | None:
        """The broken feed file whose (still readable) pattern claims ``file_name``, if any: its
        deliveries cannot be ingested until the feed file is fixed."""
        for parsed in self.parsed:
            if parsed.path not in self.broken:
                continue
            for pattern in _raw_patterns(parsed.data):
                if re.fullmatch(pattern, file_name):
                    return parsed.path
        return None

    def report(self) -> str:
        """The problems as one message (the Airflow import error of ``dags/feed_errors.py``)."""
        lines = [
            f"broken feed files in {self.folder} ({len(self.problems)} problem(s)): their ingest DAGs are "
            "not loaded, the other feeds' DAGs are:"
        ]
        lines += [f"  {p}" for p in self.problems]
        lines.append("Fix the file(s), then check them with `qingfeng feeds check`.")
        return "\n".join(lines)


def _raw_patterns(data: Any) -> list[str]:
    items = data.get("files") if isinstance(data, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        pattern = item.get("pattern") if isinstance(item, dict) else None
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error:
                continue
            out.append(pattern)
    return out


def load_feeds(feeds_dir: Path, *, strict: bool = False, log_problems: bool = True) -> FeedSet:
    """Every feed of ``feeds_dir``, one file at a time.

    A broken file is left out and reported in ``FeedSet.problems`` (and logged); the others load.
    Two feeds that declare the same table are both left out: which one is wrong is not knowable
    here, and landing a table from the wrong feed is worse than not landing it. ``strict=True``
    raises :class:`FeedFileError` with every problem instead; ``log_problems=False`` is for
    callers that report the problems themselves.
    """
    feeds_dir = Path(feeds_dir)
    parsed: list[ParsedFeed] = []
    problems: list[FeedProblem] = []
    if not feeds_dir.is_dir():
        problems.append(FeedProblem(feeds_dir, "", "the feeds folder does not exist (QINGFENG_FEEDS_DIR)"))
    else:
        # hidden files are editors' and deployers' temporary files (.#x.yml), not feeds
        parsed = [parse_feed(p) for p in sorted(feeds_dir.glob("*.yml")) if not p.name.startswith(".")]
        problems += [
            FeedProblem(p, "", "feed files end in .yml: this file is not read; rename it")
            for p in sorted(feeds_dir.glob("*.yaml"))
            if not p.name.startswith(".")
        ]
    for item in parsed:
        problems += item.problems
    owners: dict[str, list[tuple[ParsedFeed, int]]] = {}
    for item in parsed:
        for i, spec in enumerate(item.spec.files if item.spec else []):
            owners.setdefault(spec.table, []).append((item, i))
    clashing: set[Path] = set()
    for table, claims in owners.items():
        if len(claims) < 2:
            continue
        names = " and ".join(item.spec.feed for item, _ in claims if item.spec)
        for item, i in claims:
            clashing.add(item.path)
            problems.append(
                FeedProblem(item.path, f"files.{i}.table", f"table {table!r} is declared by both {names}")
            )
    if problems and strict:
        raise FeedFileError("\n".join(str(p) for p in problems), problems)
    for problem in problems if log_problems else []:
        log.warning("feed file left out: %s", problem)
    feeds = [item.spec for item in parsed if item.spec is not None and item.path not in clashing]
    return FeedSet(feeds_dir, feeds, problems, parsed)


# ---- turning pydantic's errors into problems that name the field and suggest the right word ----


def _problems(path: Path, errors: list[Any], data: Any = None) -> list[FeedProblem]:
    """One problem per error, except that a required key that is missing because it is misspelt
    is one problem (``unknown key 'colums' (did you mean 'columns'?)``), not two. A problem of a
    file kind's ``mentions`` also names the feed and the table (``feed toy, table toy_visit: …``)."""
    misspelt = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            parent = _model_at(tuple(err["loc"][:-1]))
            close = difflib.get_close_matches(
                str(err["loc"][-1]), list(parent.model_fields) if parent else [], 1, 0.6
            )
            misspelt |= {(*err["loc"][:-1], close[0])} if close else set()
    return [
        _in_mentions(_problem(path, one), data)
        for err in errors
        if not (err["type"] == "missing" and tuple(err["loc"]) in misspelt)
        for one in _each_field(err)
    ]


def _each_field(err: Any) -> list[Any]:
    """A validator's error about several fields (``FIELDS_ERROR``), as one error per field."""
    if err["type"] != FIELDS_ERROR:
        return [err]
    return [
        {**err, "type": FIELD_ERROR, "ctx": {"field": name, "detail": message}}
        for name, message in err["ctx"]["problems"]
    ]


def _in_mentions(problem: FeedProblem, data: Any) -> FeedProblem:
    parts = problem.field.split(".")
    if len(parts) < 3 or parts[0] != "files" or parts[2] != "mentions" or not parts[1].isdigit():
        return problem
    files = data.get("files") if isinstance(data, dict) else None
    item = files[int(parts[1])] if isinstance(files, list) and int(parts[1]) < len(files) else None
    table = item.get("table") if isinstance(item, dict) else None
    feed = data.get("feed") if isinstance(data, dict) else None
    where = f"feed {feed or problem.file.stem}, table {table or '?'}"
    return FeedProblem(problem.file, problem.field, f"{where}: {problem.message}", problem.severity)


def _problem(path: Path, err: Any) -> FeedProblem:
    loc = tuple(err["loc"])
    message = str(err["msg"])
    kind = err["type"]
    if kind == FIELD_ERROR:
        loc, message = (*loc, err["ctx"]["field"]), str(err["ctx"]["detail"])
    elif kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _model_at(loc[:-1])
        names = list(parent.model_fields) if parent else []
        hint = did_you_mean(key, names) or (f" (known keys: {', '.join(names)})" if names else "")
        message = f"unknown key {key!r}{hint}"
    elif kind == "enum":
        choices = _enum_at(loc)
        value = err.get("input")
        what = "column type" if choices is not None and choices is ColumnType else "value"
        values = [str(m.value) for m in choices] if choices else []
        hint = did_you_mean(str(value), values) if values else ""
        message = f"unknown {what} {value!r}{hint}; known: {', '.join(values)}" if values else message
    elif kind == "missing":
        message = "required field is missing"
    message = message.removeprefix("Value error, ")
    return FeedProblem(path, ".".join(str(p) for p in loc), message)


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside an annotation, and whether it is the item of a list or dict."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    for arg in typing.get_args(annotation):
        model, _ = _model_in(arg)
        if model is not None:
            return model, origin in (list, dict)
    return None, False


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model validating the mapping at ``loc`` of a feed document (``files.0.columns.编号``)."""
    model: type[BaseModel] | None = FeedSpec
    pending = False  # the next part is a list index or a dict key
    for part in loc:
        if pending:
            pending = False
            continue
        if model is None or part not in model.model_fields:
            return None
        model, pending = _model_in(model.model_fields[part].annotation)
    return None if pending else model


def _enum_at(loc: tuple[Any, ...]) -> type[enum.Enum] | None:
    model = _model_at(loc[:-1])
    if model is None or loc[-1] not in model.model_fields:
        return None
    annotation = model.model_fields[loc[-1]].annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, enum.Enum) else None
