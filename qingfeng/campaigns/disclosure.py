"""向社会公开: what the public page shows, as plain data (docs/campaigns.md, "Public disclosure").

Only projects marked public and past 筹备; per project its title, lead unit, hotline, period, status
and four aggregate results over its period up to today, from ``report.project_figures``; and the
district totals. No name, ID, account, village, town, clue or task text reaches this module's
output, and small figures are withheld (``count_shown``, ``funds_shown``, ``total_shown``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns.report import ProjectFigures, project_figures
from qingfeng.register.lifecycle import PROJECT_PLANNED
from qingfeng.register.models import CampaignProject

FIGURES = ("rectified", "institutions", "exposed", "recovered")
FIGURE_TITLES = {
    "rectified": "推动整改问题(个)",
    "institutions": "建立健全制度(项)",
    "exposed": "通报曝光典型案例(起)",
    "recovered": "追缴或挽回资金",
}
WAN = Decimal(10000)
TENTH = Decimal("0.1")
FUNDS_WITHHELD = "不单独公布"


@dataclass(frozen=True)
class Shown:
    """One figure as the public reads it: ``text``; ``value`` is the exact figure when it is shown
    as it is, None when it is withheld (``少于3``) or only a lower bound is shown (``不少于…``)."""

    value: int | Decimal | None
    text: str


@dataclass(frozen=True)
class PublicProject:
    title: str
    lead_unit: str | None
    hotline: str | None
    period_start: dt.date
    period_end: dt.date | None
    status: str
    rectified: Shown
    institutions: Shown
    exposed: Shown
    recovered: Shown


@dataclass(frozen=True)
class Disclosure:
    as_of: dt.date
    min_count: int
    projects: tuple[PublicProject, ...]
    totals: dict[str, Shown]


def count_shown(count: int, min_count: int) -> Shown:
    """0 and counts of at least ``min_count`` as they are; 1 … min_count-1 as ``少于{min_count}``."""
    if count == 0 or count >= min_count:
        return Shown(count, str(count))
    return Shown(None, f"少于{min_count}")


def wan(amount: Decimal) -> str:
    """Yuan as 万元 to one decimal (the year-end report's unit): no single payment can be matched."""
    rounded = (amount / WAN).quantize(TENTH, rounding=ROUND_HALF_UP)
    if amount > 0 and rounded == 0:
        return "不足0.1万元"
    return f"{rounded:,}万元"


def funds_shown(recovered: Decimal, rectified: int, min_count: int) -> Shown:
    """Funds only for a project with at least ``min_count`` problems rectified: the sum of one or two
    problems' recoveries is one household's subsidy or one worker's wages."""
    if rectified < min_count:
        return Shown(None, FUNDS_WITHHELD)
    return Shown(recovered, wan(recovered))


def total_shown(figure: str, shown: list[Shown]) -> Shown:
    """The district total of one column: exact when no project's figure in it is withheld; otherwise
    a lower bound from what is shown (a withheld count is at least 1), so that no subtraction from
    the total recovers a withheld figure."""
    known = [s.value for s in shown if s.value is not None]
    if figure == "recovered":
        funds = sum((Decimal(v) for v in known), Decimal(0))
        if len(known) == len(shown):
            return Shown(funds, wan(funds))
        return Shown(None, f"不少于{wan(funds)}" if known else FUNDS_WITHHELD)
    count = sum(int(v) for v in known)
    if len(known) == len(shown):
        return Shown(count, str(count))
    return Shown(None, f"不少于{count + len(shown) - len(known)}")


def _project(f: ProjectFigures, min_count: int) -> PublicProject:
    return PublicProject(
        title=f.title,
        lead_unit=f.lead_unit,
        hotline=f.hotline,
        period_start=f.period_start,
        period_end=f.period_end,
        status=f.status,
        rectified=count_shown(f.problems_rectified, min_count),
        institutions=count_shown(f.institutions, min_count),
        exposed=count_shown(f.exposed, min_count),
        recovered=funds_shown(f.recovered, f.problems_rectified, min_count),
    )


def public_figures(session: Session, today: dt.date) -> list[ProjectFigures]:
    """The figures of every public project past 筹备, each over its period up to ``today``."""
    projects = session.scalars(
        select(CampaignProject)
        .where(CampaignProject.public.is_(True), CampaignProject.status != PROJECT_PLANNED)
        .order_by(CampaignProject.period_start, CampaignProject.code)
    ).all()
    out = []
    for p in projects:
        end = min(p.period_end or today, today)
        figures = project_figures(
            session, p.period_start, max(end, p.period_start), project_id=p.id, today=today
        )[0]
        if end < p.period_start:  # not begun yet: nothing of its period has passed
            figures = dataclasses.replace(
                figures, problems_rectified=0, institutions=0, exposed=0, recovered=Decimal(0)
            )
        out.append(figures)
    return out


def public_disclosure(session: Session, *, min_count: int, today: dt.date | None = None) -> Disclosure:
    today = today or dt.date.today()
    projects = tuple(_project(f, min_count) for f in public_figures(session, today))
    totals = {name: total_shown(name, [getattr(p, name) for p in projects]) for name in FIGURES}
    return Disclosure(as_of=today, min_count=min_count, projects=projects, totals=totals)
