"""Great Expectations gate: one suite per table (``expectations/<table>.json``), run on the
accepted Spark batch through a file-backed GX context under ``<home>/gx``.

Severity is ``meta.severity`` of each expectation: ``error`` (the default) fails the feed's
ingest, ``warning`` is reported. GX 1.24's own ``severity`` field is not used: a validation run
silently skips every expectation whose GX severity is not ``critical`` (checked on 1.24.1), so a
suite that sets it is refused rather than half-run.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from qingfeng.feeds.model import FileSpec
    from qingfeng.settings import Settings

DATASOURCE = "qingfeng"


class SuiteError(ValueError):
    """A missing or broken expectation suite file."""


class ExpectationFailed(RuntimeError):
    """An error-level expectation failed on an accepted batch."""


def suite_path(settings: Settings, spec: FileSpec) -> Path:
    return settings.expectations_dir / f"{spec.suite_name}.json"


def load_suite(settings: Settings, spec: FileSpec) -> Any:
    from great_expectations.core.expectation_suite import ExpectationSuite

    path = suite_path(settings, spec)
    if not path.exists():
        raise SuiteError(f"table {spec.table}: no expectation suite {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        suite = ExpectationSuite(**data)
    except Exception as exc:  # JSON and GX raise several kinds for a bad suite
        raise SuiteError(f"{path}: not a valid Great Expectations suite: {exc}") from None
    dropped = dropped_expectations(data.get("expectations") or [], suite)
    if dropped:
        raise SuiteError(f"{path}: " + "; ".join(dropped))
    for item in data.get("expectations", []):
        if item.get("severity", "critical") != "critical":
            raise SuiteError(
                f"{path}: {item.get('type')}: set meta.severity (error|warning), not the GX severity field"
            )
        if (item.get("meta") or {}).get("severity", "error") not in ("error", "warning"):
            raise SuiteError(f"{path}: {item.get('type')}: meta.severity must be error or warning")
    return suite


def dropped_expectations(items: list[Any], suite: Any) -> list[str]:
    """What GX left out of a suite (``field: message``). GX 1.24 does not raise for an expectation type
    it does not know: ``ExpectationSuite(...)`` logs the error and drops it, so the suite would run
    without it and pass."""
    if len(suite.expectations) == len(items):
        return []
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    from qingfeng.feeds.model import did_you_mean

    found = []
    for k, item in enumerate(items):
        kind = item.get("type") if isinstance(item, dict) else None
        try:
            get_expectation_impl(str(kind))
        except ExpectationNotFoundError:
            hint = did_you_mean(str(kind), list_registered_expectation_implementations())
            found.append(
                f"expectations.{k}.type: unknown expectation type {kind!r}{hint}: GX drops it without an "
                "error, so the suite would run without it"
            )
    return found or [
        f"expectations: GX kept {len(suite.expectations)} of the {len(items)}: the others are invalid"
    ]


@cache
def _context(gx_root: str) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="file", project_root_dir=gx_root)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def context_for(settings: Settings) -> Any:
    root = settings.home.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return _context(str(root))


# Feeds are ingested side by side, and GX is not thread-safe: its file-backed context, and even
# its expectation registry, which fills lazily ("expect_… not found" when two threads race). Nor is
# it safe across processes: Airflow runs each ingest task in a process of its own on one home, and
# one crashed reading great_expectations.yml while another rewrote it. So the threads of a process
# take a lock, and the processes of a home take an advisory lock on ``<home>/gx.lock``.
_GX_LOCK = threading.Lock()
LOCK_FILE = "gx.lock"


@contextmanager
def gx_lock(settings: Settings) -> Iterator[None]:
    """Hold GX for this thread, and the home's GX files for this process (flock: released if it dies)."""
    with _GX_LOCK, _files_lock(settings):
        yield


@contextmanager
def _files_lock(settings: Settings) -> Iterator[None]:
    root = settings.home.resolve()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def validate(settings: Settings, feed: str, spec: FileSpec, accepted: DataFrame) -> list[str]:
    """Run the table's suite once on ``accepted``; return warnings, raise on an error-level failure.

    Only the writing of GX's configuration files is serialised across processes: the Spark work of
    a validation (most of its time) runs beside other ingest tasks' (their results are files of
    their own).
    """
    with _GX_LOCK:
        try:
            suite = load_suite(settings, spec)  # imports GX (seconds) before the lock, not under it
            with _files_lock(settings):
                definition = register_suite(settings, spec, suite)
            result = _run_suite(definition, accepted)
        finally:
            # GX's Spark datasource persists every batch and never releases it: without this, each
            # table stays cached for the life of the JVM (of a resident Connect server: across runs)
            accepted.unpersist()
    errors, warnings = [], []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        message = (
            f"feed {feed}, table {spec.table}: expectation {_describe(config)} failed{_observed(item.result)}"
        )
        if (config.meta or {}).get("severity", "error") == "error":
            errors.append(message)
        else:
            warnings.append(message)
    if errors:
        raise ExpectationFailed("; ".join(errors))
    return warnings


def _run_suite(definition: Any, accepted: DataFrame) -> Any:
    # BOOLEAN_ONLY keeps the Spark work to one pass per metric; a failure is re-run for its details
    result = definition.run(batch_parameters={"dataframe": accepted}, result_format="BOOLEAN_ONLY")
    if not result.success:
        result = definition.run(batch_parameters={"dataframe": accepted}, result_format="SUMMARY")
    return result


def register_suite(settings: Settings, spec: FileSpec, suite: Any) -> Any:
    """The table's datasource asset, suite and validation definition in the home's GX files (which
    this writes: call it under the files lock)."""
    import great_expectations as gx

    context = context_for(settings)
    source = context.data_sources.add_or_update_spark(name=DATASOURCE)
    asset = next((a for a in source.assets if a.name == spec.table), None) or source.add_dataframe_asset(
        name=spec.table
    )
    batch_def = next((b for b in asset.batch_definitions if b.name == "accepted"), None)
    batch_def = batch_def or asset.add_batch_definition_whole_dataframe("accepted")
    suite.name = spec.suite_name
    suite = context.suites.add_or_update(suite)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=spec.table, data=batch_def, suite=suite)
    )


def build_docs(settings: Settings, *, now: bool = False) -> Path:
    """Rebuild the Data Docs site: after each ingest, or (``now``) when a scheduled cross-match asks.

    Rebuilding renders every stored validation, under the GX files lock; land tasks leave it to the
    cross-match (``data_docs_after_ingest`` off), so that side-by-side ingests do not queue on it.
    """
    site = settings.home.resolve() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if settings.data_docs_after_ingest or now:
        with gx_lock(settings):
            context_for(settings).build_data_docs()
    return site


def _describe(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _observed(result: dict) -> str:
    if "observed_value" in result:
        return f" (observed {result['observed_value']!r})"
    if result.get("unexpected_count"):
        sample = result.get("partial_unexpected_list") or []
        return f" ({result['unexpected_count']} unexpected, e.g. {sample[:3]!r})"
    return ""
