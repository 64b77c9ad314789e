"""``qingfeng feeds check``: every feed file and its generated Great Expectations suites, without Spark.

What a data engineer runs before deploying a feed (docs/feeds.md). Every problem is reported
with its file, field and message; nothing stops at the first one. Checked:

- the feed file against the model (unknown keys with the nearest known key, unknown column
  types, keys and checks naming undeclared columns, …: :func:`qingfeng.feeds.model.parse_feed`);
- each row check's ``when``: Spark SQL syntax (parsed with sqlglot's ``spark`` dialect, not with
  Spark) and the columns it names;
- each table's suite, generated from the file kind (:mod:`qingfeng.feeds.suite`): GX accepts its
  ``expectations:`` (:func:`qingfeng.ingest.expectations.extra_problems`), and they name only
  columns the table lands;
- each file kind's ``pattern`` against its ``examples`` (and the file names of ``--samples DIR``):
  every example matches its own pattern and no other feed's, and the ``period`` group of the
  pattern (``(?P<period>\\d{4}|\\d{6}|\\d{8})``, its shape checked by the model) reads a real year,
  month or day from each example. ``max_shrink`` (0..1) and ``coverage`` (declared columns) of the
  shrink guard are checked by the model.

GX is imported (it is needed to parse a suite), pyspark is not: see :func:`without_pyspark`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qingfeng.feeds.model import FeedProblem, FileSpec, did_you_mean, load_feeds


def _visible_columns(spec: FileSpec) -> list[str]:
    """The columns a row check and a suite see: the table's own, provenance and ``file_id``."""
    from qingfeng.ingest.parse import PROVENANCE  # light: no pyspark at import

    return [*spec.output_columns, *PROVENANCE, "file_id"]


@dataclass
class CheckResult:
    feeds_dir: Path
    problems: list[FeedProblem] = field(default_factory=list)
    feeds: int = 0
    tables: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[FeedProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FeedProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_json(self) -> dict[str, Any]:
        return {
            "feeds_dir": str(self.feeds_dir),
            "feeds": self.feeds,
            "tables": self.tables,
            "seconds": round(self.seconds, 2),
            "notes": self.notes,
            "problems": [
                {"file": str(p.file), "field": p.field, "message": p.message, "severity": p.severity}
                for p in self.problems
            ],
        }


@dataclass
class _Kind:
    """One file kind to check: the feed file it is in, its place there, and its spec."""

    path: Path
    feed: str
    where: str  # "files.0"
    spec: FileSpec


def check_feeds(feeds_dir: Path, *, samples: Path | None = None) -> CheckResult:
    """Check the feed files of ``feeds_dir`` and the suites generated from them."""
    t0 = time.perf_counter()
    result = CheckResult(feeds_dir=feeds_dir)
    feedset = load_feeds(feeds_dir, log_problems=False)
    result.problems += feedset.problems
    kinds: list[_Kind] = []
    for parsed in feedset.parsed:
        if parsed.spec is not None:
            feed = parsed.spec.feed
            specs = list(enumerate(parsed.spec.files))
        else:  # a broken feed file: check the file kinds that are valid on their own
            feed = parsed.path.stem
            specs = list(_valid_file_kinds(parsed.data))
        kinds += [_Kind(parsed.path, feed, f"files.{i}", spec) for i, spec in specs]
    result.feeds = len(feedset.parsed)
    result.tables = len({k.spec.table for k in kinds})
    if not feedset.parsed and feeds_dir.is_dir():
        result.problems.append(FeedProblem(feeds_dir, "", "no feed files (*.yml) in this folder", "warning"))

    parser = _spark_sql_parser()
    if parser is None:
        result.notes.append("sqlglot is not installed: the Spark SQL syntax of row checks was not checked")
    for kind in kinds:
        result.problems += _check_row_checks(kind, parser)
    with _quiet("great_expectations"):  # it logs a traceback for each expectation it drops
        result.problems += _check_suites(kinds)
    if os.environ.get("QINGFENG_EXPECTATIONS_DIR"):
        result.notes.append(
            "QINGFENG_EXPECTATIONS_DIR is no longer read: each table's suite is generated from its feed "
            "file, and checks it cannot say go under the file kind's `expectations:` (docs/feeds.md)"
        )
    # a broken feed file's own problems are reported: not again as unmatched samples
    sample_names = []
    if samples is not None and not samples.is_dir():
        result.problems.append(FeedProblem(samples, "", "the samples folder does not exist"))
    elif samples is not None:
        names = sorted(p.name for p in samples.iterdir() if p.is_file() and not p.name.startswith("."))
        sample_names = [n for n in names if feedset.broken_feed_for(n) is None]
    result.problems += _check_patterns(kinds, samples, sample_names)
    result.problems = list(dict.fromkeys(result.problems))  # a shared suite is checked once per table
    result.seconds = time.perf_counter() - t0
    return result


def _valid_file_kinds(data: Any) -> Iterator[tuple[int, FileSpec]]:
    from pydantic import ValidationError

    items = data.get("files") if isinstance(data, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            yield i, FileSpec.model_validate(item)
        except ValidationError:
            continue  # its problems are already reported with the feed file's


# ---- row checks -------------------------------------------------------------------------------


def _spark_sql_parser() -> Any:
    try:
        import sqlglot
    except ImportError:
        return None
    return sqlglot


def _check_row_checks(kind: _Kind, sqlglot: Any) -> list[FeedProblem]:
    if sqlglot is None:
        return []
    from sqlglot import exp
    from sqlglot.errors import ParseError

    problems: list[FeedProblem] = []
    known = _visible_columns(kind.spec)
    prefix = "SELECT 1 FROM t WHERE "
    for j, check in enumerate(kind.spec.checks):
        where = f"{kind.where}.checks.{j}.when"
        try:
            statements = sqlglot.parse(prefix + check.when, read="spark")
        except ParseError as exc:
            first = exc.errors[0] if exc.errors else {}
            at = first.get("col")
            detail = first.get("description") or str(exc).splitlines()[0]
            if detail.startswith("Required keyword"):  # e.g. "'expression' missing for <class ...LT>"
                detail = "an operand is missing"
            position = f" near character {max(1, at - len(prefix))}" if isinstance(at, int) else ""
            problems.append(
                FeedProblem(kind.path, where, f"not valid Spark SQL: {detail}{position} of: {check.when}")
            )
            continue
        if len([s for s in statements if s is not None]) != 1:
            problems.append(
                FeedProblem(kind.path, where, f"must be one predicate, not several statements: {check.when}")
            )
            continue
        tree = statements[0]
        params = {
            ident.name
            for lam in tree.find_all(exp.Lambda)
            for ident in lam.expressions
            if hasattr(ident, "name")
        }
        for column in dict.fromkeys(c.name for c in tree.find_all(exp.Column)):
            if column and column not in known and column not in params:
                problems.append(
                    FeedProblem(
                        kind.path,
                        where,
                        f"names {column!r}, not a column of table {kind.spec.table}"
                        f"{did_you_mean(column, known)}: {check.when}",
                    )
                )
    return problems


# ---- suites -----------------------------------------------------------------------------------


def _check_suites(kinds: list[_Kind]) -> list[FeedProblem]:
    """The generated suites: each file kind's ``expectations:`` are ones GX runs, on columns the
    table lands (the generated expectations are right by construction)."""
    from qingfeng.ingest.expectations import SuiteError, build_suite, extra_problems

    problems: list[FeedProblem] = []
    for kind in kinds:
        found = extra_problems(kind.spec)
        problems += [FeedProblem(kind.path, f"{kind.where}.{at}", message) for at, message in found]
        problems += _extra_columns(kind)
        if not found:
            try:
                build_suite(kind.feed, kind.spec)
            except SuiteError as exc:
                problems.append(FeedProblem(kind.path, f"{kind.where}.table", str(exc)))
    return problems


def _extra_columns(kind: _Kind) -> list[FeedProblem]:
    """Extra expectations that name a column the table does not land (they could never pass)."""
    known = _visible_columns(kind.spec)
    problems: list[FeedProblem] = []
    for k, extra in enumerate(kind.spec.expectations):
        for arg, value in extra.kwargs.items():
            if not arg.startswith("column") or arg == "column_index":
                continue
            names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for name in names:
                if isinstance(name, str) and name not in known:
                    problems.append(
                        FeedProblem(
                            kind.path,
                            f"{kind.where}.expectations.{k}.kwargs.{arg}",
                            f"{extra.type}: {name!r} is not a column of table {kind.spec.table}"
                            f"{did_you_mean(name, known)}",
                        )
                    )
    return problems


# ---- patterns ---------------------------------------------------------------------------------


def _check_patterns(kinds: list[_Kind], samples: Path | None, sample_names: list[str]) -> list[FeedProblem]:
    problems: list[FeedProblem] = []

    def owners(name: str) -> list[_Kind]:
        return [k for k in kinds if k.spec.matches(name)]

    for kind in kinds:
        spec = kind.spec
        for e, example in enumerate(spec.examples):
            where = f"{kind.where}.examples.{e}"
            if not spec.matches(example):
                problems.append(
                    FeedProblem(
                        kind.path,
                        where,
                        f"{example!r} does not match the pattern {spec.pattern!r} (matched against the whole name)",
                    )
                )
            digits = spec.period_digits(example)
            if digits is not None and spec.period_of(example) is None:
                problems.append(
                    FeedProblem(
                        kind.path,
                        where,
                        f"{example!r}: the period {digits!r} of the name is not a date (a year YYYY, a month "
                        "YYYYMM or a day YYYYMMDD)",
                    )
                )
            others = sorted({k.feed for k in owners(example) if k.feed != kind.feed})
            if others:
                problems.append(
                    FeedProblem(
                        kind.path,
                        where,
                        f"{example!r} is also matched by feed(s) {', '.join(others)}: such a delivery is refused "
                        "as matched by several feeds",
                    )
                )
        if not spec.examples and not any(spec.matches(n) for n in sample_names):
            problems.append(
                FeedProblem(
                    kind.path,
                    f"{kind.where}.examples",
                    f"table {spec.table}: no example file names, so the pattern {spec.pattern!r} is not exercised",
                    "warning",
                )
            )
    for name in sample_names:
        assert samples is not None
        feeds = sorted({k.feed for k in owners(name)})
        if not feeds:
            problems.append(FeedProblem(samples / name, "", "no feed's pattern matches this file name"))
        elif len(feeds) > 1:
            problems.append(
                FeedProblem(
                    samples / name, "", f"matched by several feeds ({', '.join(feeds)}): it would be refused"
                )
            )
    return problems


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


# ---- no pyspark -------------------------------------------------------------------------------


@contextmanager
def without_pyspark() -> Iterator[None]:
    """Keep pyspark out of this process while GX is imported: GX imports it when it is installed,
    but treats it as optional (``great_expectations.compatibility.pyspark``), and parsing a suite
    needs none of it. This is what keeps the check to seconds and off the JVM.

    Only when neither is imported yet (a fresh ``qingfeng feeds check``). Afterwards pyspark is
    importable again and the GX modules imported without it are dropped, so that a later import in
    the same process (a test runner) gets GX with its Spark support.
    """
    if any(m.split(".")[0] in ("pyspark", "great_expectations") for m in sys.modules):
        yield
        return
    before = set(sys.modules)
    sys.modules["pyspark"] = None  # type: ignore[assignment]  # `import pyspark` raises ImportError
    try:
        yield
    finally:
        if "pyspark" in sys.modules and sys.modules["pyspark"] is None:
            del sys.modules["pyspark"]
        for name in set(sys.modules) - before:
            if name.split(".")[0] == "great_expectations":
                del sys.modules[name]
