"""A small hand-made district in the shared export formats, written apart from our generator.

``tests/fixtures/blind`` (described in ``tests/fixtures/blind.md``) was written row by row the way another
author might: other column orders, a subsidy month in UTF-8 with BOM instead of GBK, legacy
15-digit IDs (registry, payroll, cadre sheet, shareholder, death record), lower-case ``x``,
``2023年5月10日`` / ``20230410`` / ``2023/2/10`` dates, ``202301`` / ``2023-02`` / ``2023年1月``
months, ``"1,234.00"`` amounts, declared relatives as ``兄弟`` / ``妻子``, a blank ID resolved by
户号 + 姓名, company names differing only by legal form or bracket width, areas in 亩 and 平方米,
instalment rent rows, and site wages across the year boundary in two files.

It plants one case for S01, S03, S06, E01, E07, A01, A02, A05 (×2), P01 and P03 next to a
look-alike of each, and the whole ingest → resolve → graph → rules path must give exactly those
clues: nothing missed, nothing else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

BLIND = Path(__file__).parent / "fixtures" / "blind"
AS_OF = dt.date(2023, 12, 31)

P1, P2, P3, P4 = "330110196503120111", "330110196708080221", "330110197001050314", "330110197209200422"
P5, P13 = "33011019300214068X", "330110197507071315"
CC1, CC5 = "91330110000000001U", "913301100000000058"

EXPECTED = {
    ("S01", (("person", P5), ("programme", "高龄津贴"))),
    ("S03", (("cadre", P1), ("person", P4), ("programme", "临时救助金"))),
    ("S06", (("account", "6228480012345678"),)),
    ("E01", (("company", CC1), ("village", "大陆村"))),
    ("E07", (("project", "YH-2023-005"),)),
    ("A01", (("contract", "DL-GD-007"),)),
    ("A02", (("contract", "DL-GD-002"),)),
    ("A05", (("contract", "DL-DM-001"),)),
    ("A05", (("contract", "DL-DM-002"),)),
    ("P01", (("person", P13),)),
    ("P03", (("project", "YH-2022-101"),)),
}

# The catalogue's keys per rule (../shared/rules.md), written out here, not read from the code.
CATALOGUE_KEYS = {
    **{c: {"person", "programme"} for c in ("S01", "S02", "S05")},
    "S03": {"person", "cadre", "programme"},
    "S04": {"person", "programme", "month"},
    "S06": {"account"},
    "S07": {"person", "programme", "month"},
    "E01": {"village", "company"},
    **{c: {"project"} for c in ("E02", "E03", "E05", "E06", "E07")},
    "E04": {"project", "company"},
    **{c: {"contract"} for c in ("A01", "A02", "A03", "A04", "A05")},
    **{c: {"person"} for c in ("P01", "P02", "P04")},
    "P03": {"project"},
    "P05": {"account"},
}


def run_pipeline(spark, settings, input_dir: Path, as_of: dt.date) -> tuple[object, dict, list[dict]]:
    """ingest → resolve → graph → rules in this process's SparkSession; the clues as plain dicts."""
    from jobs import kinship, resolve
    from jobs.rules import runner
    from qingfeng import lake
    from qingfeng.contract import clue_to_dict
    from qingfeng.ingest import ingest_dir

    report = ingest_dir(settings, input_dir, spark=spark)
    resolved = resolve.main(settings, spark=spark)
    kinship.main(settings, spark=spark)
    summary = runner.main(settings, spark=spark, as_of=as_of)
    assert not summary["skipped"], summary["skipped"]
    clues = [clue_to_dict(r) for r in lake.read_table(spark, settings, "clues", "").collect()]
    return report, resolved, clues


def ids_of(clues: list[dict]) -> set[tuple[str, tuple]]:
    return {(c["rule"], tuple(sorted(c["keys"].items()))) for c in clues}


@pytest.fixture(scope="module")
def blind_run(spark, tmp_path_factory):
    from qingfeng.settings import get_settings

    home = tmp_path_factory.mktemp("blind_home")
    settings = get_settings(
        home=home, spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )
    return run_pipeline(spark, settings, BLIND, AS_OF)


def test_every_blind_row_is_accepted(blind_run) -> None:
    report, _, _ = blind_run
    assert not report.failed and not report.unrecognised
    quarantined = {f.file: f.rows_quarantined for f in report.files if f.rows_quarantined}
    assert quarantined == {}
    assert sum(f.rows_accepted for f in report.files) == sum(f.rows_read for f in report.files) == 99


def test_blind_district_gives_exactly_the_planted_clues(blind_run) -> None:
    _, _, clues = blind_run
    found = ids_of(clues)
    assert found - EXPECTED == set(), "clues on look-alikes"
    assert EXPECTED - found == set(), "planted cases missed"


def test_blind_clues_carry_catalogue_keys_and_evidence(blind_run) -> None:
    _, _, clues = blind_run
    for clue in clues:
        assert set(clue["keys"]) == CATALOGUE_KEYS[clue["rule"]], clue["rule"]
        assert clue["evidence"] and all(e["file"] and e["line"] for e in clue["evidence"]), clue["rule"]
        assert clue["as_of"] == AS_OF.isoformat()
    by_rule = {c["rule"]: c for c in clues}
    s03 = by_rule["S03"]
    assert "王建国" in s03["path"] and "兄弟" in s03["path"] and "张丽" in s03["path"]
    assert any(e["file"] == "民生补助发放明细_202305.csv" and e["line"] == 2 for e in s03["evidence"])
    assert float(by_rule["S01"]["amount"]) == 600.0  # March and April, not January or February
    assert float(by_rule["E07"]["amount"]) == 50000.0  # only the 劳务 firm's payment
    assert float(by_rule["E01"]["amount"]) == 115000.0
    assert float(by_rule["A02"]["amount"]) == 16400.0
    assert {s["id"] for s in by_rule["S06"]["subjects"] if s["kind"] == "person"} == {
        "330110193301010711",
        "330110193402020812",
        "330110193503030913",
    }


def test_catalogue_key_names_are_the_registered_ones() -> None:
    from jobs.rules.runner import select_specs

    assert {s.code: set(s.keys) for s in select_specs()} == CATALOGUE_KEYS


def test_sample_district_clues_have_catalogue_keys(spark, tmp_path) -> None:
    """``qingfeng run``'s stages on the sample exports: all 24 rules run, and every clue is keyed
    exactly as the catalogue says. The sample has no planted anomaly, so it must give no clue at
    all; the key names are also checked on the blind district above and on generated districts
    (test_detection_slow), where every rule fires."""
    from jobs.rules.runner import select_specs
    from qingfeng.settings import get_settings

    sample = Path(__file__).parent / "fixtures" / "sample"
    settings = get_settings(
        home=tmp_path, spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )
    _, _, clues = run_pipeline(spark, settings, sample, dt.date(2023, 12, 31))
    wrong = {
        (c["rule"], tuple(sorted(c["keys"]))) for c in clues if set(c["keys"]) != CATALOGUE_KEYS[c["rule"]]
    }
    assert wrong == set()
    assert {s.code for s in select_specs()} == set(CATALOGUE_KEYS)
    assert [c["rule"] for c in clues] == [], "a clean sample district gives no clue"
