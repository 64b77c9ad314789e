"""The campaign report (治理成效) with the records behind every figure, and the evaluation of lead units
(评估单) with the 督促提醒 list: pages, print layout and XLSX (docs/campaigns.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns import exports as campaign_exports
from qingfeng.campaigns.config import CampaignsConfigError, EvaluationConfig, campaigns_config
from qingfeng.campaigns.evaluation import ITEM_TITLES, Evaluation, evaluate, plain
from qingfeng.campaigns.periods import beijing_day, beijing_today, parse_period
from qingfeng.campaigns.records import KINDS, figure_records
from qingfeng.campaigns.report import (
    FIGURE_TITLES,
    FIGURES,
    NO_PROJECT,
    CampaignReport,
    campaign_report,
    default_period,
)
from qingfeng.register.bounds import parse_page, valid_id
from qingfeng.register.errors import RegisterError
from qingfeng.register.lifecycle import SOURCE_TITLES
from qingfeng.register.models import CampaignProject
from qingfeng.web import accounts, exports
from qingfeng.web.charts import bar_chart, line_chart
from qingfeng.web.deps import render
from qingfeng.web.masking import Masker, Unmasked
from qingfeng.web.rows import subject_line

router = APIRouter()
PER_PAGE = 200
TREND = ("inspections", "problems_found", "problems_rectified", "clues_found")


@dataclass(frozen=True)
class Query:
    start: dt.date
    end: dt.date
    scope: int | None  # None: the district; a project id; NO_PROJECT

    def params(self, **extra: Any) -> str:
        scope = "" if self.scope is None else str(self.scope)
        return urlencode(
            {"from": self.start.isoformat(), "to": self.end.isoformat(), "project": scope, **extra}
        )


def _bad(exc: RegisterError) -> HTTPException:
    return HTTPException(400, exc.message)


def _query(request: Request, session: Session) -> Query:
    """``from``/``to`` (default: ``report.default_period``) and ``project`` (an id, 0 for the
    records of no project, empty for the district): a bad value is a 400 naming it, an unknown project 404."""
    q = request.query_params
    first, today = default_period(session, beijing_today())
    try:
        start, end = parse_period(q.get("from") or first.isoformat(), q.get("to") or today.isoformat())
    except RegisterError as exc:
        raise _bad(exc) from exc
    text = (q.get("project") or "").strip()
    if not text:
        return Query(start, end, None)
    if not text.isdigit() or not (text == "0" or valid_id(int(text))):
        raise HTTPException(400, f"项目参数「{text[:20]}」无效:应为项目编号")
    scope = int(text)
    if scope != NO_PROJECT and session.get(CampaignProject, scope) is None:
        raise HTTPException(404, f"未找到专项治理项目 #{scope}")
    return Query(start, end, scope)


def _report(session: Session, query: Query) -> CampaignReport:
    try:
        return campaign_report(session, query.start, query.end, project_id=query.scope)
    except RegisterError as exc:
        raise _bad(exc) from exc


def _linker(request: Request, query: Query) -> Callable[[str, int | None], Unmasked]:
    """The address of the records behind a figure of a scope (the drill-down of every number)."""
    base = request.url_for("campaign_records").path

    def link(figure: str, scope: int | None) -> Unmasked:
        return Unmasked(f"{base}?{Query(query.start, query.end, scope).params(figure=figure)}")

    return link


def _charts(report: CampaignReport) -> dict[str, Markup]:
    series = {FIGURE_TITLES[k].split("(")[0]: [float(v) for v in report.series[k]] for k in TREND}
    rows = [(p.code, p.figures) for p in report.projects]
    if report.unassigned is not None and report.scope is None:
        rows.append(("未归入项目", report.unassigned))
    return {
        "trend": line_chart(report.months, series, title="按月工作量"),
        "rectified": bar_chart(
            [(code, float(f.problems_rectified)) for code, f in rows], title="各项目推动整改问题(个)"
        ),
        "recovered": bar_chart(
            [(code, round(float(f.recovered / 10000), 2)) for code, f in rows],
            title="各项目追缴或挽回资金(万元)",
            color="#b22222",
        ),
    }


def _projects(session: Session) -> list[CampaignProject]:
    return list(session.scalars(select(CampaignProject).order_by(CampaignProject.code)))


@router.get("/reports/campaign", name="campaign_report")
def report_page(request: Request) -> Response:
    with request.app.state.sessions() as session:
        query = _query(request, session)
        report = _report(session, query)
        projects = [(p.id, f"{p.code} {p.title}") for p in _projects(session)]
    accounts.audit(request, "view", target="campaign_report", detail=_detail(report))
    return render(
        request,
        "campaign_report.html",
        title="专项治理工作成效",
        active="campaign_report",
        query=query,
        report=report,
        scope=campaign_exports.scope_label(report),
        projects=projects,
        figures=FIGURES,
        titles=FIGURE_TITLES,
        link=_linker(request, query),
        charts=_charts(report),
        no_project=NO_PROJECT,
        generated=dt.datetime.now(dt.UTC),
    )


def _detail(report: CampaignReport) -> str:
    return f"{report.start.isoformat()}~{report.end.isoformat()} {campaign_exports.scope_label(report)}"


@router.get("/reports/campaign.xlsx", name="campaign_report_xlsx")
def report_xlsx(request: Request) -> Response:
    masker = Masker(request.state.user.full_ids)
    with request.app.state.sessions() as session:
        query = _query(request, session)
        report = _report(session, query)
        body = campaign_exports.report_xlsx(session, report, masker)
    accounts.audit(
        request, "export", target="campaign_report.xlsx", detail=masker.audit_detail(_detail(report))
    )
    name = f"专项治理工作成效_{report.start.isoformat()}_{report.end.isoformat()}.xlsx"
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(name))


@router.get("/reports/campaign/records", name="campaign_records")
def records_page(request: Request) -> Response:
    figure = request.query_params.get("figure") or ""
    if figure not in FIGURES:
        raise HTTPException(400, "请从报告中的数字进入:缺少或未知的统计指标")
    try:
        page = parse_page(request.query_params.get("page"))
    except RegisterError as exc:
        raise _bad(exc) from exc
    masker = Masker(request.state.user.full_ids)
    with request.app.state.sessions() as session:
        query = _query(request, session)
        report = _report(session, query)
        records = figure_records(
            session,
            figure,
            query.start,
            query.end,
            project_id=query.scope,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        labels = {p.id: f"{p.code} {p.title}" for p in _projects(session)}
        rows = [_row(records.kind, r, labels, masker) for r in records.rows]
    accounts.audit(
        request,
        "view",
        target="campaign_records",
        detail=masker.audit_detail(f"{figure} {_detail(report)}; {records.total} 条"),
    )
    pages = max(1, -(-records.total // PER_PAGE))
    return render(
        request,
        "campaign_records.html",
        title=f"{FIGURE_TITLES[figure]} 明细",
        active="campaign_report",
        query=query,
        figure=figure,
        figure_title=FIGURE_TITLES[figure],
        value=report.headline.value(figure),
        scope=campaign_exports.scope_label(report),
        kind=KINDS[figure],
        records=records,
        rows=rows,
        page=page,
        pages=pages,
        back=Unmasked(f"{request.url_for('campaign_report').path}?{query.params()}"),
        page_link=lambda n: Unmasked(f"{request.url.path}?{query.params(figure=figure, page=n)}"),
    )


def _row(kind: str, record: Any, labels: dict[int, str], masker: Masker) -> dict[str, Any]:
    """One record as the drill-down page shows it (text through the viewer's masker at the template)."""
    if kind == "place":
        return {"name": record.name, "inspections": record.inspections}
    if kind == "clue":
        clue = getattr(record, "clue", record)
        closed = getattr(record, "closed_at", None)
        return {
            "clue": clue,
            "source": SOURCE_TITLES.get(clue.source, clue.source),
            "project": _label(labels, clue.project_id),
            "subjects": subject_line(clue, masker),
            "closed": beijing_day(closed) if closed else None,
        }
    project_id = record.clue.project_id if kind == "rectification" else record.project_id
    return {"record": record, "project": _label(labels, project_id)}


def _label(labels: dict[int, str], project_id: int | None) -> str:
    return labels.get(project_id, "") if project_id else campaign_exports.UNASSIGNED


def _evaluation_config(request: Request) -> EvaluationConfig:
    try:
        return campaigns_config(request.app.state.settings.campaigns_config).evaluation
    except CampaignsConfigError as exc:
        raise HTTPException(500, f"专项治理配置有误:{exc}") from exc


def _evaluation(request: Request) -> tuple[Evaluation, EvaluationConfig, Query]:
    config = _evaluation_config(request)
    with request.app.state.sessions() as session:
        query = _query(request, session)
        try:
            return evaluate(session, query.start, query.end, config), config, query
        except RegisterError as exc:
            raise _bad(exc) from exc


@router.get("/reports/evaluation", name="campaign_evaluation")
def evaluation_page(request: Request) -> Response:
    ev, config, query = _evaluation(request)
    accounts.audit(request, "view", target="campaign_evaluation", detail=f"{ev.start}~{ev.end}")
    return render(
        request,
        "campaign_evaluation.html",
        title="专项治理评估单",
        active="campaign_evaluation",
        ev=ev,
        config=config,
        query=query,
        item_titles=ITEM_TITLES,
        weights={k: plain(getattr(config.weights, k)) for k in ITEM_TITLES},
        plain=plain,
    )


@router.get("/reports/evaluation.xlsx", name="campaign_evaluation_xlsx")
def evaluation_xlsx(request: Request) -> Response:
    ev = _evaluation(request)[0]
    masker = Masker(request.state.user.full_ids)
    body = campaign_exports.evaluation_xlsx(ev, masker)
    accounts.audit(request, "export", target="campaign_evaluation.xlsx", detail=f"{ev.start}~{ev.end}")
    name = f"专项治理评估单_{ev.start.isoformat()}_{ev.end.isoformat()}.xlsx"
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(name))
