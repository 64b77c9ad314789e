"""The JSON-able result of an ingest: one entry per delivered file and table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# held: a superseding delivery that would shrink its table (``max_shrink``) or lose a value of its
# ``coverage`` columns; nothing of it lands until ``qingfeng deliveries accept`` (docs/feeds.md, 6).
# rejected: a held delivery the operator refused (``qingfeng deliveries reject``): skipped, not failed.
Status = Literal["ingested", "duplicate", "superseded", "held", "rejected", "unrecognised", "failed"]
STATUSES: tuple[str, ...] = (
    "ingested",
    "duplicate",
    "superseded",
    "held",
    "rejected",
    "unrecognised",
    "failed",
)


@dataclass
class FileResult:
    file: str
    status: Status
    feed: str | None = None
    table: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    period_start: str | None = None  # ISO dates from the pattern's ``period`` group, else None
    period_end: str | None = None
    # status held: the comparison that held it (the held record's fields, docs/feeds.md, 6)
    held: dict[str, Any] | None = None

    def reconcile(self) -> None:
        if self.rows_read != self.rows_accepted + self.rows_quarantined:
            raise AssertionError(
                f"{self.file} ({self.table}): rows read {self.rows_read} != accepted {self.rows_accepted}"
                f" + quarantined {self.rows_quarantined}"
            )

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    input_dir: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        """The files that fail the run: ``failed`` ones and ``held`` ones (which wait for an operator).
        ``qingfeng ingest`` and the pipeline's ingest stage exit non-zero on any, with its error."""
        return [f for f in self.files if f.status in ("failed", "held")]

    @property
    def held(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "held"]

    @property
    def unrecognised(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "unrecognised"]

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    def to_json(self) -> dict:
        return {
            "input_dir": self.input_dir,
            "files": [f.to_json() for f in self.files],
            "totals": {s: self.count(s) for s in STATUSES},  # type: ignore[arg-type]
        }
