"""The run builder: ingest → resolve → graph → rules → publish in one process and one SparkSession.

``qingfeng run`` and the cross-match DAG task both run through :func:`run_pipeline`, and so record
their runs in the register alike: ``input_files`` lists the landed files the run matched on, one
record per file and table (:func:`qingfeng.pipeline.inputs.lake_files`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qingfeng.pipeline import inputs, stages
from qingfeng.pipeline.stages import StageError, StageResult
from qingfeng.spark import get_spark

if TYPE_CHECKING:
    from qingfeng.settings import Settings

StageHook = Callable[[str, str, "StageResult | None"], None]  # (stage, "start"|"done", result)

CROSS_MATCH = ("resolve", "graph", "rules", "publish")  # on the lake as it is, without an ingest


@dataclasses.dataclass
class RunOutcome:
    as_of: dt.date | None
    input_dir: Path | None
    results: list[StageResult] = dataclasses.field(default_factory=list)
    started_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))
    as_of_source: str = "given"
    input_files: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    inputs_fingerprint: str | None = None

    def result(self, stage: str) -> StageResult | None:
        return next((r for r in self.results if r.stage == stage), None)

    @property
    def quarantined_per_feed(self) -> dict[str, int]:
        ingest = self.result("ingest")
        return quarantined_per_feed(ingest.summary) if ingest else {}

    @property
    def clues_per_rule(self) -> dict[str, dict[str, int]]:
        publish = self.result("publish")
        return clues_per_rule(publish.summary) if publish else {}


def run_info(outcome: RunOutcome, *, trigger: str = "qingfeng run") -> dict[str, Any]:
    """What the register records about a run (its pipeline-runs table: ``RunInfo``)."""
    return {
        "as_of": outcome.as_of,
        "input_files": outcome.input_files,
        "started_at": outcome.started_at,
        "counts": {
            "trigger": trigger,
            "input_dir": str(outcome.input_dir) if outcome.input_dir else None,
            "as_of_source": outcome.as_of_source,
            "inputs_fingerprint": outcome.inputs_fingerprint,
            "stages": {r.stage: r.as_dict() for r in outcome.results},
            "quarantined_per_feed": outcome.quarantined_per_feed,
        },
    }


def run_pipeline(
    settings: Settings,
    input_dir: Path | None,
    as_of: dt.date | None,
    *,
    as_of_source: str = "given",
    trigger: str = "qingfeng run",
    only: Sequence[str] = stages.STAGES,
    hook: StageHook | None = None,
    detail: Callable[[str, str], None] | None = None,
) -> RunOutcome:
    """Run the stages (all, or ``only`` those) in order; a failure raises :class:`StageError` naming the stage.

    ``input_dir``: the delivered files to ingest (None when ``only`` leaves the ingest out).
    ``as_of`` None: the date the landed data supports (:func:`inputs.as_of_from_data`), found
    after the ingest.
    """
    input_dir = input_dir.resolve() if input_dir else None
    if "ingest" in only and (input_dir is None or not input_dir.is_dir()):
        raise StageError("ingest", f"input folder {input_dir} does not exist")
    outcome = RunOutcome(as_of, input_dir, as_of_source=as_of_source)
    notify = hook or (lambda *_: None)

    def ingest_progress(done: int, total: int, message: str) -> None:
        if detail:
            detail("ingest", f"{done}/{total} {message}")

    with stages.stage_errors(settings, "spark"):
        spark = get_spark(settings)
    steps: dict[str, Callable[[], StageResult]] = {
        "ingest": lambda: stages.ingest(settings, input_dir or Path(), spark=spark, progress=ingest_progress),
        "resolve": lambda: stages.resolve(settings, spark=spark),
        "graph": lambda: stages.graph(settings, spark=spark),
        "rules": lambda: stages.rules(
            settings, spark=spark, as_of=_settle_inputs(settings, outcome, "rules")
        ),
        "publish": lambda: stages.publish(settings, spark=spark, run_info=run_info(outcome, trigger=trigger)),
    }
    for name in stages.STAGES:
        if name not in only:
            continue
        if name == "publish":
            _settle_inputs(settings, outcome, name)  # done by the rules stage, if it ran
        notify(name, "start", None)
        result = steps[name]()
        outcome.results.append(result)
        notify(name, "done", result)
    return outcome


def _settle_inputs(settings: Settings, outcome: RunOutcome, stage: str) -> dt.date:
    """The landed files the run matches on, their fingerprint, and the as-of date (from them when
    none was given); once per run, after the ingest."""
    if outcome.inputs_fingerprint is None:
        files = inputs.lake_files(settings)
        if outcome.as_of is None:
            found, source = inputs.as_of_from_data(files, inputs.unbounding_tables(settings))
            if found is None:
                raise StageError(stage, f"no as-of date: {source}; give one with --as-of YYYY-MM-DD")
            outcome.as_of, outcome.as_of_source = found, source
        outcome.input_files = files
        outcome.inputs_fingerprint = inputs.fingerprint(files, outcome.as_of, settings)
    assert outcome.as_of is not None
    return outcome.as_of


# Labels of the run summary → the publish stage's outcome names (qingfeng.register.publish.OUTCOMES).
_RULE_COUNT_KEYS = {"new": "new", "re-detected": "redetected", "re-opened": "reopened"}


def clues_per_rule(summary: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """From the publish summary's ``per_rule``: {rule: {outcome: n}}."""
    return {
        rule: {label: int(counts.get(name, 0)) for label, name in _RULE_COUNT_KEYS.items()}
        for rule, counts in sorted(summary.get("per_rule", {}).items())
    }


def quarantined_per_feed(summary: Mapping[str, Any]) -> dict[str, int]:
    """From the ingest report's ``files``: quarantined rows summed per feed."""
    out: dict[str, int] = {}
    for item in summary.get("files", []):
        if item.get("feed"):
            out[item["feed"]] = out.get(item["feed"], 0) + int(item.get("rows_quarantined") or 0)
    return dict(sorted(out.items()))
