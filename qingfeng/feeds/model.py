"""The typed model of a feed file.

A feed (``feeds/<feed>.yml``) is one agency export. It holds one or more file kinds; each
file kind lands as one table. The model is the contract between data engineers and the
ingest engine: a broken feed file fails here with the file and the field named.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class FeedFileError(ValueError):
    """A feed file that does not describe a valid feed."""


class ColumnType(StrEnum):
    string = "string"
    enum = "enum"
    resident_id = "resident_id"  # GB 11643; 15-digit upgraded, lowercase x upper-cased
    credit_code = "credit_code"  # GB 32100 unified social credit code
    party_id = "party_id"  # a resident ID or a credit code (lessees, shareholders)
    date = "date"  # any of 2023-05-10, 2023/5/10, 20230510, 2023年5月10日, Excel dates
    month = "month"  # YYYYMM -> first day of month
    money = "money"  # "2,846.00" -> decimal(18,2)
    decimal = "decimal"
    int = "int"


ID_TYPES = frozenset({ColumnType.resident_id, ColumnType.credit_code, ColumnType.party_id})


class OnInvalid(StrEnum):
    quarantine = "quarantine"  # the row goes to quarantine with a reason naming the column
    keep = "keep"  # the row is accepted; the raw value and a status column are kept for a later stage


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
            raise ValueError(f"column {self.name!r} is an enum but lists no values")
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


class FileSpec(BaseModel):
    """One file kind of a feed, landing as one table."""

    model_config = ConfigDict(extra="forbid")

    table: str
    title: str | None = None
    pattern: str = Field(description="regular expression matched against the whole file name")
    format: Literal["csv", "xlsx"] = "csv"
    encoding: str | None = Field(
        default=None, description="declared encoding of a csv; detected when it lies"
    )
    sheet: str | None = None
    header_row: Annotated[int, Field(ge=1)] = 1
    columns: dict[str, ColumnSpec]
    keys: list[str] = Field(default_factory=list)
    checks: list[RowCheck] = Field(default_factory=list)
    expectation_suite: str | None = None

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
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FileSpec:
        declared = [c.name for c in self.columns.values()]
        dupes = {n for n in declared if declared.count(n) > 1}
        if dupes:
            raise ValueError(f"table {self.table}: canonical names used twice: {sorted(dupes)}")
        names = self.output_columns
        for key in self.keys:
            if key not in names:
                raise ValueError(f"table {self.table}: key {key!r} is not a declared column")
        for check in self.checks:
            if check.column and check.column not in names:
                raise ValueError(
                    f"table {self.table}: check {check.reason} names unknown column {check.column!r}"
                )
        if self.format == "xlsx" and not self.sheet:
            raise ValueError(f"table {self.table}: an xlsx file kind must name its sheet")
        if self.format == "csv" and not self.encoding:
            raise ValueError(f"table {self.table}: a csv file kind must declare its encoding")
        return self

    @property
    def output_columns(self) -> list[str]:
        """Canonical columns of the landed table (ID columns also keep ``_raw`` and ``_status``)."""
        out: list[str] = []
        for col in self.columns.values():
            out.append(col.name)
            if col.type in ID_TYPES:
                out += [f"{col.name}_raw", f"{col.name}_status"]
        return out

    def matches(self, file_name: str) -> bool:
        return re.fullmatch(self.pattern, file_name) is not None

    @property
    def suite_name(self) -> str:
        return self.expectation_suite or self.table

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
    files: list[FileSpec] = Field(min_length=1)

    @field_validator("feed")
    @classmethod
    def _feed_snake(cls, v: str) -> str:
        if not SNAKE.match(v):
            raise ValueError(f"feed name {v!r} is not snake_case")
        return v

    @property
    def tables(self) -> list[str]:
        return [f.table for f in self.files]


def load_feed(path: Path) -> FeedSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FeedFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FeedFileError(f"{path}: a feed file must be a mapping with 'feed', 'title' and 'files'")
    try:
        spec = FeedSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: invalid feed file"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise FeedFileError("\n".join(lines)) from None
    if spec.feed != path.stem:
        raise FeedFileError(f"{path}: feed name {spec.feed!r} must equal the file name {path.stem!r}")
    return spec


def load_feeds(feeds_dir: Path) -> list[FeedSpec]:
    feeds = [load_feed(p) for p in sorted(feeds_dir.glob("*.yml"))]
    tables: dict[str, str] = {}
    for feed in feeds:
        for table in feed.tables:
            if table in tables:
                raise FeedFileError(f"table {table!r} is declared by both {tables[table]} and {feed.feed}")
            tables[table] = feed.feed
    return feeds
