"""Person mentions are declared in the feed files (``mentions:``): the model refuses a broken
declaration with the file, feed, table and key named, and the resolve specs derived from the shipped
feeds are those the resolve stage hard-coded before (jobs/resolve/mentions.py, ``MENTIONS`` and
``RELATIVE``; jobs/resolve/__init__.py, ``STANDARDIZED_TABLES``). No Spark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.resolve.specs import MentionSpec, feed_tables, mention_specs, person_columns
from qingfeng.feeds.model import load_feeds, parse_feed
from qingfeng.settings import PROJECT_ROOT

FEEDS = PROJECT_ROOT / "feeds"

# The specs as the resolve stage hard-coded them before they moved into the feed files.
FORMER_MENTIONS = (
    MentionSpec("subsidy_payment", "id_no", "name", "household_no", "village", "town"),
    MentionSpec("payroll", "id_no", "name"),
    MentionSpec("site_wage", "id_no", "name"),
    MentionSpec("death_record", "id_no", "name"),
    MentionSpec("cadre", "id_no", "name", None, "village", "town"),
    MentionSpec("cadre_relative", "cadre_id", "cadre_name"),
    MentionSpec("marriage_registration", "husband_id", "husband_name"),
    MentionSpec("marriage_registration", "wife_id", "wife_name"),
    MentionSpec("company", "legal_rep_id", "legal_rep_name"),
    MentionSpec("shareholder", "shareholder_id", "shareholder_name", party=True),
    MentionSpec("asset_holding", "owner_id", "owner_name"),
    MentionSpec("lease_contract", "lessee_id", "lessee_name", None, "village", "town", party=True),
)
FORMER_RELATIVE = MentionSpec("cadre_relative", "relative_id", "relative_name")
FORMER_TABLES = {
    "registry_person", "marriage_registration", "death_record", "cadre", "cadre_relative", "subsidy_payment",
    "payroll", "company", "shareholder", "asset_holding", "project", "project_payment", "lease_contract",
    "rent_receivable", "site_wage",
}  # fmt: skip
NEW_FEEDS = {"petition"}  # feeds added since: their mentions are new, not a change of the former ones


def _by_table(specs) -> dict[str, list[MentionSpec]]:
    out: dict[str, list[MentionSpec]] = {}
    for spec in specs:
        out.setdefault(spec.table, []).append(spec)
    return out


def test_the_specs_derived_from_the_feed_files_are_the_former_hard_coded_ones() -> None:
    feeds = [f for f in load_feeds(FEEDS, strict=True) if f.feed not in NEW_FEEDS]
    derived = mention_specs(feeds)
    first = [s for s in derived if s.hinted_by is None]
    hinted = [s for s in derived if s.hinted_by is not None]
    # per table in declaration order: the order of a table's person columns in its curated table
    assert _by_table(first) == _by_table(FORMER_MENTIONS)
    assert hinted == [MentionSpec("cadre_relative", "relative_id", "relative_name", hinted_by="cadre_id")]
    assert [s.outputs for s in hinted] == [FORMER_RELATIVE.outputs]
    assert set(feed_tables(feeds)) == FORMER_TABLES
    assert person_columns(derived, "cadre_relative") == ["cadre_id_person", "relative_id_person"]
    assert person_columns(derived, "subsidy_payment") == ["person_id"]


TOY = """
feed: toy
title: toy visits
files:
  - table: toy_visit
    pattern: 'toy_visits_\\d{4}\\.csv'
    examples: [toy_visits_2023.csv]
    encoding: gbk
    columns:
      编号: {name: visit_no, nullable: false}
      姓名: {name: visitor_name}
      证件号: {name: visitor_id, type: resident_id, on_invalid: keep}
      陪同人: {name: escort_name}
      陪同人证件号: {name: escort_id, type: resident_id, on_invalid: keep}
      村社: {name: village}
    keys: [visit_no]
    mentions:
      - {id: visitor_id, name: visitor_name, village: village}
      - {id: escort_id, name: escort_name, hinted_by: visitor_id}
"""
WHERE = "feed toy, table toy_visit"

# (what is broken, the edit to the toy feed, the field and the message of the error)
MENTION_ERRORS = [
    ("typo'd key", ("village: village}", "vilage: village}"), "files.0.mentions.0.vilage", f"{WHERE}: unknown key 'vilage' (did you mean 'village'?)"),
    ("typo'd required key", ("name: visitor_name,", "nmae: visitor_name,"), "files.0.mentions.0.nmae", f"{WHERE}: unknown key 'nmae' (did you mean 'name'?)"),
    ("undeclared column", ("village: village}", "village: villages}"), "files.0.mentions.0.village", f"{WHERE}: village column 'villages' is not a declared column (did you mean 'village'?)"),
    ("Chinese header instead of the column", ("name: visitor_name,", "name: 姓名,"), "files.0.mentions.0.name", f"{WHERE}: name column '姓名' is not a declared column"),
    ("id that is no ID column", ("{id: visitor_id, name: visitor_name", "{id: visit_no, name: visitor_name"), "files.0.mentions.0.id", f"{WHERE}: id column 'visit_no' is of type string: a mention's id is a resident_id or party_id column"),
    ("id declared twice", ("{id: escort_id, name: escort_name, hinted_by: visitor_id}", "{id: visitor_id, name: escort_name}"), "files.0.mentions.1.id", f"{WHERE}: id column 'visitor_id' is declared by mention 0 too"),
    ("hinted_by naming no mention", ("hinted_by: visitor_id", "hinted_by: visitor"), "files.0.mentions.1.hinted_by", f"{WHERE}: hinted_by 'visitor' is not the id of another mention of this file kind (did you mean 'visitor_id'?)"),
    ("hinted mention with its own village", ("hinted_by: visitor_id}", "hinted_by: visitor_id, village: village}"), "files.0.mentions.1.village", f"{WHERE}: a mention hinted_by 'visitor_id' takes its village from that person: drop 'village'"),
    ("party not a boolean", ("village: village}", "village: village, party: maybe}"), "files.0.mentions.0.party", f"{WHERE}: Input should be a valid boolean"),
]  # fmt: skip


def _feed(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir(exist_ok=True)
    (folder / "toy.yml").write_text(text, encoding="utf-8")
    return folder


def test_a_toy_feed_with_mentions_loads(tmp_path: Path) -> None:
    (feed,) = load_feeds(_feed(tmp_path, TOY), strict=True)
    assert mention_specs([feed]) == (
        MentionSpec("toy_visit", "visitor_id", "visitor_name", None, "village"),
        MentionSpec("toy_visit", "escort_id", "escort_name", hinted_by="visitor_id"),
    )


@pytest.mark.parametrize(
    ("edit", "field", "message"), [e[1:] for e in MENTION_ERRORS], ids=[e[0] for e in MENTION_ERRORS]
)
def test_a_broken_mention_names_file_feed_table_and_key(
    tmp_path: Path, edit, field: str, message: str
) -> None:
    old, new = edit
    assert TOY.count(old) == 1
    parsed = parse_feed(_feed(tmp_path, TOY.replace(old, new)) / "toy.yml")
    assert parsed.spec is None
    problems = [(p.field, p.message) for p in parsed.problems]
    assert any(f == field and m.startswith(message) for f, m in problems), problems


def test_feeds_check_fails_on_a_typo_in_a_mention(tmp_path: Path) -> None:
    from qingfeng.cli import main

    feeds = _feed(tmp_path, TOY.replace("village: village}", "vilage: village}"))
    result = CliRunner().invoke(main, ["feeds", "check", str(feeds)])
    assert result.exit_code == 1, result.output
    expected = (
        f"error: {feeds / 'toy.yml'}: files.0.mentions.0.vilage: feed toy, table toy_visit: "
        "unknown key 'vilage' (did you mean 'village'?)"
    )
    assert expected in result.output.splitlines(), result.output
    as_json = CliRunner().invoke(main, ["feeds", "check", str(feeds), "--json"])
    fields = [p["field"] for p in json.loads(as_json.output)["problems"]]
    assert fields == ["files.0.mentions.0.vilage"]
