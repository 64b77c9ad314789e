"""Ingest a folder of delivered files into the lake: raw, standardized, quarantine, manifests."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from qingfeng.concurrent import run_all
from qingfeng.feeds.model import FeedSpec, FileSpec, load_feeds
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


def ingest_dir(
    settings: Settings,
    input_dir: Path,
    *,
    spark: SparkSession,
    feeds: list[str] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest every recognised file in ``input_dir``; ``feeds`` restricts to those feed names."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder {input_dir} does not exist")
    specs = [f for f in load_feeds(settings.feeds_dir) if feeds is None or f.feed in feeds]
    report = IngestReport(input_dir=str(input_dir))
    files = sorted(p for p in input_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    work_dir = settings.home.resolve() / ".ingest-tmp" / uuid.uuid4().hex[:12]
    notify = progress or (lambda _d, _t, _m: None)
    try:
        by_feed = _recognise(settings, files, specs, report)
        total = sum(len(d) for d in by_feed.values())
        done = [0]
        counting = threading.Lock()
        seen: set[tuple[str, str]] = set()  # (table, sha): tables belong to one feed, so no race

        def ingest_feed(deliveries: list[_Delivery]) -> IngestReport:
            feed, landed = deliveries[0].feed, IngestReport(input_dir=str(input_dir))
            for delivery in deliveries:
                notify(done[0], total, f"framing {delivery.path.name} ({delivery.spec.table})")
                _frame(settings, delivery, work_dir, seen)
                with counting:
                    done[0] += 1
            notify(done[0], total, f"parsing and checking feed {feed.feed}")
            _land_feed(settings, spark, feed, deliveries, landed)
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
    settings: Settings, files: list[Path], feeds: list[FeedSpec], report: IngestReport
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
        raw.keep_raw(settings, feed.feed, path, sha, [spec.table for _, spec in matches])
        for _, spec in matches:
            result = FileResult(
                file=path.name, status="ingested", feed=feed.feed, table=spec.table, sha256=sha
            )
            by_feed.setdefault(feed.feed, []).append(_Delivery(path, feed, spec, sha, result))
    return by_feed


def _frame(settings: Settings, delivery: _Delivery, work_dir: Path, seen: set[tuple[str, str]]) -> None:
    result, table = delivery.result, delivery.spec.table
    earlier = raw.find_manifest(settings, table, delivery.sha)
    if earlier is not None or (table, delivery.sha) in seen:
        result.status = "duplicate"
        if earlier:
            for key in ("rows_read", "rows_accepted", "rows_quarantined", "reasons"):
                setattr(result, key, earlier[key])
        first = earlier["file"] if earlier else "another file of this delivery"
        result.warnings.append(
            f"{delivery.path.name}: same content as {first}, already ingested; nothing changed"
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
    """Parse and gate every table of the feed, then write them; a failed gate writes nothing."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    live = [d for d in deliveries if d.framed is not None]
    by_table: dict[str, list[_Delivery]] = {}
    for d in live:
        by_table.setdefault(d.spec.table, []).append(d)
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
            _write_table(settings, spark, feed, spec, group, parsed)
            for d in group:
                _supersede(settings, d, report)
    except (ExpectationFailed, SuiteError) as exc:
        _fail(live, str(exc))
    except AnalysisException as exc:  # e.g. a row check that is not valid Spark SQL
        first_line = str(exc).strip().splitlines()[0]
        _fail(live, f"feed {feed.feed}: Spark could not parse the feed's tables: {first_line}")


def _materialise(spark: SparkSession, parsed: DataFrame, group: list[_Delivery]) -> DataFrame:
    """Write the parsed batch once beside the staged files: later jobs then read a short plan."""
    assert group[0].staged is not None
    target = group[0].staged.parent.parent.parent / "parsed" / group[0].spec.table
    parsed.write.mode("overwrite").parquet(str(target))
    return spark.read.parquet(str(target))


def _fail(deliveries: list[_Delivery], message: str) -> None:
    for d in deliveries:
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


def _write_table(
    settings: Settings,
    spark: SparkSession,
    feed: FeedSpec,
    spec: FileSpec,
    group: list[_Delivery],
    parsed: DataFrame,
) -> None:
    from pyspark.sql import functions as F

    counts: dict[tuple[str, str | None], int] = {
        (row["_file_sha"], row["reason"]): row["n"]
        for row in parsed.groupBy("_file_sha", F.col("_problems")[0]["reason"].alias("reason"))
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
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
    any_rejects = any(d.rejects is not None for d in group) or any(r is not None for _, r in counts)
    _write_partitions(quarantine, table_path(settings, "quarantine", spec.table), fids, empty=not any_rejects)
    for d in group:
        _account(settings, d, counts)


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


def _account(settings: Settings, d: _Delivery, counts: dict[tuple[str, str | None], int]) -> None:
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
    raw.write_manifest(
        settings,
        d.spec.table,
        {
            **result.to_json(),
            "file_id": raw.file_id(d.sha),
            "encoding": d.framed.encoding,
            "header_line": d.framed.header_line,
            "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )


def _supersede(settings: Settings, d: _Delivery, report: IngestReport) -> None:
    """A new content under a known file name replaces the earlier delivery's partitions."""
    for old in raw.earlier_deliveries(settings, d.spec.table, d.path.name, d.sha):
        fid = raw.file_id(old["sha256"])
        if fid != raw.file_id(d.sha):
            for zone in ("standardized", "quarantine"):
                shutil.rmtree(table_path(settings, zone, d.spec.table) / f"file_id={fid}", ignore_errors=True)
        raw.drop_manifest(settings, d.spec.table, old["sha256"])
        d.result.warnings.append(
            f"{d.path.name}: supersedes the earlier delivery {old['sha256'][:12]} of the same name"
        )
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
                warnings=[f"replaced by delivery {d.sha[:12]}"],
            )
        )
