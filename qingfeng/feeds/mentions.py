"""The ``mentions:`` of a file kind: which of its columns name a person, for the resolve stage.

A mention names its ID column (``id``, a ``resident_id`` or ``party_id`` column) and the columns
that help to find the person when that ID is blank or wrong: the name, and where known the 户号,
村社 and 镇街. ``party: true`` marks a column that may name a company; ``hinted_by`` a mention
resolved in a second pass, with the household of the person another mention of the row resolved to
as a hint (a cadre's declared relatives). docs/feeds.md, section 1; docs/resolution.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

MENTION_ID_TYPES = ("resident_id", "party_id")
MENTION_COLUMNS = ("id", "name", "household", "village", "town")
HINTED = ("household", "village", "town")


class MentionDecl(BaseModel):
    """One person mention of a file kind. ``id`` is the person column's name in the table: the
    resolve stage adds ``<id>_person``, ``<id>_method`` and ``<id>_score`` beside it
    (``person_id``, ``resolve_method`` and ``resolve_score`` for ``id_no``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="the resident_id or party_id column naming the person")
    name: str = Field(description="the column of the person's name")
    household: str | None = Field(default=None, description="the column of the 户号, if any")
    village: str | None = Field(default=None, description="the column of the 村社, if any")
    town: str | None = Field(default=None, description="the column of the 镇街, if any")
    party: bool = Field(
        default=False,
        description="the column may name a company: a credit code, or a blank ID with an "
        "organisation-like name, is no person mention",
    )
    hinted_by: str | None = Field(
        default=None,
        description="the id of another mention of the row: this one is resolved in a second pass with "
        "that person's household, village and town as a hint (declared relatives of a cadre)",
    )


def _close(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def mention_problems(mentions: list[MentionDecl], types: Mapping[str, str]) -> list[tuple[str, str]]:
    """(place under ``mentions``, message) for each problem of the declarations against the file
    kind's canonical columns ``types`` (name -> column type): a column it does not declare, an id
    that is not an ID column, an id declared twice, a ``hinted_by`` naming no other unhinted mention,
    and a hinted mention that declares the household, village or town it takes from its hint."""
    ids = [m.id for m in mentions]
    problems: list[tuple[str, str]] = []
    for i, m in enumerate(mentions):
        for key in MENTION_COLUMNS:
            col = getattr(m, key)
            if col is not None and col not in types:
                problems.append(
                    (f"{i}.{key}", f"{key} column {col!r} is not a declared column{_close(col, types)}")
                )
        if types.get(m.id, MENTION_ID_TYPES[0]) not in MENTION_ID_TYPES:
            problems.append(
                (
                    f"{i}.id",
                    f"id column {m.id!r} is of type {types[m.id]}: a mention's id is a resident_id or party_id column",
                )
            )
        if ids.index(m.id) != i:
            problems.append((f"{i}.id", f"id column {m.id!r} is declared by mention {ids.index(m.id)} too"))
        if m.hinted_by is not None:
            problems += _hint_problems(i, m, mentions)
    return problems


def _hint_problems(i: int, m: MentionDecl, mentions: list[MentionDecl]) -> list[tuple[str, str]]:
    others = [o for o in mentions if o.id != m.id]
    anchor = next((o for o in others if o.id == m.hinted_by), None)
    problems: list[tuple[str, str]] = []
    if anchor is None:
        problems.append(
            (
                f"{i}.hinted_by",
                f"hinted_by {m.hinted_by!r} is not the id of another mention of this file kind"
                f"{_close(str(m.hinted_by), [o.id for o in others])}",
            )
        )
    elif anchor.hinted_by is not None:
        problems.append(
            (f"{i}.hinted_by", f"hinted_by {m.hinted_by!r} names a mention that is hinted_by another")
        )
    problems += [
        (f"{i}.{key}", f"a mention hinted_by {m.hinted_by!r} takes its {key} from that person: drop {key!r}")
        for key in HINTED
        if getattr(m, key) is not None
    ]
    return problems
