"""``qingfeng report campaign`` and ``qingfeng report evaluation`` on the hand-built year: formats, the
workbook read back (numbers are numbers), and clear refusals with a non-zero exit."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from campaign_year import END, EXPECTED_HEADLINE, EXPECTED_ROWS, EXPECTED_SENTENCE, START, build_year
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from test_register_support import *  # noqa: F403

from qingfeng.campaigns import exports
from qingfeng.campaigns.config import EvaluationConfig
from qingfeng.campaigns.evaluation import evaluate
from qingfeng.campaigns.report import campaign_report
from qingfeng.cli import main
from qingfeng.register.models import AccessLog

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the figures' SQL is tested on both backends


def run(monkeypatch, register_url, tmp_path, *args):
    monkeypatch.setenv("QINGFENG_REGISTER_URL", register_url)
    return CliRunner().invoke(main, [*args, "--home", str(tmp_path / "home")])


PERIOD = ("--from", "2025-01-01", "--to", "2025-12-31")


def test_campaign_report_text_json_and_project(monkeypatch, register_url, tmp_path, session):
    build_year(session)
    text = run(monkeypatch, register_url, tmp_path, "report", "campaign", *PERIOD)
    assert text.exit_code == 0, text.output
    assert f"2025-01-01 至 2025-12-31（全区），{EXPECTED_SENTENCE}。" in text.output
    assert "未归入项目" in text.output and "14,899,000.00" in text.output
    res = run(monkeypatch, register_url, tmp_path, "report", "campaign", *PERIOD, "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data == json.loads(json.dumps(exports.report_data(campaign_report(session, START, END))))
    assert data["headline"]["recovered"] == "14899000.00" and data["sentence"] == EXPECTED_SENTENCE
    one = run(
        monkeypatch,
        register_url,
        tmp_path,
        "report",
        "campaign",
        *PERIOD,
        "--project",
        "MSZJ",
        "--format",
        "json",
    )
    assert one.exit_code == 0, one.output
    headline = json.loads(one.output)["headline"]
    assert headline == {
        k: (f"{v:.2f}" if isinstance(v, Decimal) else v) for k, v in EXPECTED_ROWS["MSZJ"].items()
    }


def test_campaign_report_workbook(monkeypatch, register_url, tmp_path, session):
    build_year(session)
    path = tmp_path / "out" / "campaign.xlsx"
    res = run(
        monkeypatch,
        register_url,
        tmp_path,
        "report",
        "campaign",
        *PERIOD,
        "--format",
        "xlsx",
        "--out",
        str(path),
    )
    assert res.exit_code == 0, res.output
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["汇总", "分项目", "月度"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["追缴或挽回资金(元)"] == 14899000.0 and summary["开展检查(次)"] == 6
    assert summary["表述"] == EXPECTED_SENTENCE
    table = book["分项目"]
    assert (
        table.freeze_panes == "A2" and table.auto_filter.ref == "A1:S6"
    )  # 19 columns; 3 projects, 未归入项目, 合计
    header = [c.value for c in table[1]]
    rows = {
        r[0] or r[1]: dict(zip(header, r, strict=True)) for r in table.iter_rows(min_row=2, values_only=True)
    }
    assert rows["MSZJ"]["追缴或挽回资金(元)"] == 12345679.99 and rows["MSZJ"]["检查单位(场所)(家)"] == 3
    assert rows["未归入项目"]["追缴或挽回资金(元)"] == 53315.01
    money = table.cell(row=2, column=header.index("追缴或挽回资金(元)") + 1)
    assert money.data_type == "n" and money.number_format == "#,##0.00"
    assert table.column_dimensions["B"].width >= 20  # 村级工程项目专项治理: ten CJK characters
    counts = {
        "开展检查": 6,
        "检查单位(场所)": 7,
        "发现问题": 7,
        "推动整改问题": 6,
        "建立健全制度": 5,
        "发现问题线索": 6,
    }
    for sheet, n in counts.items():
        assert (
            book[sheet].max_row - 1
            == n
            == EXPECTED_HEADLINE[
                {
                    "开展检查": "inspections",
                    "检查单位(场所)": "places",
                    "发现问题": "problems_found",
                    "推动整改问题": "problems_rectified",
                    "建立健全制度": "institutions",
                    "发现问题线索": "clues_found",
                }[sheet]
            ]
        )
    outcomes = list(book["整改与处理"].iter_rows(min_row=2, values_only=True))
    assert sum(Decimal(str(r[-1])) for r in outcomes) == Decimal("14899000.00")
    assert sum(r[5] for r in outcomes) == 4  # 党纪政务处分
    session.expire_all()
    logged = session.scalars(select(AccessLog).where(AccessLog.action == "export")).all()
    assert [(a.target, a.detail) for a in logged] == [
        ("campaign_report.xlsx", "2025-01-01~2025-12-31 全区; 显示完整号码")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-13-01", "--to", "2025-12-31"), "开始日期「2025-13-01」不是有效日期"),
        (("--from", "2025/01/01", "--to", "2025-12-31"), "格式应为 YYYY-MM-DD"),
        (("--from", "2025-12-31", "--to", "2025-01-01"), "开始日期 2025-12-31 晚于结束日期 2025-01-01"),
        ((*PERIOD, "--project", "NOPE"), "未找到专项治理项目「NOPE」"),
        ((*PERIOD, "--format", "xlsx"), "xlsx 需要 --out 文件"),
    ],
)
def test_campaign_report_refusals(monkeypatch, register_url, tmp_path, session, args, message):
    build_year(session)
    res = run(monkeypatch, register_url, tmp_path, "report", "campaign", *args)
    assert res.exit_code == 1 and message in res.output, res.output


def test_evaluation_command(monkeypatch, register_url, tmp_path, session):
    build_year(session)
    res = run(monkeypatch, register_url, tmp_path, "report", "evaluation", *PERIOD, "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    expected = evaluate(session, START, END, EvaluationConfig())  # config/campaigns.yml ships the defaults
    assert [(r["unit"], r["score"]) for r in data["ranking"]] == [
        (s.unit, f"{s.score:.2f}") for s in expected.scores
    ]
    assert [r["unit"] for r in data["reminders"]] == [r.unit for r in expected.reminders]
    text = run(monkeypatch, register_url, tmp_path, "report", "evaluation", *PERIOD)
    assert (
        text.exit_code == 0 and "督促提醒(2025-11)" in text.output and expected.scores[0].unit in text.output
    )
    path = tmp_path / "ev.xlsx"
    res = run(
        monkeypatch,
        register_url,
        tmp_path,
        "report",
        "evaluation",
        *PERIOD,
        "--format",
        "xlsx",
        "--out",
        str(path),
    )
    assert res.exit_code == 0, res.output
    book = load_workbook(path)
    ranking = list(book["评估排名"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[-1]) for r in ranking] == [(s.unit, float(s.score)) for s in expected.scores]
    bad = run(
        monkeypatch, register_url, tmp_path, "report", "evaluation", "--from", "x", "--to", "2025-12-31"
    )
    assert bad.exit_code == 1 and "格式应为 YYYY-MM-DD" in bad.output
