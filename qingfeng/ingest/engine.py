"""Ingest a folder of delivered files into the lake: raw, standardized, quarantine, manifests."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from qingfeng.concurrent import run_all
from qingfeng.feeds.model import FeedSpec, FileSpec, load_feeds
from qingfeng.ingest import deliveries as held_area
from qingfeng.ingest import raw
from qingfeng.ingest.expectations import ExpectationFailed, SuiteError, build_docs, validate
from qingfeng.ingest.framing import Framed, FramingError, frame_file
from qingfeng.ingest.parse import PROVENANCE, parse_table
from qingfeng.ingest.report import FileResult, IngestReport
from qingfeng.lake import replace_dir_atomically, staging_path, table_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from qingfeng.settings import Settings

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)


@dataclass
class _Delivery:
    """One file for one table, framed and waiting for Spark."""

    path: Path
    feed: FeedSpec
    spec: FileSpec
    sha: str
    result: FileResult
    framed: Framed | None = None
    staged: Path | None = None
    rejects: Path | None = None
    replaces: list[dict] = field(default_factory=list)  # manifests of the deliveries it supersedes
    guard_off: bool = False  # accepted by an operator: ``qingfeng deliveries accept``

    @property
    def period(self) -> raw.Period | None:
        if self.result.period_start and self.result.period_end:
            return self.result.period_start, self.result.period_end
        return None


def ingest_dir(
    settings: Settings,
    input_dir: Path,
    *,
    spark: SparkSession,
    feeds: list[str] | None = None,
    progress: Progress | None = None,
    accept: Collection[str] = (),
) -> IngestReport:
    """Ingest every recognised file in ``input_dir``; ``feeds`` restricts to those feed names.

    ``accept``: sha256s of held deliveries an operator confirmed (``qingfeng deliveries accept``):
    their shrink guard is off and their held record is not consulted.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder {input_dir} does not exist")
    specs = [f for f in load_feeds(settings.feeds_dir) if feeds is None or f.feed in feeds]
    report = IngestReport(input_dir=str(input_dir))
    files = sorted(p for p in input_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    work_dir = settings.home.resolve() / ".ingest-tmp" / uuid.uuid4().hex[:12]
    notify = progress or (lambda _d, _t, _m: None)
    try:
        by_feed = _recognise(settings, files, specs, report, set(accept))
        total = sum(len(d) for d in by_feed.values())
        done = [0]
        counting = threading.Lock()
        seen: set[tuple[str, str]] = set()  # (table, sha): tables belong to one feed, so no race

        def ingest_feed(deliveries: list[_Delivery]) -> IngestReport:
            feed, landed = deliveries[0].feed, IngestReport(input_dir=str(input_dir))
            for delivery in deliveries:
                _check_known(settings, delivery, deliveries)
            _same_period_in_one_delivery(deliveries)
            for delivery in deliveries:
                notify(done[0], total, f"framing {delivery.path.name} ({delivery.spec.table})")
                if delivery.result.status == "ingested":
                    _frame(settings, delivery, work_dir, seen)
                with counting:
                    done[0] += 1
            notify(done[0], total, f"parsing and checking feed {feed.feed}")
            try:
                _land_feed(settings, spark, feed, deliveries, landed)
            finally:
                _keep_raw(settings, deliveries)
            landed.files += [d.result for d in deliveries]
            return landed

        # Feeds are independent: one feed's Python framing and GX overlap another's Spark parse.
        tasks = [partial(ingest_feed, deliveries) for deliveries in by_feed.values()]
        for landed in run_all(tasks, workers=settings.spark_concurrent_jobs):
            report.files += landed.files
        if any(f.status == "ingested" for f in report.files):
            notify(total, total, "building Data Docs")
            build_docs(settings)
        notify(total, total, "done")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return report


def _recognise(
    settings: Settings, files: list[Path], feeds: list[FeedSpec], report: IngestReport, accept: set[str]
) -> dict[str, list[_Delivery]]:
    by_feed: dict[str, list[_Delivery]] = {}
    for path in files:
        matches = [(feed, spec) for feed in feeds for spec in feed.files if spec.matches(path.name)]
        owners = {feed.feed for feed, _ in matches}
        if not matches:
            report.files.append(
                FileResult(
                    file=path.name, status="unrecognised", error=f"{path.name}: no feed file pattern matches"
                )
            )
            continue
        if len(owners) > 1:
            report.files.append(
                FileResult(
                    file=path.name,
                    status="failed",
                    error=f"{path.name}: matched by several feeds {sorted(owners)}",
                )
            )
            continue
        sha = raw.sha256_of(path)
        feed = matches[0][0]
        for _, spec in matches:
            result = FileResult(
                file=path.name, status="ingested", feed=feed.feed, table=spec.table, sha256=sha
            )
            period = spec.period_of(path.name)
            if period is not None:
                result.period_start, result.period_end = (day.isoformat() for day in period)
            elif (digits := spec.period_digits(path.name)) is not None:
                result.warnings.append(
                    f"{path.name}: the period {digits!r} of the name is not a date; no period recorded"
                )
            delivery = _Delivery(path, feed, spec, sha, result, guard_off=sha in accept)
            by_feed.setdefault(feed.feed, []).append(delivery)
    return by_feed


def _check_known(settings: Settings, delivery: _Delivery, batch: list[_Delivery]) -> None:
    """Deliveries that change nothing, before any Spark work: the same content already ingested;
    an earlier version of a file of this folder that replaced it; a held or rejected delivery."""
    result, table = delivery.result, delivery.spec.table
    earlier = raw.find_manifest(settings, table, delivery.sha)
    if earlier is not None:
        result.status = "duplicate"
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "reasons"):
            setattr(result, key, earlier[key])
        result.warnings.append(
            f"{delivery.path.name}: same content as {earlier['file']}, already ingested; nothing changed"
        )
        return
    # Files stay in the inbox: an earlier version of a period, beside the delivery that replaced it,
    # must not come back (and replace its correction) at the next run of the folder.
    here = {d.sha for d in batch if d.spec.table == table}
    for current in raw.read_manifests(settings, table):
        if delivery.sha in current.get("supersedes", []) and current["sha256"] in here:
            result.status = "duplicate"
            result.warnings.append(
                f"{delivery.path.name}: replaced by {current['file']} (delivery {current['sha256'][:12]}), "
                "which is in this folder too; nothing changed"
            )
            return
    if delivery.guard_off:
        return
    record = held_area.find_record(settings, delivery.feed.feed, delivery.sha)
    entry = held_area.entry_for(record, table) if record else None
    if record is None or entry is None:
        return
    if record.get("rejected"):
        result.status = "rejected"
        rejected = record["rejected"]
        why = f": {rejected['reason']}" if rejected.get("reason") else ""
        result.warnings.append(
            f"{delivery.path.name}: rejected by {rejected.get('by', '?')} on {rejected.get('at', '?')}{why};"
            " nothing changed"
        )
        return
    result.status, result.error, result.held = "held", entry["message"], entry
    for key in ("rows_read", "rows_accepted", "rows_quarantined"):
        setattr(result, key, entry.get(key, 0))


def _same_period_in_one_delivery(batch: list[_Delivery]) -> None:
    """Two new files of one table and period in one folder: which one is right is not knowable
    (landing both would count the period twice), so both fail."""
    by_period: dict[tuple[str, raw.Period], list[_Delivery]] = {}
    for d in batch:
        if d.result.status == "ingested" and d.period is not None:
            by_period.setdefault((d.spec.table, d.period), []).append(d)
    for (_table, (start, end)), group in by_period.items():
        if len({d.sha for d in group}) < 2:
            continue
        names = ", ".join(sorted(d.path.name for d in group))
        span = start if start == end else f"{start}..{end}"
        for d in group:
            d.result.status = "failed"
            d.result.error = (
                f"{d.path.name}: several new files for the period {span} of table {d.spec.table} in one "
                f"delivery ({names}): deliver only the one that is right"
            )


def _keep_raw(settings: Settings, deliveries: list[_Delivery]) -> None:
    """Copy each delivered file to the raw zone, unless nothing of it may enter the lake yet
    (every table of it held or rejected)."""
    by_path: dict[Path, list[_Delivery]] = {}
    for d in deliveries:
        by_path.setdefault(d.path, []).append(d)
    for path, ds in by_path.items():
        if all(d.result.status in ("held", "rejected") for d in ds):
            continue
        raw.keep_raw(settings, ds[0].feed.feed, path, ds[0].sha, [d.spec.table for d in ds])


def _frame(settings: Settings, delivery: _Delivery, work_dir: Path, seen: set[tuple[str, str]]) -> None:
    result, table = delivery.result, delivery.spec.table
    if (table, delivery.sha) in seen:
        result.status = "duplicate"
        result.warnings.append(
            f"{delivery.path.name}: same content as another file of this delivery, already ingested;"
            " nothing changed"
        )
        return
    seen.add((table, delivery.sha))
    fid = raw.file_id(delivery.sha)
    staged = work_dir / "staged" / table / f"{fid}.parquet"
    rejects = work_dir / "rejects" / table / f"{fid}.parquet"
    try:
        delivery.framed = frame_file(delivery.path, delivery.spec, staged, rejects)
    except FramingError as exc:
        result.status, result.error = "failed", str(exc)
        return
    delivery.staged = staged
    delivery.rejects = rejects if rejects.exists() else None
    result.warnings += delivery.framed.warnings


def _land_feed(
    settings: Settings, spark: SparkSession, feed: FeedSpec, deliveries: list[_Delivery], report: IngestReport
) -> None:
    """Parse and gate every table of the feed, then write them; a failed gate writes nothing.

    A delivery that would supersede earlier ones is first compared with them (:func:`_guard`): when
    it shrinks the table too much or loses a coverage value it is held and nothing of it is written;
    the other deliveries of its table and feed land."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    live = [d for d in deliveries if d.framed is not None]
    by_table: dict[str, list[_Delivery]] = {}
    for d in live:
        by_table.setdefault(d.spec.table, []).append(d)
    # what each one replaces, from the manifests before this batch writes any
    for table, group in by_table.items():
        batch = {d.sha for d in group}
        for d in group:
            d.replaces = raw.earlier_deliveries(
                settings,
                table,
                d.path.name,
                d.sha,
                period=d.period,
                period_of=partial(_iso_period, d.spec),
                exclude=batch,
            )
    batches = []
    try:
        for group in by_table.values():
            spec = group[0].spec
            parsed = _materialise(spark, parse_table(_staged_frame(spark, feed.feed, group), spec), group)
            batches.append((spec, group, parsed))
            accepted = parsed.filter(F.size("_problems") == 0).select(
                *spec.output_columns, *PROVENANCE, "file_id"
            )
            gx_warnings = validate(settings, feed.feed, spec, accepted)
            for d in group:
                d.result.warnings += gx_warnings
        for spec, group, parsed in batches:
            counts = _counts(parsed)
            for d in group:
                _account(d, counts)
            landing = [d for d in group if not _guard(settings, spark, feed, d, parsed)]
            if landing:
                _write_table(
                    settings, spark, feed, spec, landing, parsed, counts, whole=len(landing) == len(group)
                )
            for d in landing:
                _supersede(settings, d, report)
    except (ExpectationFailed, SuiteError) as exc:
        _fail(live, str(exc))
    except AnalysisException as exc:  # e.g. a row check that is not valid Spark SQL
        first_line = str(exc).strip().splitlines()[0]
        _fail(live, f"feed {feed.feed}: Spark could not parse the feed's tables: {first_line}")


def _iso_period(spec: FileSpec, name: str) -> raw.Period | None:
    period = spec.period_of(name)
    return (period[0].isoformat(), period[1].isoformat()) if period else None


def _materialise(spark: SparkSession, parsed: DataFrame, group: list[_Delivery]) -> DataFrame:
    """Write the parsed batch once beside the staged files: later jobs then read a short plan."""
    assert group[0].staged is not None
    target = group[0].staged.parent.parent.parent / "parsed" / group[0].spec.table
    parsed.write.mode("overwrite").parquet(str(target))
    return spark.read.parquet(str(target))


def _fail(deliveries: list[_Delivery], message: str) -> None:
    for d in deliveries:
        if d.result.status != "held":  # its own record is written: it stays held
            d.result.status, d.result.error = "failed", message


def _staged_frame(spark: SparkSession, feed: str, group: list[_Delivery]) -> DataFrame:
    from functools import reduce

    from pyspark.sql import functions as F

    schema = _staged_schema(group[0].spec)
    frames = [
        spark.read.schema(schema)
        .parquet(str(d.staged))
        .select(
            F.lit(feed).alias("_feed"),
            F.lit(d.path.name).alias("_file"),
            F.col("_line").cast("int").alias("_line"),
            F.lit(d.sha).alias("_file_sha"),
            F.lit(raw.file_id(d.sha)).alias("file_id"),
            *[F.col(f"`{c.name}`") for c in d.spec.columns.values()],
        )
        for d in group
    ]
    return reduce(lambda a, b: a.unionByName(b), frames)


def _staged_schema(spec: FileSpec) -> StructType:
    """The schema framing writes (all strings + ``_line``): given, Spark skips reading footers."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    fields = [StructField(c.name, StringType()) for c in spec.columns.values()]
    return StructType([*fields, StructField("_line", LongType())])


def _rejects_schema() -> StructType:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType(
        [StructField("_line", LongType())]
        + [StructField(n, StringType()) for n in ("raw", "reason", "column", "detail")]
    )


def _counts(parsed: DataFrame) -> dict[tuple[str, str | None], int]:
    """Rows per (file sha, first quarantine reason or None for accepted) of a parsed batch."""
    from pyspark.sql import functions as F

    return {
        (row["_file_sha"], row["reason"]): row["n"]
        for row in parsed.groupBy("_file_sha", F.col("_problems")[0]["reason"].alias("reason"))
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }


def _write_table(
    settings: Settings,
    spark: SparkSession,
    feed: FeedSpec,
    spec: FileSpec,
    group: list[_Delivery],
    parsed: DataFrame,
    counts: dict[tuple[str, str | None], int],
    *,
    whole: bool = True,
) -> None:
    """Write the partitions and manifests of ``group``; ``whole=False``: ``parsed`` also holds rows of
    held deliveries, which are left out."""
    from pyspark.sql import functions as F

    if not whole:
        parsed = parsed.filter(F.col("_file_sha").isin([d.sha for d in group]))
    shas = {d.sha for d in group}
    bad = F.size("_problems") > 0
    accepted = parsed.filter(~bad).select(*spec.output_columns, *PROVENANCE, "file_id")
    first = F.col("_problems")[0]
    every = F.transform(
        "_problems", lambda p: F.concat(p["reason"], F.lit(": "), F.coalesce(p["detail"], F.lit("")))
    )
    quarantine = parsed.filter(bad).select(
        F.col("_feed").alias("feed"),
        F.lit(spec.table).alias("table"),
        F.col("_file").alias("file"),
        F.col("_line").alias("line"),
        F.col("_raw").alias("raw"),
        first["reason"].alias("reason"),
        first["column"].alias("column"),
        F.array_join(every, "; ").alias("detail"),
        F.col("_file_sha").alias("file_sha"),
        "file_id",
    )
    for d in group:
        if d.rejects is not None:
            quarantine = quarantine.unionByName(
                spark.read.schema(_rejects_schema())
                .parquet(str(d.rejects))
                .select(
                    F.lit(feed.feed).alias("feed"),
                    F.lit(spec.table).alias("table"),
                    F.lit(d.path.name).alias("file"),
                    F.col("_line").cast("int").alias("line"),
                    "raw",
                    "reason",
                    "column",
                    "detail",
                    F.lit(d.sha).alias("file_sha"),
                    F.lit(raw.file_id(d.sha)).alias("file_id"),
                )
            )
    fids = [raw.file_id(d.sha) for d in group]
    _write_partitions(accepted, table_path(settings, "standardized", spec.table), fids)
    any_rejects = any(d.rejects is not None for d in group) or any(
        r is not None for sha, r in counts if sha in shas
    )
    _write_partitions(quarantine, table_path(settings, "quarantine", spec.table), fids, empty=not any_rejects)
    for d in group:
        _write_manifest(settings, d)


def _write_partitions(df: DataFrame, table_dir: Path, fids: list[str], *, empty: bool = False) -> None:
    """Write one partition per delivered file; each replaces its earlier version in one rename.

    ``empty``: the caller knows there are no rows; only earlier versions are removed (no Spark job).
    """
    staged = staging_path(table_dir)
    if not empty:
        df.write.mode("overwrite").partitionBy("file_id").parquet(str(staged))
    for fid in fids:
        part, target = staged / f"file_id={fid}", table_dir / f"file_id={fid}"
        if part.exists():
            replace_dir_atomically(part, target)
        elif target.exists():
            shutil.rmtree(target)
    shutil.rmtree(staged, ignore_errors=True)


def _account(d: _Delivery, counts: dict[tuple[str, str | None], int]) -> None:
    assert d.framed is not None
    result = d.result
    result.rows_read = d.framed.rows_read
    result.rows_accepted = counts.get((d.sha, None), 0)
    reasons = {reason: n for (sha, reason), n in counts.items() if sha == d.sha and reason is not None}
    for reason, n in d.framed.rejected.items():
        reasons[reason] = reasons.get(reason, 0) + n
    result.reasons = dict(sorted(reasons.items()))
    result.rows_quarantined = sum(reasons.values())
    spark_rows = sum(n for (sha, _), n in counts.items() if sha == d.sha)
    if spark_rows != d.framed.rows_staged:
        raise AssertionError(f"{d.path.name}: {d.framed.rows_staged} rows staged but {spark_rows} parsed")
    result.reconcile()


def _write_manifest(settings: Settings, d: _Delivery) -> None:
    assert d.framed is not None
    record = {
        **d.result.to_json(),
        "file_id": raw.file_id(d.sha),
        "encoding": d.framed.encoding,
        "header_line": d.framed.header_line,
        "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # every delivery it replaced, and theirs: none of them comes back from the same folder
        "supersedes": sorted({s for old in d.replaces for s in [old["sha256"], *old.get("supersedes", [])]}),
    }
    record.pop("held")
    if d.guard_off:
        entry = held_area.entry_for(held_area.find_record(settings, d.feed.feed, d.sha), d.spec.table)
        if entry is not None:
            record["accepted_from_hold"] = {
                k: entry.get(k) for k in ("held_at", "old_rows", "new_rows", "lost", "reason")
            }
    raw.write_manifest(settings, d.spec.table, record)


# ---- the shrink guard -----------------------------------------------------------------------------

LOST_SHOWN = 10  # lost values named in the message (the held record keeps up to LOST_KEPT)
LOST_KEPT = 1000
COVERAGE_MAX = 100_000


def _guard(settings: Settings, spark: SparkSession, feed: FeedSpec, d: _Delivery, parsed: DataFrame) -> bool:
    """Hold ``d`` (and return True) when it would replace earlier deliveries with markedly fewer
    accepted rows (more than ``max_shrink``) or without a value of its ``coverage`` columns."""
    if not d.replaces or d.guard_off:
        return False
    spec, result = d.spec, d.result
    old_rows = sum(int(m.get("rows_accepted") or 0) for m in d.replaces)
    new_rows = result.rows_accepted
    limit, whose = feed.shrink_limit(spec)
    change = (new_rows - old_rows) / old_rows if old_rows else 0.0
    shrinks = -change > limit + 1e-9
    lost, truncated, note = _lost_coverage(settings, spark, d, parsed)
    if note:
        result.warnings.append(note)
    if not shrinks and not lost:
        return False
    replaced = (
        "the delivery it would replace"
        if len(d.replaces) == 1
        else f"the {len(d.replaces)} deliveries it would replace"
    )
    reason = f"{new_rows:,} rows accepted against {old_rows:,} in {replaced}"
    if old_rows:
        reason += f" ({change:+.1%}, more than {whose} {_percent(limit)})" if shrinks else f" ({change:+.1%})"
    if lost:
        headers = {c.name: header for header, c in spec.columns.items()}
        label = "/".join(headers.get(c, c) for c in spec.coverage)
        shown = ", ".join(lost[:LOST_SHOWN])
        more = len(lost) - LOST_SHOWN
        if truncated or more > 0:
            shown += f" and {'more than ' if truncated else ''}{max(more, 0):,} more"
        reason += f"; lost {label}: {shown}"
    token = held_area.command_token(settings, d.feed.feed, d.path.name, d.sha)
    message = (
        f"{d.path.name}: held: {reason}. Confirm with: qingfeng deliveries accept {token}, or reject it."
    )
    entry = {
        "feed": feed.feed,
        "table": spec.table,
        "file": d.path.name,
        "sha256": d.sha,
        "period_start": result.period_start,
        "period_end": result.period_end,
        "old_rows": old_rows,
        "new_rows": new_rows,
        "change": round(change, 4),
        "max_shrink": limit,
        "shrinks": shrinks,
        "coverage": list(spec.coverage),
        "lost": lost,
        "lost_truncated": truncated,
        "replaces": [
            {k: m.get(k) for k in ("file", "sha256", "rows_read", "rows_accepted", "ingested_at")}
            for m in d.replaces
        ],
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "reason": reason,
        "message": message,
        "held_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    held_area.hold(settings, d.path, entry)
    result.status, result.error, result.held = "held", message, entry
    return True


def _lost_coverage(
    settings: Settings, spark: SparkSession, d: _Delivery, parsed: DataFrame
) -> tuple[list[str], bool, str | None]:
    """The values of the ``coverage`` columns in the replaced deliveries' standardized partitions
    that the new delivery's accepted rows lack: (values as ``a/b``, truncated, a warning or None).

    Coverage columns are few-valued (towns, villages): both sides' distinct values are collected
    (two small jobs) and compared here; past ``COVERAGE_MAX`` distinct values the check is skipped."""
    from pyspark.sql import functions as F

    columns = list(d.spec.coverage)
    if not columns:
        return [], False, None
    table_dir = table_path(settings, "standardized", d.spec.table)
    folders = [table_dir / f"file_id={raw.file_id(m['sha256'])}" for m in d.replaces]
    parts = [str(p) for p in folders if p.is_dir()]
    if not parts:  # the replaced deliveries landed no rows
        return [], False, None
    old = spark.read.parquet(*parts)
    missing = [c for c in columns if c not in old.columns]
    if missing:
        return (
            [],
            False,
            f"{d.path.name}: coverage not checked: what it replaces has no column {', '.join(missing)}",
        )
    any_value = F.coalesce(*[F.col(c).cast("string") for c in columns]).isNotNull()
    new = parsed.filter((F.col("_file_sha") == d.sha) & (F.size("_problems") == 0))
    before, after = (
        {
            tuple(row)
            for row in df.select(*columns).filter(any_value).distinct().limit(COVERAGE_MAX + 1).collect()
        }
        for df in (old, new)
    )
    if len(before) > COVERAGE_MAX or len(after) > COVERAGE_MAX:
        return (
            [],
            False,
            (
                f"{d.path.name}: coverage not checked: {', '.join(columns)} have more than {COVERAGE_MAX:,} distinct "
                "values (coverage is for few-valued columns such as towns and villages)"
            ),
        )
    gone = sorted(before - after, key=lambda row: tuple("" if v is None else str(v) for v in row))
    values = ["/".join("(blank)" if v is None else str(v) for v in row) for row in gone]
    return values[:LOST_KEPT], len(values) > LOST_KEPT, None


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _supersede(settings: Settings, d: _Delivery, report: IngestReport) -> None:
    """The new content replaces the deliveries of the same file name or the same period: their
    partitions and manifests are removed (their raw copies stay)."""
    for old in d.replaces:
        fid = raw.file_id(old["sha256"])
        if fid != raw.file_id(d.sha):
            for zone in ("standardized", "quarantine"):
                shutil.rmtree(table_path(settings, zone, d.spec.table) / f"file_id={fid}", ignore_errors=True)
        raw.drop_manifest(settings, d.spec.table, old["sha256"])
        why = "of the same name" if old["file"] == d.path.name else f"({old['file']}) of the same period"
        d.result.warnings.append(f"{d.path.name}: supersedes the earlier delivery {old['sha256'][:12]} {why}")
        report.files.append(
            FileResult(
                file=old["file"],
                status="superseded",
                feed=old["feed"],
                table=old["table"],
                sha256=old["sha256"],
                rows_read=old["rows_read"],
                rows_accepted=old["rows_accepted"],
                rows_quarantined=old["rows_quarantined"],
                reasons=old["reasons"],
                warnings=[f"replaced by delivery {d.sha[:12]} ({d.path.name})"],
                period_start=old.get("period_start"),
                period_end=old.get("period_end"),
            )
        )
