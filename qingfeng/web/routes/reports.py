"""Dashboard (工作台) and the monthly progress report (进度月报): tables, SVG charts, XLSX, print."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from qingfeng.register.bounds import parse_month
from qingfeng.register.errors import RegisterError
from qingfeng.register.report import (
    FIGURE_TITLES,
    FIGURES,
    TREND_FIGURES,
    monthly_report,
    monthly_trend,
    months_back,
    open_clue_counts,
    report_rows,
)
from qingfeng.web import accounts, exports
from qingfeng.web.charts import bar_chart, line_chart
from qingfeng.web.deps import render

router = APIRouter()
TREND_MONTHS = 12


def _this_month() -> str:
    return dt.date.today().strftime("%Y-%m")


def _month_param(request: Request) -> str:
    """``?month=YYYY-MM`` (default this month) within ``bounds.month_range``, else 400."""
    try:
        return parse_month(request.query_params.get("month") or _this_month())
    except RegisterError as exc:
        raise HTTPException(400, exc.message) from exc


def _trend(session: Session, month: str) -> tuple[list[str], dict[str, list[float]]]:
    months = months_back(month, TREND_MONTHS)
    series = monthly_trend(session, months)
    return months, {FIGURE_TITLES[k]: [float(v) for v in series[k]] for k in TREND_FIGURES}


def _charts(session: Session, report: dict[str, Any], month: str) -> dict[str, Any]:
    months, series = _trend(session, month)
    by_rule = [
        (f"{k} {report['rule_names'].get(k, '')}"[:16], float(v["found"]))
        for k, v in report["by_rule"].items()
    ]
    by_town = [(k[:12], float(v["found"])) for k, v in report["by_town"].items()]
    return {
        "trend": line_chart(months, series, title=f"近{TREND_MONTHS}个月办理趋势"),
        "rule_bars": bar_chart(by_rule, title=f"{month} 各规则发现线索"),
        "town_bars": bar_chart(by_town, title=f"{month} 各乡镇发现线索", color="#b22222"),
    }


@router.get("/dashboard", name="dashboard")
def dashboard(request: Request) -> Response:
    month = _month_param(request)
    with request.app.state.sessions() as session:
        report = monthly_report(session, month)
        charts = _charts(session, report, month)
        open_counts = open_clue_counts(session)
    accounts.audit(request, "view", target="dashboard", detail=month)
    return render(
        request,
        "dashboard.html",
        title="工作台",
        active="dashboard",
        month=month,
        report=report,
        charts=charts,
        figures=FIGURES,
        titles=FIGURE_TITLES,
        open_rule=bar_chart([(k, float(n)) for k, n in open_counts["by_rule"][:20]], title="在办线索:按规则"),
        open_town=bar_chart(
            [(k, float(n)) for k, n in open_counts["by_town"][:20]], title="在办线索:按乡镇", color="#b22222"
        ),
    )


@router.get("/reports/monthly", name="report")
def report(request: Request) -> Response:
    month = _month_param(request)
    with request.app.state.sessions() as session:
        data = monthly_report(session, month)
        charts = _charts(session, data, month)
    accounts.audit(request, "view", target="report", detail=month)
    return render(
        request,
        "report.html",
        title=f"{month} 进度月报",
        active="report",
        month=month,
        report=data,
        charts=charts,
        figures=FIGURES,
        titles=FIGURE_TITLES,
        generated=dt.datetime.now(dt.UTC),
    )


@router.get("/reports/monthly.xlsx", name="report_xlsx")
def report_xlsx(request: Request) -> Response:
    month = _month_param(request)
    with request.app.state.sessions() as session:
        data = monthly_report(session, month)
        months, series = _trend(session, month)
    header = ["维度", "项目", *[FIGURE_TITLES[k] for k in FIGURES]]
    trend_rows = [[m, *[series[FIGURE_TITLES[k]][i] for k in TREND_FIGURES]] for i, m in enumerate(months)]
    body = exports.to_xlsx(
        [
            (f"{month}进度月报", header, report_rows(data)),
            ("月度趋势", ["月份", *[FIGURE_TITLES[k] for k in TREND_FIGURES]], trend_rows),
        ]
    )
    accounts.audit(request, "export", target="report.xlsx", detail=month)
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(f"进度月报_{month}.xlsx"))
