"""Which columns of which tables name a person: the feed files declare it (``mentions:`` of each file
kind, docs/feeds.md), and this module turns the declarations into the resolve stage's specs.

Pure Python (no Spark): ``jobs.resolve.quality`` and the tests use it without a session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qingfeng.feeds.model import FeedSpec


@dataclass(frozen=True)
class MentionSpec:
    table: str
    column: str
    name_col: str
    household_col: str | None = None
    village_col: str | None = None
    town_col: str | None = None
    party: bool = False  # a credit code or an organisation name is not a person
    # the column of another mention of the row: this one is resolved in a second pass, with the
    # household, village and town of that mention's person as a hint (declared relatives)
    hinted_by: str | None = None

    @property
    def outputs(self) -> tuple[str, str, str]:
        if self.column == "id_no":
            return "person_id", "resolve_method", "resolve_score"
        return f"{self.column}_person", f"{self.column}_method", f"{self.column}_score"


def mention_specs(feeds: Iterable[FeedSpec]) -> tuple[MentionSpec, ...]:
    """Every declared mention of the feeds, in feed file and declaration order."""
    return tuple(
        MentionSpec(
            table=kind.table,
            column=m.id,
            name_col=m.name,
            household_col=m.household,
            village_col=m.village,
            town_col=m.town,
            party=m.party,
            hinted_by=m.hinted_by,
        )
        for feed in feeds
        for kind in feed.files
        for m in kind.mentions
    )


def feed_tables(feeds: Iterable[FeedSpec]) -> tuple[str, ...]:
    """The standardized tables the feeds land: what the resolve stage reads."""
    return tuple(dict.fromkeys(kind.table for feed in feeds for kind in feed.files))


def person_columns(specs: Iterable[MentionSpec], table: str) -> list[str]:
    """The resolved person columns of ``table`` (``person_id``, ``cadre_id_person``, …)."""
    return [s.outputs[0] for s in specs if s.table == table]
