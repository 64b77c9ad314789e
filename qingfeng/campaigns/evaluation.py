"""评估单: the lead departments (牵头单位) and liaison units (派驻机构) of the projects active in a period,
scored from ``config/campaigns.yml`` ``evaluation``, ranked, with the records behind every point, and
the monthly 督促提醒 list. Which records count for which unit: docs/campaigns.md, "Evaluation"."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qingfeng.campaigns.config import EvaluationConfig
from qingfeng.campaigns.periods import beijing_day, day_bounds, months_between, report_due
from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import PROJECT_PLANNED, TASK_CANCELLED, TASK_DONE
from qingfeng.register.models import (
    CampaignProject,
    CampaignTask,
    Clue,
    Dispatch,
    ProjectReport,
    Rectification,
    Unit,
)

CENT = Decimal("0.01")
LEAD, LIAISON = "牵头单位", "派驻机构"
ITEMS = ("overdue_task", "late_report", "rectified_on_time", "recovered_per_10k")
ITEM_TITLES = {
    "overdue_task": "任务超期(项)",
    "late_report": "月报迟报或未报(次)",
    "rectified_on_time": "按期整改问题(个)",
    "recovered_per_10k": "追缴或挽回资金(万元)",
}


@dataclass(frozen=True)
class Basis:
    """One record behind an item of a score, as the page explains it (a clue links to its page)."""

    text: str
    clue_id: int | None = None


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    quantity: Decimal  # a count, or 万元 for the funds
    weight: Decimal
    points: Decimal  # weight × quantity, to the cent (the score is the base plus these)
    basis: tuple[Basis, ...]


@dataclass(frozen=True)
class UnitScore:
    unit_id: int
    unit: str
    roles: tuple[str, ...]
    projects: tuple[str, ...]  # codes of the projects it leads or is the liaison unit of
    base: Decimal
    items: tuple[Item, ...]
    score: Decimal
    rank: int

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)


@dataclass(frozen=True)
class Reminder:
    unit_id: int
    unit: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    start: dt.date
    end: dt.date
    as_of: dt.date  # the end of the period, or today if earlier
    scores: list[UnitScore]  # ranked, best first
    reminders: list[Reminder]
    last_month: str  # the month whose report the 督促提醒 looks for


@dataclass
class _Unit:
    unit: Unit
    lead_of: list[CampaignProject]
    liaison_of: list[CampaignProject]

    @property
    def projects(self) -> list[CampaignProject]:
        return sorted({p.id: p for p in self.lead_of + self.liaison_of}.values(), key=lambda p: p.code)


def active_projects(session: Session, start: dt.date, end: dt.date) -> list[CampaignProject]:
    """Projects whose period overlaps [start, end] and that are past 筹备 (planning)."""
    stmt = select(CampaignProject).where(
        CampaignProject.status != PROJECT_PLANNED,
        CampaignProject.period_start <= end,
        (CampaignProject.period_end.is_(None)) | (CampaignProject.period_end >= start),
    )
    return list(session.scalars(stmt.order_by(CampaignProject.code)))


def plain(value: Decimal | float) -> str:
    """A weight, count or threshold as written: 100, -5, 0.5 (never 1E+2 or -5.0)."""
    return f"{Decimal(str(value)).normalize():f}"


def _months(p: CampaignProject, start: dt.date, end: dt.date) -> list[str]:
    first, last = max(start, p.period_start), min(end, p.period_end or end)
    return months_between(first, last) if first <= last else []


def _units(projects: list[CampaignProject]) -> dict[int, _Unit]:
    units: dict[int, _Unit] = {}
    for p in projects:
        for unit, lead in ((p.lead_unit, True), (p.liaison_unit, False)):
            if unit is None:
                continue
            entry = units.setdefault(unit.id, _Unit(unit, [], []))
            (entry.lead_of if lead else entry.liaison_of).append(p)
    return units


def _overdue_tasks(
    session: Session, projects: list[CampaignProject], start: dt.date, as_of: dt.date
) -> list[CampaignTask]:
    """Tasks overdue on some day of [start, as_of]: past the deadline and not done by it, and still
    not done on ``start`` (a task done late last year is last year's). Cancelled tasks never count."""
    stmt = select(CampaignTask).where(
        CampaignTask.project_id.in_([p.id for p in projects]),
        CampaignTask.status != TASK_CANCELLED,
        CampaignTask.deadline < as_of,
    )
    out = []
    for task in session.scalars(stmt.order_by(CampaignTask.deadline, CampaignTask.id)):
        done = beijing_day(task.done_at) if task.status == TASK_DONE and task.done_at else None
        if task.status == TASK_DONE and done is None:
            continue  # done, with no date recorded: taken as on time
        if done is None or (done > task.deadline and done >= start):
            out.append(task)
    return out


def _open_on(task: CampaignTask, day: dt.date) -> bool:
    return task.status != TASK_DONE or (task.done_at is not None and beijing_day(task.done_at) > day)


def _late_reports(
    session: Session, projects: list[CampaignProject], start: dt.date, as_of: dt.date, due_day: int
) -> dict[int, list[Basis]]:
    """Per project: each month of the period (and of the project) whose report was due before
    ``as_of`` and was not submitted by its due day, late or missing."""
    submitted = {
        (r.project_id, r.month): beijing_day(r.submitted_at)
        for r in session.scalars(
            select(ProjectReport).where(ProjectReport.project_id.in_([p.id for p in projects]))
        )
    }
    out: dict[int, list[Basis]] = defaultdict(list)
    for p in projects:
        for month in _months(p, start, as_of):
            due = report_due(month, due_day)
            if due >= as_of:
                continue
            day = submitted.get((p.id, month))
            if day is None or day > as_of:
                out[p.id].append(Basis(f"{p.code} {month} 月报未报送(应于 {due.isoformat()} 前报送)"))
            elif day > due:
                out[p.id].append(
                    Basis(f"{p.code} {month} 月报迟报:{day.isoformat()} 报送,应于 {due.isoformat()} 前")
                )
    return out


def _rectified_on_time(
    session: Session, unit_ids: list[int], start: dt.date, as_of: dt.date
) -> dict[int, list[Basis]]:
    """Per unit: problems of a campaign project (any project) dispatched to it (not withdrawn) with a
    rectification recorded in [start, as_of], after the dispatch was sent and by its deadline."""
    since, until = day_bounds(start, as_of)
    rows = session.execute(
        select(Dispatch.unit_id, Dispatch.clue_id, Dispatch.deadline, Rectification.recorded_at, Clue.rule)
        .join(Rectification, Rectification.clue_id == Dispatch.clue_id)
        .join(Clue, Clue.id == Dispatch.clue_id)
        .where(
            Dispatch.unit_id.in_(unit_ids),
            Dispatch.state != "withdrawn",
            Clue.project_id.is_not(None),
            Rectification.recorded_at >= since,
            Rectification.recorded_at < until,
            Rectification.recorded_at >= Dispatch.sent_at,
        )
        .order_by(Rectification.recorded_at)
    )
    found: dict[int, dict[int, Basis]] = defaultdict(dict)
    for unit_id, clue_id, deadline, recorded_at, rule in rows:
        day = beijing_day(recorded_at)
        if day <= deadline and clue_id not in found[unit_id]:
            text = f"#{clue_id} {rule}:{day.isoformat()} 登记整改,期限 {deadline.isoformat()}"
            found[unit_id][clue_id] = Basis(text, clue_id)
    return {unit_id: list(by_clue.values()) for unit_id, by_clue in found.items()}


def _recovered(
    session: Session, projects: list[CampaignProject], start: dt.date, as_of: dt.date
) -> dict[int, Decimal]:
    """Funds recovered per project: rectifications recorded in [start, as_of] on the project's problems."""
    since, until = day_bounds(start, as_of)
    rows = session.execute(
        select(Clue.project_id, func.sum(Rectification.recovered_amount))
        .join(Rectification.clue)
        .where(
            Clue.project_id.in_([p.id for p in projects]),
            Rectification.recorded_at >= since,
            Rectification.recorded_at < until,
        )
        .group_by(Clue.project_id)
    )
    return {p: Decimal(total or 0).quantize(CENT) for p, total in rows}


def _item(key: str, quantity: Decimal, weight: float, basis: list[Basis], cap: float | None = None) -> Item:
    w = Decimal(str(weight))
    points = (w * quantity).quantize(CENT, rounding=ROUND_HALF_UP) + CENT * 0  # -0.00 is 0.00
    if cap is not None:
        points = min(points, Decimal(str(cap)).quantize(CENT))
    return Item(key, ITEM_TITLES[key], quantity, w, points, tuple(basis))


def evaluate(
    session: Session, start: dt.date, end: dt.date, config: EvaluationConfig, *, today: dt.date | None = None
) -> Evaluation:
    """Score, rank and list for 督促提醒 the units of the projects active in [start, end]."""
    if start > end:
        raise InvalidInput(f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    as_of = min(end, today or dt.date.today())
    if as_of < start:
        raise InvalidInput(f"评估期间 {start.isoformat()} 起尚未开始")
    projects = active_projects(session, start, end)
    units = _units(projects)
    tasks = _overdue_tasks(session, projects, start, as_of)
    reports = _late_reports(session, projects, start, as_of, config.report_due_day)
    on_time = _rectified_on_time(session, list(units), start, as_of)
    recovered = _recovered(session, projects, start, as_of)
    weights = config.weights
    base = Decimal(str(config.base)).quantize(CENT)

    unranked = []
    for unit_id, u in units.items():
        led = {p.id for p in u.lead_of}
        mine = [t for t in tasks if t.project_id in led or t.responsible_unit_id == unit_id]
        late = [b for p in u.lead_of for b in reports.get(p.id, [])]
        funds = {p.code: recovered.get(p.id, Decimal("0.00")) for p in u.projects}
        total = sum(funds.values(), Decimal("0.00"))
        items = (
            _item("overdue_task", Decimal(len(mine)), weights.overdue_task, [_task_basis(t) for t in mine]),
            _item("late_report", Decimal(len(late)), weights.late_report, late),
            _item(
                "rectified_on_time",
                Decimal(len(on_time.get(unit_id, []))),
                weights.rectified_on_time,
                on_time.get(unit_id, []),
            ),
            _item(
                "recovered_per_10k",
                total / 10000,
                weights.recovered_per_10k,
                [Basis(f"{code}:{amount:,.2f} 元") for code, amount in funds.items() if amount],
                weights.recovered_cap,
            ),
        )
        roles = tuple(r for r, of in ((LEAD, u.lead_of), (LIAISON, u.liaison_of)) if of)
        score = base + sum((i.points for i in items), Decimal("0.00"))
        unranked.append((u, roles, items, score))

    unranked.sort(key=lambda e: (-e[3], e[0].unit.name))
    scores: list[UnitScore] = []
    rank = 0
    for n, (u, roles, items, score) in enumerate(unranked, start=1):
        rank = rank if scores and scores[-1].score == score else n
        codes = tuple(p.code for p in u.projects)
        scores.append(UnitScore(u.unit.id, u.unit.name, roles, codes, base, items, score, rank))
    last_month = _previous_month(as_of)
    reminders = _reminders(scores, units, tasks, projects, session, as_of, last_month, config)
    return Evaluation(start, end, as_of, scores, reminders, last_month)


def _task_basis(task: CampaignTask) -> Basis:
    state = "未完成" if task.done_at is None else f"{beijing_day(task.done_at).isoformat()} 完成"
    return Basis(
        f"{task.project.code} 任务#{task.id}「{task.title}」期限 {task.deadline.isoformat()},{state}"
    )


def _previous_month(day: dt.date) -> str:
    first = day.replace(day=1) - dt.timedelta(days=1)
    return first.strftime("%Y-%m")


def _reminders(
    scores: list[UnitScore],
    units: dict[int, _Unit],
    tasks: list[CampaignTask],
    projects: list[CampaignProject],
    session: Session,
    as_of: dt.date,
    last_month: str,
    config: EvaluationConfig,
) -> list[Reminder]:
    """督促提醒 as of ``as_of``: a score below ``remind_below``, tasks overdue and still open, or a
    project it leads with no report for last month (with its due day, passed or not)."""
    month_start = dt.date.fromisoformat(f"{last_month}-01")
    month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    running = [
        p
        for p in projects
        if p.period_start <= month_end and (p.period_end is None or p.period_end >= month_start)
    ]
    reported = set(
        session.scalars(
            select(ProjectReport.project_id).where(
                ProjectReport.month == last_month, ProjectReport.submitted_at < day_bounds(as_of, as_of)[1]
            )
        )
    )
    due = report_due(last_month, config.report_due_day)
    threshold = Decimal(str(config.remind_below))
    out = []
    for s in scores:
        reasons = []
        if s.score < threshold:
            reasons.append(f"评分 {s.score} 低于 {plain(threshold)} 分")
        led = {p.id for p in units[s.unit_id].lead_of}
        still_open = [
            t
            for t in tasks
            if (t.project_id in led or t.responsible_unit_id == s.unit_id) and _open_on(t, as_of)
        ]
        if still_open:
            reasons.append(f"{len(still_open)} 项任务超期未完成")
        for p in running:
            if p.id in led and p.id not in reported:
                state = "已超期" if due < as_of else "截止"
                reasons.append(f"{p.code} {last_month} 月报未报送({state} {due.isoformat()})")
        if reasons:
            out.append(Reminder(s.unit_id, s.unit, tuple(reasons)))
    return out
