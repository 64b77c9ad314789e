"""Thin wrappers around the stage entry points of docs/architecture.md.

The run builder (:mod:`qingfeng.pipeline.run`) and the Airflow tasks call the stages only through
these wrappers, which

- time the call and turn the stage's summary into plain JSON (for XCom and the pipeline-runs table),
- turn any failure into a :class:`StageError` whose message names the stage (and the file, row
  and column when the stage gives them); the traceback goes to ``<home>/logs/``, never to the screen.

This module imports the stage code; DAG files and ``qingfeng --help`` import it only inside the
functions that run a stage.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from jobs.kinship import main as build_graph
from jobs.resolve import main as resolve_entities
from jobs.rules.runner import main as run_rules
from qingfeng.ingest.engine import ingest_dir
from qingfeng.register.db import upgrade
from qingfeng.register.publish import publish_from_lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from qingfeng.settings import Settings

STAGES = ("ingest", "resolve", "graph", "rules", "publish")
P = ParamSpec("P")

# Attributes a stage's exception may carry to say where the bad input is.
_WHERE_ATTRS = (("file", "file"), ("path", "file"), ("line", "row"), ("row", "row"), ("column", "column"))


class StageError(Exception):
    """A stage failed; ``str()`` is the one-paragraph message shown to the operator."""

    def __init__(self, stage: str, message: str, log_path: Path | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.log_path = log_path

    def __str__(self) -> str:
        text = f"stage {self.stage} failed: {self.message}"
        if self.log_path:
            text += f"\n(details: {self.log_path})"
        return text


@dataclasses.dataclass
class StageResult:
    stage: str
    seconds: float
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "seconds": round(self.seconds, 3), "summary": self.summary}


def describe(exc: BaseException) -> str:
    """One readable paragraph for an exception: its message plus file/row/column when known."""
    text = str(exc).strip()
    if type(exc).__module__.startswith(("py4j", "pyspark")):
        text = text.splitlines()[0] if text else type(exc).__name__  # JVM stack traces follow line 1
    if not text or isinstance(exc, KeyError | AttributeError | TypeError | IndexError | AssertionError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    where = []
    for attr, label in _WHERE_ATTRS:
        value = getattr(exc, attr, None)
        if value is not None and not callable(value) and str(value) not in text:
            where.append(f"{label} {value}")
    return f"{text} ({', '.join(where)})" if where else text


def _log_traceback(settings: Settings, stage: str, exc: BaseException) -> Path | None:
    try:
        logs = settings.home.resolve() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"{stage}-{dt.datetime.now():%Y%m%dT%H%M%S}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


@contextmanager
def stage_errors(settings: Settings, stage: str) -> Iterator[None]:
    try:
        yield
    except StageError:
        raise
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise StageError(stage, "interrupted") from None
        raise StageError(stage, describe(exc), _log_traceback(settings, stage, exc)) from exc


def jsonable(value: Any) -> Any:
    """Plain JSON types from a stage summary (dataclasses, pydantic models, dates, decimals, paths)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "to_json") and callable(value.to_json):
        return jsonable(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return str(value)


def _call(
    settings: Settings,
    stage: str,
    func: Callable[Concatenate[Settings, P], Any],
    *args: P.args,
    **kwargs: P.kwargs,
) -> tuple[StageResult, Any]:
    start = time.perf_counter()
    with stage_errors(settings, stage):
        raw = func(settings, *args, **kwargs)
        summary = jsonable(raw)
    if not isinstance(summary, dict):
        summary = {"result": summary}
    return StageResult(stage, time.perf_counter() - start, summary), raw


def ingest(
    settings: Settings,
    input_dir: Path,
    *,
    spark: SparkSession,
    feeds: list[str] | None = None,
    progress: Any = None,
    per_file: bool = False,
) -> StageResult:
    """``per_file``: a bad file is reported in the summary instead of failing the stage (land runs)."""
    if not input_dir.is_dir():
        raise StageError("ingest", f"input folder {input_dir} does not exist")
    result, raw = _call(
        settings, "ingest", ingest_dir, input_dir, spark=spark, feeds=feeds, progress=progress
    )
    if per_file:
        return result
    failures = ingest_failures(raw)
    if failures:
        raise StageError("ingest", f"{len(failures)} file(s) failed:\n  " + "\n  ".join(failures))
    files = result.summary.get("files", [])
    if not any(f.get("status") in ("ingested", "duplicate", "superseded", "rejected") for f in files):
        raise StageError("ingest", f"no recognised file in {input_dir}")
    return result


def ingest_failures(report: Any) -> list[str]:
    """The ingest stage reports a failed file (unreadable, bad header, failed gate) instead of raising."""
    return [f.error or f.file for f in getattr(report, "failed", [])]


def resolve(settings: Settings, *, spark: SparkSession) -> StageResult:
    return _call(settings, "resolve", resolve_entities, spark=spark)[0]


def graph(settings: Settings, *, spark: SparkSession) -> StageResult:
    return _call(settings, "graph", build_graph, spark=spark)[0]


def rules(settings: Settings, *, spark: SparkSession, as_of: dt.date) -> StageResult:
    return _call(settings, "rules", run_rules, spark=spark, as_of=as_of)[0]


def publish(settings: Settings, *, spark: SparkSession, run_info: dict[str, Any]) -> StageResult:
    """Migrate the register to the current schema (idempotent), then publish ``lake/clues``."""
    with stage_errors(settings, "publish"):
        upgrade(settings.resolved_register_url)
    return _call(settings, "publish", publish_from_lake, spark=spark, run_info=run_info)[0]
