"""Great Expectations gate: one suite per table, generated from its feed file
(:mod:`qingfeng.feeds.suite`), run on the accepted Spark batch through a file-backed GX context
under ``<home>/gx``.

Severity is ``meta.severity`` of each expectation: ``error`` (the default) fails the feed's
ingest, ``warning`` is reported. GX 1.24's own ``severity`` field is not used: a validation run
silently skips every expectation whose GX severity is not ``critical`` (checked on 1.24.1).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from qingfeng.feeds.suite import suite_document

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame

    from qingfeng.feeds.model import FileSpec
    from qingfeng.settings import Settings

DATASOURCE = "qingfeng"


class SuiteError(ValueError):
    """A table whose suite cannot be built: an extra expectation GX does not accept."""


class ExpectationFailed(RuntimeError):
    """An error-level expectation failed on an accepted batch."""


def build_suite(feed: str, spec: FileSpec) -> Any:
    """The table's GX ``ExpectationSuite``, generated from its file kind."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    problems = extra_problems(spec)
    if problems:
        raise SuiteError(f"table {spec.table}: " + "; ".join(f"{at}: {message}" for at, message in problems))
    document = suite_document(feed, spec)
    suite = ExpectationSuite(**document)
    if len(suite.expectations) != len(document["expectations"]):  # GX logs and drops what it refuses
        raise SuiteError(f"table {spec.table}: GX refused a generated expectation (see its log)")
    return suite


def extra_problems(spec: FileSpec) -> list[tuple[str, str]]:
    """``(field, message)`` for each of the file kind's ``expectations:`` that GX would not run
    (``expectations.0.type``). GX does not raise for these: a suite logs and drops them."""
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    from qingfeng.feeds.model import did_you_mean

    problems = []
    for k, extra in enumerate(spec.expectations):
        try:
            get_expectation_impl(extra.type)
        except ExpectationNotFoundError:
            hint = did_you_mean(extra.type, list_registered_expectation_implementations())
            problems.append((f"expectations.{k}.type", f"unknown expectation type {extra.type!r}{hint}"))
            continue
        try:
            ExpectationConfiguration(type=extra.type, kwargs=extra.kwargs).to_domain_obj()
        except Exception as exc:  # pydantic and GX raise several kinds for bad arguments
            detail = " ".join(str(exc).split())
            problems.append((f"expectations.{k}.kwargs", f"{extra.type}: not valid arguments: {detail}"))
    return problems


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
            suite = build_suite(feed, spec)  # imports GX (seconds) before the lock, not under it
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
