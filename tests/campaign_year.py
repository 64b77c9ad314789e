"""A campaign year (2025) built by hand, row by row, with every figure of the report counted by hand
below (imported by the campaign tests; no tests here).

Times of events and rectifications are stored naive UTC; the report counts Beijing days, so a time at
2025-12-31 16:30 UTC (2026-01-01 00:30 in Beijing) is outside 2025 and 2024-12-31 16:00 UTC inside."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from qingfeng.register.models import (
    CampaignProject,
    CampaignTask,
    Clue,
    Dispatch,
    Event,
    Inspection,
    Institution,
    ProjectReport,
    Rectification,
    Unit,
)

START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
TODAY = dt.date(2026, 1, 15)

LEAD_MZ, LIAISON_MZ = "区民政局", "区纪委监委派驻民政局纪检组"
LEAD_ZJ, LIAISON_ZJ = "区住建局", "区纪委监委派驻住建局纪检组"
LEAD_JY = "区教育局"  # XWPX has no liaison unit

FIGURE_ORDER = (
    "inspections",
    "places",
    "problems_found",
    "problems_rectified",
    "institutions",
    "clues_found",
    "sanctioned",
    "org_handled",
    "accountability",
    "exposed",
    "recovered",
)


def figures(*values: Any) -> dict[str, Any]:
    return dict(zip(FIGURE_ORDER, values, strict=True))


# The per-project table, counted by hand (docs/campaigns.md, 统计口径); rows in code order.
EXPECTED_ROWS = {
    "CJGC": figures(1, 2, 1, 2, 1, 1, 1, 4, 2, 1, Decimal("2500005.00")),
    "MSZJ": figures(2, 3, 3, 2, 2, 3, 3, 4, 1, 1, Decimal("12345679.99")),
    "XWPX": figures(2, 2, 2, 1, 1, 1, 0, 0, 0, 2, Decimal("0.00")),
}
EXPECTED_UNASSIGNED = figures(1, 1, 1, 1, 1, 1, 0, 0, 1, 0, Decimal("53315.01"))
# 东村村委会 was inspected under MSZJ and CJGC: one place of the district, one of each project (3+2+2+1 = 8).
EXPECTED_HEADLINE = figures(6, 7, 7, 6, 5, 6, 4, 8, 4, 4, Decimal("14899000.00"))
EXPECTED_SENTENCE = (
    "共开展检查6次，检查单位（场所）7家，发现问题7个，推动整改问题6个、建立健全制度5项，"
    "发现问题线索6条，党纪政务处分4人、组织处理8人、问责4人，通报曝光典型案例4起，"
    "追缴或挽回资金1489.9万元"
)
EXPECTED_TASKS = {"CJGC": (2, 1, 1), "MSZJ": (3, 1, 1), "XWPX": (1, 1, 0)}  # tasks, done, overdue at TODAY


@dataclass
class Year:
    projects: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    clues: dict[str, int] = field(default_factory=dict)


def utc(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm)


def _clue(
    session: Session, name: str, source: str, project: CampaignProject | None, first: dt.date, status: str
) -> Clue:
    rule = {"rule": "S01", "inspection": "JC", "petition": "XF"}[source] if source != "rule" else "S01"
    clue = Clue(
        rule=rule,
        rule_name={"rule": "规则S01", "inspection": "监督检查发现", "petition": "信访举报"}[source],
        domain="subsidy",
        keys={"case": name},
        fingerprint=hashlib.sha256(f"year:{name}".encode()).hexdigest(),
        subjects=[{"kind": "person", "id": "330109198001011234", "name": f"对象{name}"}]
        if source == "rule"
        else [],
        amount=Decimal("100.00"),
        severity="medium",
        evidence=[{"note": f"问题{name}"}],
        town="城关镇",
        village="东村",
        first_seen=first,
        last_seen=first,
        as_of=first,
        status=status,
        source=source,
        project=project,
    )
    session.add(clue)
    return clue


def _status(session: Session, clue: Clue, to: str, at: dt.datetime, frm: str = "整改") -> None:
    session.add(Event(clue=clue, kind="status_change", from_status=frm, to_status=to, actor="test", at=at))


def _rectify(
    session: Session, clue: Clue, at: dt.datetime, amount: str = "0", **counts: int
) -> Rectification:
    r = Rectification(
        clue=clue,
        measures="整改措施",
        recovered_amount=Decimal(amount),
        sanction_count=counts.get("sanction", 0),
        org_handling_count=counts.get("org", 0),
        accountability_count=counts.get("acc", 0),
        exposure_count=counts.get("exp", 0),
        recorded_by="test",
        recorded_at=at,
    )
    session.add(r)
    return r


def build_year(session: Session) -> Year:
    """The campaign year; see the EXPECTED_* figures above for what each row contributes."""
    year = Year()
    units = {n: Unit(name=n) for n in (LEAD_MZ, LIAISON_MZ, LEAD_ZJ, LIAISON_ZJ, LEAD_JY)}
    session.add_all(units.values())

    def project(
        code: str,
        title: str,
        start: dt.date,
        end: dt.date | None,
        status: str,
        lead: str,
        liaison: str | None,
    ) -> CampaignProject:
        p = CampaignProject(
            code=code,
            title=title,
            domain="subsidy",
            lead_unit=units[lead],
            liaison_unit=units[liaison] if liaison else None,
            office="第一监督检查室",
            hotline="0571-12345678",
            period_start=start,
            period_end=end,
            status=status,
            public=code != "OLD",
            created_by="test",
        )
        session.add(p)
        return p

    mszj = project("MSZJ", "民生资金专项治理", START, END, "进行中", LEAD_MZ, LIAISON_MZ)
    cjgc = project("CJGC", "村级工程项目专项治理", dt.date(2025, 3, 1), None, "进行中", LEAD_ZJ, LIAISON_ZJ)
    xwpx = project(
        "XWPX", "校外培训机构乱象治理", dt.date(2024, 9, 1), dt.date(2025, 6, 30), "已结束", LEAD_JY, None
    )
    project(
        "OLD", "2023年专项治理", dt.date(2023, 1, 1), dt.date(2023, 12, 31), "已结束", LEAD_MZ, LIAISON_MZ
    )
    project("NEW", "2026年专项治理", dt.date(2026, 3, 1), None, "筹备", LEAD_ZJ, LIAISON_ZJ)

    def inspect(day: dt.date, p: CampaignProject | None, *places: str) -> Inspection:
        i = Inspection(
            project=p, inspected_on=day, inspecting_unit="区纪委监委", places=list(places), recorded_by="test"
        )
        session.add(i)
        return i

    inspect(dt.date(2025, 1, 10), mszj, "城关镇敬老院", "东村村委会")
    inspect(dt.date(2025, 2, 15), mszj, " 城关镇敬老院 ", "西村村委会")  # the same home, trimmed
    inspect(dt.date(2025, 3, 20), cjgc, "东村村委会", "红星村工程项目部")  # 东村村委会 again, another project
    inspect(dt.date(2025, 5, 5), xwpx, "ＡＢＣ培训学校", "阳光培训中心")  # full-width: ABC培训学校 (NFKC)
    inspect(dt.date(2025, 6, 6), xwpx, "ABC培训学校", "")  # the same school; an empty name is no place
    inspect(dt.date(2025, 7, 1), None, "区政务中心")
    inspect(dt.date(2024, 12, 31), mszj, "去年的场所")
    inspect(dt.date(2026, 1, 1), mszj, "明年的场所")

    c = {}
    c["C1"] = _clue(session, "C1", "inspection", mszj, dt.date(2025, 1, 10), "销号")
    c["C2"] = _clue(session, "C2", "inspection", mszj, dt.date(2025, 2, 15), "整改")
    c["C3"] = _clue(session, "C3", "petition", mszj, dt.date(2025, 4, 1), "销号")
    c["C4"] = _clue(session, "C4", "rule", mszj, dt.date(2025, 5, 1), "销号")
    c["C5"] = _clue(session, "C5", "rule", cjgc, dt.date(2024, 11, 1), "销号")
    c["C6"] = _clue(session, "C6", "inspection", cjgc, dt.date(2025, 3, 20), "销号")
    c["C7"] = _clue(session, "C7", "rule", cjgc, dt.date(2024, 10, 1), "核查")
    c["C8"] = _clue(session, "C8", "petition", xwpx, dt.date(2025, 5, 5), "核查")
    c["C9"] = _clue(session, "C9", "inspection", xwpx, dt.date(2025, 5, 5), "销号")
    c["C10"] = _clue(session, "C10", "rule", None, dt.date(2025, 8, 1), "销号")
    c["C11"] = _clue(session, "C11", "inspection", None, dt.date(2025, 7, 1), "发现")
    c["C12"] = _clue(session, "C12", "rule", mszj, dt.date(2025, 12, 31), "发现")  # the last day
    c["C13"] = _clue(session, "C13", "petition", cjgc, dt.date(2026, 1, 1), "发现")
    c["C14"] = _clue(session, "C14", "rule", cjgc, dt.date(2025, 1, 1), "整改")  # the first day

    _status(session, c["C1"], "销号", utc(2025, 3, 1))
    _status(session, c["C2"], "整改", utc(2025, 3, 5), frm="处置")  # not a 销号
    _status(session, c["C3"], "销号", utc(2025, 12, 31, 15, 30))  # 23:30 in Beijing: inside
    _status(session, c["C4"], "销号", utc(2025, 12, 31, 16, 30))  # 00:30 on 1 January in Beijing: outside
    _status(session, c["C5"], "销号", utc(2025, 2, 1))
    _status(session, c["C6"], "销号", utc(2025, 4, 1))  # closed, reopened, closed again: one problem
    _status(session, c["C6"], "核查", utc(2025, 4, 10), frm="销号")
    _status(session, c["C6"], "销号", utc(2025, 6, 1))
    _status(session, c["C7"], "销号", utc(2024, 12, 20))  # closed last year, reopened this year
    _status(session, c["C7"], "核查", utc(2025, 1, 5), frm="销号")
    _status(session, c["C9"], "销号", utc(2025, 6, 20))
    _status(session, c["C10"], "销号", utc(2025, 9, 1))
    session.add(Event(clue=c["C8"], kind="comment", actor="test", text="核查中", at=utc(2025, 6, 1)))

    _rectify(session, c["C1"], utc(2025, 2, 20), "0.01", sanction=1)
    _rectify(session, c["C3"], utc(2025, 12, 31, 15, 0), "12345678.99", sanction=2, org=3, acc=1, exp=1)
    _rectify(session, c["C4"], utc(2025, 12, 31, 16, 30), "1000.00", sanction=5)  # 2026 in Beijing
    _rectify(session, c["C6"], utc(2025, 5, 15), "2500000.00", org=4, acc=2, exp=1)
    _rectify(session, c["C5"], utc(2024, 12, 1), "999.00", sanction=1)  # last year
    _rectify(session, c["C9"], utc(2025, 6, 10), exp=2)
    _rectify(session, c["C10"], utc(2025, 8, 20), "53315.01", acc=1)
    _rectify(session, c["C1"], utc(2025, 3, 1), "0.99", org=1)
    _rectify(session, c["C14"], utc(2024, 12, 31, 16, 0), "5.00", sanction=1)  # 1 January 00:00 in Beijing

    def institution(day: dt.date, p: CampaignProject | None, clue: Clue | None = None) -> None:
        session.add(
            Institution(
                project=p, clue=clue, title=f"制度{day}", issued_on=day, issuer="区民政局", recorded_by="test"
            )
        )

    institution(dt.date(2025, 3, 1), mszj)
    institution(dt.date(2025, 11, 30), mszj)
    institution(dt.date(2025, 6, 30), xwpx, c["C9"])
    institution(dt.date(2025, 8, 8), None, c["C1"])  # its own project is none, whatever its clue's
    institution(dt.date(2024, 12, 31), cjgc)
    institution(dt.date(2025, 4, 4), cjgc)

    def task(
        p: CampaignProject,
        deadline: dt.date,
        status: str,
        unit: str | None = None,
        done_at: dt.datetime | None = None,
    ) -> None:
        session.add(
            CampaignTask(
                project=p,
                title=f"任务{deadline}",
                responsible_unit=units[unit] if unit else None,
                responsible_person="负责人",
                deadline=deadline,
                method="自查",
                status=status,
                done_at=done_at,
                created_by="test",
            )
        )

    task(mszj, dt.date(2025, 3, 31), "已完成", LEAD_MZ, utc(2025, 3, 30))  # on time
    task(mszj, dt.date(2025, 6, 30), "进行中", LIAISON_MZ)  # overdue since July
    task(mszj, dt.date(2026, 2, 1), "进行中", LEAD_MZ)  # not yet due
    task(mszj, dt.date(2025, 4, 30), "已取消", LEAD_MZ)  # cancelled: never counted
    task(cjgc, dt.date(2025, 9, 30), "进行中", LIAISON_MZ)  # overdue; MZ's liaison is responsible
    task(cjgc, dt.date(2025, 4, 30), "已完成", LEAD_ZJ, utc(2025, 5, 10))  # done late, in the period
    task(xwpx, dt.date(2024, 11, 30), "已完成", LEAD_JY, utc(2024, 12, 10))  # done late, last year

    session.flush()
    year.projects = {p.code: p.id for p in session.query(CampaignProject)}
    year.units = {u.name: u.id for u in units.values()}
    year.clues = {k: v.id for k, v in c.items()}
    year_reports(session, year)
    year_dispatches(session, year, units)
    session.commit()
    return year


def year_reports(session: Session, year: Year) -> None:
    """Monthly reports (evaluation): MSZJ reports every month of 2025 by the 5th of the next, except
    March (late: 2025-04-07), September (missing) and December (due 2026-01-05, not yet due at END)."""
    for month in range(1, 12):
        if month == 9:
            continue
        due_month = month + 1
        day = 7 if month == 3 else 3
        # 23:00 UTC on the 4th is the 5th in Beijing: on time (due day inclusive)
        at = utc(2025, due_month, 4, 23, 0) if month == 5 else utc(2025, due_month, day)
        session.add(
            ProjectReport(
                project_id=year.projects["MSZJ"],
                month=f"2025-{month:02d}",
                summary="月报",
                submitted_by="test",
                submitted_at=at,
            )
        )


def year_dispatches(session: Session, year: Year, units: dict[str, Unit]) -> None:
    """Dispatches (evaluation): rectified on time = a rectification recorded in the period after the
    dispatch was sent and by its deadline."""

    def send(clue: str, unit: str, sent: dt.datetime, deadline: dt.date, state: str = "sent") -> None:
        session.add(
            Dispatch(
                clue_id=year.clues[clue],
                unit=units[unit],
                deadline=deadline,
                state=state,
                sent_by="test",
                sent_at=sent,
            )
        )

    send("C1", LIAISON_MZ, utc(2025, 2, 1), dt.date(2025, 2, 28))  # R1 2025-02-20: on time
    send("C3", LIAISON_MZ, utc(2025, 12, 1), dt.date(2025, 12, 20))  # R2 on 12-31: late
    send("C6", LIAISON_ZJ, utc(2025, 4, 20), dt.date(2025, 5, 31))  # R4 2025-05-15: on time
    send("C10", LIAISON_ZJ, utc(2025, 8, 1), dt.date(2025, 8, 31))  # R7: on time, but no project
    send("C9", LEAD_JY, utc(2025, 6, 1), dt.date(2025, 6, 10))  # R6 2025-06-10 10:00 UTC: on the day
    send("C14", LIAISON_ZJ, utc(2024, 12, 20), dt.date(2025, 1, 10), state="withdrawn")  # withdrawn
