"""The campaign report and the evaluation as JSON-ready data and as XLSX workbooks (the headline, the
per-project table, the months and the records behind every figure), for the CLI and the pages alike.
Cells go through ``qingfeng.web.exports.to_xlsx``: the viewer's masking, no live formula, amounts as
numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns.evaluation import Evaluation, plain
from qingfeng.campaigns.periods import beijing_day
from qingfeng.campaigns.records import Closed, Place, figure_records, period_rectifications
from qingfeng.campaigns.report import (
    FIGURE_TITLES,
    FIGURES,
    NO_PROJECT,
    CampaignReport,
    Figures,
    ProjectFigures,
)
from qingfeng.register.lifecycle import SOURCE_TITLES
from qingfeng.register.models import CampaignProject, Clue, Inspection, Institution, Rectification
from qingfeng.web import exports
from qingfeng.web.masking import Masker
from qingfeng.web.rows import subject_line

Sheet = tuple[str, Sequence[str], list[list[Any]]]
UNASSIGNED = "未归入项目"
TASK_TITLES = ("任务(项)", "已完成(项)", "超期未完成(项)")


def scope_label(report: CampaignReport) -> str:
    if report.project is not None:
        return f"{report.project.code} {report.project.title}"
    return UNASSIGNED if report.scope == NO_PROJECT else "全区"


def report_data(report: CampaignReport) -> dict[str, Any]:
    """The report as JSON-ready data (amounts as exact strings)."""

    def as_json(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, dict):
            return {k: as_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [as_json(v) for v in value]
        return value.isoformat() if hasattr(value, "isoformat") else value

    return as_json(
        {
            "from": report.start,
            "to": report.end,
            "scope": scope_label(report),
            "sentence": report.sentence,
            "headline": dataclasses.asdict(report.headline),
            "projects": [dataclasses.asdict(p) for p in report.projects],
            "unassigned": dataclasses.asdict(report.unassigned) if report.unassigned else None,
            "months": report.months,
            "series": report.series,
        }
    )


def _figures(f: Figures) -> list[Any]:
    return [f.value(k) for k in FIGURES]


def _tasks(p: ProjectFigures) -> list[int]:
    return [p.tasks, p.tasks_done, p.tasks_overdue]


def report_sheets(session: Session, report: CampaignReport, masker: Masker) -> list[Sheet]:
    period = f"{report.start.isoformat()} 至 {report.end.isoformat()}"
    headline: list[list[Any]] = [["统计期间", period], ["统计范围", scope_label(report)]]
    headline += [[FIGURE_TITLES[k], report.headline.value(k)] for k in FIGURES]
    headline.append(["表述", report.sentence])
    table_header = [
        "项目代码",
        "项目名称",
        "牵头单位",
        "派驻机构",
        "状态",
        *FIGURE_TITLES.values(),
        *TASK_TITLES,
    ]
    table = [
        [p.code, p.title, p.lead_unit or "", p.liaison_unit or "", p.status, *_figures(p.figures), *_tasks(p)]
        for p in report.projects
    ]
    if report.unassigned is not None and report.scope is None:
        table.append(["", UNASSIGNED, "", "", "", *_figures(report.unassigned), None, None, None])
    table.append(["", "合计(检查单位按全区去重)", "", "", "", *_figures(report.headline), None, None, None])
    months = [[m, *(report.series[k][i] for k in FIGURES)] for i, m in enumerate(report.months)]
    return [
        ("汇总", ["指标", "数值"], headline),
        ("分项目", table_header, table),
        ("月度", ["月份", *FIGURE_TITLES.values()], months),
        *record_sheets(session, report, masker),
    ]


def _projects(session: Session) -> dict[int | None, str]:
    labels: dict[int | None, str] = {None: UNASSIGNED}
    for p in session.scalars(select(CampaignProject)):
        labels[p.id] = f"{p.code} {p.title}"
    return labels


CLUE_HEADER = ["编号", "来源", "类别", "项目", "乡镇", "村社", "涉及对象", "涉及金额(元)", "状态", "首次发现"]


def clue_cells(clue: Clue, projects: dict[int | None, str], masker: Masker) -> list[Any]:
    return [
        clue.id,
        SOURCE_TITLES.get(clue.source, clue.source),
        f"{clue.rule} {clue.rule_name or ''}".strip(),
        projects.get(clue.project_id, ""),
        clue.town or "",
        clue.village or "",
        subject_line(clue, masker),
        clue.amount,
        clue.status,
        clue.first_seen.isoformat(),
    ]


def record_sheets(session: Session, report: CampaignReport, masker: Masker) -> list[Sheet]:
    """One sheet per kind of record behind the figures (the outcomes: every rectification of the period)."""
    projects = _projects(session)
    span = (report.start, report.end)

    def rows(figure: str) -> list[Any]:
        return figure_records(session, figure, *span, project_id=report.scope).rows

    inspections = [_inspection(i, projects) for i in rows("inspections")]
    places = [_place(p, projects) for p in rows("places")]
    found = [clue_cells(c, projects, masker) for c in rows("problems_found")]
    closed = [
        [*clue_cells(c.clue, projects, masker), beijing_day(c.closed_at).isoformat()]
        for c in rows("problems_rectified")
        if isinstance(c, Closed)
    ]
    institutions = [_institution(i, projects) for i in rows("institutions")]
    clues = [clue_cells(c, projects, masker) for c in rows("clues_found")]
    rectifications = [
        _rectification(r, projects) for r in period_rectifications(session, *span, report.scope)
    ]
    return [
        ("开展检查", INSPECTION_HEADER, inspections),
        ("检查单位(场所)", ["单位(场所)", "检查次数", "检查日期", "项目"], places),
        ("发现问题", CLUE_HEADER, found),
        ("推动整改问题", [*CLUE_HEADER, "销号日期"], closed),
        ("建立健全制度", ["编号", "制度名称", "印发日期", "制定单位", "项目", "关联问题"], institutions),
        ("发现问题线索", CLUE_HEADER, clues),
        ("整改与处理", RECTIFICATION_HEADER, rectifications),
    ]


INSPECTION_HEADER = ["编号", "检查日期", "项目", "检查单位", "被检查单位(场所)", "检查情况"]
RECTIFICATION_HEADER = [
    "编号",
    "问题编号",
    "项目",
    "登记日期",
    "整改措施",
    "党纪政务处分(人)",
    "组织处理(人)",
    "问责(人)",
    "通报曝光(起)",
    "追缴或挽回资金(元)",
]


def _inspection(i: Inspection, projects: dict[int | None, str]) -> list[Any]:
    places = "、".join(str(p) for p in i.places or [] if str(p).strip())
    return [
        i.id,
        i.inspected_on.isoformat(),
        projects.get(i.project_id, ""),
        i.inspecting_unit,
        places,
        i.summary or "",
    ]


def _place(p: Place, projects: dict[int | None, str]) -> list[Any]:
    days = "、".join(sorted({i.inspected_on.isoformat() for i in p.inspections}))
    names = "、".join(dict.fromkeys(projects.get(i.project_id, "") for i in p.inspections))
    return [p.name, len(p.inspections), days, names]


def _institution(i: Institution, projects: dict[int | None, str]) -> list[Any]:
    return [i.id, i.title, i.issued_on.isoformat(), i.issuer or "", projects.get(i.project_id, ""), i.clue_id]


def _rectification(r: Rectification, projects: dict[int | None, str]) -> list[Any]:
    return [
        r.id,
        r.clue_id,
        projects.get(r.clue.project_id, ""),
        beijing_day(r.recorded_at).isoformat(),
        r.measures,
        r.sanction_count,
        r.org_handling_count,
        r.accountability_count,
        r.exposure_count,
        r.recovered_amount,
    ]


def report_xlsx(session: Session, report: CampaignReport, masker: Masker) -> bytes:
    return exports.to_xlsx(report_sheets(session, report, masker), masker=masker)


# ---- the evaluation ----------------------------------------------------------------------------------

EVALUATION_HEADER = ["名次", "单位", "角色", "项目", "基础分", "任务超期(项)", "月报迟报或未报(次)"]
EVALUATION_HEADER += ["按期整改问题(个)", "追缴或挽回资金(万元)", "得分"]


def evaluation_rows(ev: Evaluation) -> list[list[Any]]:
    return [
        [
            s.rank,
            s.unit,
            "、".join(s.roles),
            "、".join(s.projects),
            s.base,
            *(i.quantity for i in s.items),
            s.score,
        ]
        for s in ev.scores
    ]


def evaluation_data(ev: Evaluation) -> dict[str, Any]:
    return {
        "from": ev.start.isoformat(),
        "to": ev.end.isoformat(),
        "as_of": ev.as_of.isoformat(),
        "ranking": [
            {
                "rank": s.rank,
                "unit": s.unit,
                "roles": list(s.roles),
                "projects": list(s.projects),
                "base": plain(s.base),
                "score": f"{s.score:.2f}",
                "items": [
                    {
                        "key": i.key,
                        "title": i.title,
                        "quantity": plain(i.quantity),
                        "weight": plain(i.weight),
                        "points": f"{i.points:.2f}",
                        "basis": [b.text for b in i.basis],
                    }
                    for i in s.items
                ],
            }
            for s in ev.scores
        ],
        "reminders": [{"unit": r.unit, "reasons": list(r.reasons)} for r in ev.reminders],
    }


def evaluation_xlsx(ev: Evaluation, masker: Masker) -> bytes:
    breakdown = [
        [s.unit, i.title, i.quantity, i.weight, i.points, "；".join(b.text for b in i.basis)]
        for s in ev.scores
        for i in s.items
    ]
    reminders = [[r.unit, "；".join(r.reasons)] for r in ev.reminders]
    return exports.to_xlsx(
        [
            ("评估排名", EVALUATION_HEADER, evaluation_rows(ev)),
            ("评分明细", ["单位", "评分项", "数量", "权重", "得分", "依据"], breakdown),
            (f"督促提醒({ev.last_month})", ["单位", "提醒事项"], reminders),
        ],
        masker=masker,
    )
