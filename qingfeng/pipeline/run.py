"""The end-to-end run: ingest → resolve → graph → rules → publish in one process and one SparkSession."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qingfeng.pipeline import stages

if TYPE_CHECKING:
    from qingfeng.settings import Settings

StageHook = Callable[[str, str, "stages.StageResult | None"], None]  # (stage, "start"|"done", result)


@dataclasses.dataclass
class RunOutcome:
    as_of: dt.date | None
    input_dir: Path | None
    input_files: list[dict[str, Any]]
    results: list[stages.StageResult]
    started_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))
    as_of_source: str = "given"
    inputs_fingerprint: str | None = None

    def result(self, stage: str) -> stages.StageResult | None:
        return next((r for r in self.results if r.stage == stage), None)

    @property
    def quarantined_per_feed(self) -> dict[str, int]:
        ingest = self.result("ingest")
        return quarantined_per_feed(ingest.summary) if ingest else {}

    @property
    def clues_per_rule(self) -> dict[str, dict[str, int]]:
        publish = self.result("publish")
        return clues_per_rule(publish.summary) if publish else {}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_input_files(input_dir: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in input_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [
        {"name": str(p.relative_to(input_dir)), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in files
    ]


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


def check_stages(names: Sequence[str] = stages.STAGES) -> None:
    """Fail before spending a minute on Spark when a stage is not installed."""
    for stage in names:
        stages.entry_point(stage)


def run_pipeline(
    settings: Settings,
    input_dir: Path | None,
    as_of: dt.date | None,
    *,
    hook: StageHook | None = None,
    detail: Callable[[str, str], None] | None = None,
    trigger: str = "qingfeng run",
    only: Sequence[str] = stages.STAGES,
    input_files: list[dict[str, Any]] | None = None,
    as_of_source: str = "given",
) -> RunOutcome:
    """Run the stages (all, or ``only`` those) in order; a failure raises :class:`stages.StageError` naming the stage.

    ``as_of`` None: the date the landed data supports (:func:`inputs.as_of_from_data`), found
    after the ingest. ``input_files``: what the run record lists (default: the input folder's files).
    """
    from qingfeng.spark import get_spark

    input_dir = input_dir.resolve() if input_dir else None
    if "ingest" in only and (input_dir is None or not input_dir.is_dir()):
        raise stages.StageError("ingest", f"input folder {input_dir} does not exist")
    check_stages(only)
    if input_files is None:
        input_files = list_input_files(input_dir) if input_dir and input_dir.is_dir() else []
    outcome = RunOutcome(as_of, input_dir, input_files, [], as_of_source=as_of_source)
    notify = hook or (lambda *_: None)

    def ingest_progress(done: int, total: int, message: str) -> None:
        if detail:
            detail("ingest", f"{done}/{total} {message}")

    with stages.stage_errors(settings, "spark"):
        spark = get_spark(settings)
    steps: list[tuple[str, Callable[[], stages.StageResult]]] = [
        (
            "ingest",
            lambda: stages.ingest(settings, input_dir or Path(), spark=spark, progress=ingest_progress),
        ),
        ("resolve", lambda: stages.resolve(settings, spark=spark)),
        ("graph", lambda: stages.graph(settings, spark=spark)),
        ("rules", lambda: stages.rules(settings, spark=spark, as_of=_settle_as_of(settings, outcome))),
        (
            "publish",
            lambda: stages.publish(settings, spark=spark, run_info=run_info(outcome, trigger=trigger)),
        ),
    ]
    for name, step in steps:
        if name not in only:
            continue
        notify(name, "start", None)
        result = step()
        outcome.results.append(result)
        notify(name, "done", result)
    return outcome


def _settle_as_of(settings: Settings, outcome: RunOutcome) -> dt.date:
    """The run's as-of date, from the landed data when none was given; and its inputs' fingerprint."""
    from qingfeng.pipeline import inputs

    files = inputs.lake_files(settings)
    if outcome.as_of is None:
        found, source = inputs.as_of_from_data(files)
        if found is None:
            raise stages.StageError("rules", f"no as-of date: {source}; give one with --as-of YYYY-MM-DD")
        outcome.as_of, outcome.as_of_source = found, source
    outcome.inputs_fingerprint = inputs.fingerprint(files, outcome.as_of, settings)
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
