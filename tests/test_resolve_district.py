"""Resolution on the generator's district: every planted case resolves, no trap merges (slow)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]


@pytest.fixture(scope="module")
def district(tmp_path_factory, spark):
    from jobs import kinship, resolve
    from qingfeng.ingest import ingest_dir
    from qingfeng.settings import get_settings
    from qingfeng.synth.generate import synthesize

    root = tmp_path_factory.mktemp("district")
    exports = root / "exports"
    synthesize(exports, 60, 3, 2023, progress=lambda _msg: None)
    settings = get_settings(
        home=root / "home", spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )
    ingest_dir(settings, exports, spark=spark)
    summary = resolve.main(settings, spark=spark)
    graph = kinship.main(settings, spark=spark)
    return settings, exports / "truth.jsonl", summary, graph


def test_every_planted_resolution_resolves_and_no_trap_merges(district, spark):
    from jobs.resolve.quality import quality_from_lake

    settings, truth_path, summary, _ = district
    result = quality_from_lake(settings, truth_path)
    assert result.planted > 0 and result.traps > 0
    assert result.failures == []
    assert result.reviews > 0  # the petitions' review items offer their person (docs/synth.md)
    assert (result.precision, result.recall) == (1.0, 1.0)
    assert summary["methods"].get("household_name", 0) > 0


def test_resolution_quality_command_prints_precision_and_recall(district):
    from click.testing import CliRunner

    from qingfeng.cli import main

    settings, truth_path, _, _ = district
    result = CliRunner().invoke(
        main,
        [
            "resolution-quality",
            "--truth",
            str(truth_path),
            "--home",
            str(settings.home),
            "--min-precision",
            "1.0",
            "--min-recall",
            "1.0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "precision 1.0000  recall 1.0000" in result.output


def test_graph_stage_writes_relations_and_kin_for_the_district(district, spark):
    from qingfeng import lake

    settings, _, _, graph = district
    assert graph["tables"]["relation"] > 0 and graph["tables"]["kin"] > 0
    kin = lake.read_table(spark, settings, "curated", "kin")
    assert kin.filter("steps > 2").count() == 0
    assert kin.groupBy("cadre_id", "kin_id").count().filter("count > 1").count() == 0


def test_division_aliases_are_normalised_and_none_is_left_unknown(district, spark):
    """The generator spells ~3% of towns and villages as agencies do (issue #20, item 4)."""
    from qingfeng import lake

    settings, *_ = district
    registry = lake.read_table(spark, settings, "standardized", "registry_person")
    canonical = {(r["town"], r["village"]) for r in registry.select("town", "village").distinct().collect()}
    spelled = 0
    for table in ("subsidy_payment", "cadre", "project", "lease_contract"):
        rows = lake.read_table(spark, settings, "curated", table).select(
            "town", "village", "town_raw", "village_raw"
        )
        pairs = rows.distinct().collect()
        assert {(r["town"], r["village"]) for r in pairs} <= canonical, table
        spelled += sum((r["town"], r["village"]) != (r["town_raw"], r["village_raw"]) for r in pairs)
        assert rows.count() == lake.read_table(spark, settings, "standardized", table).count(), table
    assert spelled > 0
    held = lake.read_table(spark, settings, "curated", "resolution_quarantine")
    assert held.filter("reason = 'unknown_division'").count() == 0
