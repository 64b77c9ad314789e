"""The petition feed (信访举报登记, feeds/petition.yml): its sample lands through the generic ingest with
every row accepted or quarantined with a reason, and on a small generated district the petitions
resolve as the truth says: planted cases to their person, a name without an ID or a stranger to
nobody (a review item with candidates), with no resolution failure. Spark local."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

FIXTURE = Path(__file__).parent / "fixtures" / "petition"
FILE = "信访举报登记_202305.csv"


def test_the_sample_lands_and_every_row_is_accepted_or_quarantined_with_a_reason(settings, spark, tmp_path):
    from qingfeng import lake
    from qingfeng.ingest import ingest_dir

    inbox = tmp_path / "inbox"
    shutil.copytree(FIXTURE, inbox)
    report = ingest_dir(settings, inbox, spark=spark)
    (result,) = report.files
    assert (result.status, result.feed, result.table) == ("ingested", "petition", "petition"), result
    assert (result.period_start, result.period_end) == ("2023-05-01", "2023-05-31")
    lines = FIXTURE.joinpath(FILE).read_bytes().decode("gb18030").splitlines()
    assert result.rows_read == len(lines) - 2  # a title line, then the header
    assert result.rows_accepted + result.rows_quarantined == result.rows_read
    assert (result.rows_accepted, result.rows_quarantined) == (6, 5)

    accepted = {
        r["_line"]: r.asDict() for r in lake.read_table(spark, settings, "standardized", "petition").collect()
    }
    assert sorted(accepted) == [3, 4, 5, 6, 7, 8]
    ids = {
        line: (r["subject_id_status"], r["subject_id"], r["subject_id_raw"]) for line, r in accepted.items()
    }
    assert ids[3] == ("valid", "330109196603120033", "330109196603120033")
    assert ids[4] == ("legacy15", "330109195807060023", "330109580706002")  # 15 digits, upgraded
    assert ids[5] == ("blank", None, None)
    assert ids[6] == ("invalid", None, "330109197509210145")  # mistyped: kept for the resolve stage
    assert accepted[5]["reporter"] is None and accepted[5]["reporter_phone"] is None  # anonymous
    assert [str(accepted[n]["registered_on"]) for n in (3, 4, 5, 6)] == [
        "2023-05-04", "2023-05-08", "2023-05-09", "2023-05-12",
    ]  # fmt: skip
    assert accepted[5]["content"] == '反映其在村级工程中指定施工单位，并收受"好处费"'
    assert accepted[8]["subject_name"] is None and accepted[8]["village"] == "青石村"  # about a village

    quarantined = lake.read_table(spark, settings, "quarantine", "petition").collect()
    got = sorted((q["line"], q["reason"], q["column"], q["file"]) for q in quarantined)
    assert got == [
        (9, "value_not_allowed", "channel", FILE),
        (10, "registered_after_period", "registered_on", FILE),
        (11, "unparseable_date", "registered_on", FILE),
        (12, "missing_value", "petition_no", FILE),
        (13, "wrong_field_count", None, FILE),
    ]
    assert result.reasons == {r: 1 for _, r, _, _ in got}


@pytest.fixture(scope="module")
def district(tmp_path_factory, spark):
    """A small generated district: the registry and the petitions, ingested and resolved."""
    from jobs import resolve
    from qingfeng.ingest import ingest_dir
    from qingfeng.settings import get_settings
    from qingfeng.synth.generate import synthesize

    root = tmp_path_factory.mktemp("petition-district")
    exports = root / "exports"
    synthesize(exports, 120, 5, 2023)
    inbox = root / "inbox"
    inbox.mkdir()
    for path in [exports / "户籍人口信息_20231231.csv", *exports.glob("信访举报登记_*.csv")]:
        shutil.copy(path, inbox / path.name)
    settings = get_settings(
        home=root / "home", spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )
    report = ingest_dir(settings, inbox, spark=spark)
    assert all(f.status == "ingested" and f.rows_quarantined == 0 for f in report.files), report.to_json()
    summary = resolve.main(settings, spark=spark)
    truth = [json.loads(t) for t in (exports / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    return settings, [t for t in truth if t.get("table") == "petition"], summary


def test_petitions_resolve_as_the_truth_says(district, spark):
    from jobs.resolve.quality import mention_persons, review_candidates, score
    from qingfeng import lake

    settings, truth, summary = district
    assert summary["tables"]["petition"] == sum(1 for _ in truth)
    q = score(truth, mention_persons(settings, truth), review_candidates(settings, truth))
    assert q.failures == []
    assert q.planted > 0 and q.correct == q.planted and q.traps > 0 and q.reviews > 0

    rows = {
        (r["_file"], r["_line"]): r.asDict()
        for r in lake.read_table(spark, settings, "curated", "petition").collect()
    }
    held = {
        (r["_file"], r["_line"]): r.asDict()
        for r in lake.read_table(spark, settings, "curated", "resolution_quarantine")
        .filter("table = 'petition'")
        .collect()
    }
    for t in truth:
        row, at = rows[(t["file"], t["line"])], (t["file"], t["line"])
        if t["subject"] == "planted_case" and t["type"] == "resolution":  # linked to the planted person
            assert row["subject_id_person"] == t["person_id"], t
            assert row["subject_id_method"] == {
                "petition_id": "id", "petition_legacy15": "id_legacy15", "petition_typo": "id_repair",
            }[t["case"]]  # fmt: skip
        if t["case"] in ("petition_not_in_registry", "petition_name_only"):  # nobody, held for review
            assert row["subject_id_person"] is None and row["subject_id_method"] == "unresolved", t
            assert held[at]["reason"] in ("unresolved", "ambiguous") and held[at]["column"] == "subject_id"
        if t["case"] in ("petition_village", "petition_company"):  # no person mention at all
            assert row["subject_id_person"] is None and row["subject_id_method"] is None and at not in held
    # the reporter stays in curated/petition: the quarantine of mentions carries only the subject, and
    # no rule reads petitions (a petition never makes a clue by itself)
    from jobs.rules.runner import select_specs

    assert not {"reporter", "reporter_phone"} & set(
        lake.read_table(spark, settings, "curated", "resolution_quarantine").columns
    )
    specs = select_specs(None)
    assert len(specs) == 24 and not any("petition" in spec.needs for spec in specs)
