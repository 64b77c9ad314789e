"""The petition feed (信访举报登记, feeds/petition.yml): its sample lands through the generic ingest with
every row accepted or quarantined with a reason. Spark local."""

from __future__ import annotations

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
