"""Campaign projects with known outcomes, made by ORM rows on a seeded register (the sample register's
units and users): what the public page must show, and what it must not.

``add_public_projects`` makes four projects: two public ones with outcomes (one large enough to show,
one small enough to be withheld), one public but still 筹备 and one not public, whose outcomes must
not appear; the problems name ``people`` (ID, name, account, village), and the tasks, inspections and
evidence carry their names and villages, so that a page leaking the register would show them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from qingfeng.register import users
from qingfeng.register.lifecycle import CLOSED, PROJECT_ACTIVE, PROJECT_CLOSED, PROJECT_PLANNED, RECTIFYING
from qingfeng.register.models import (
    CampaignProject,
    CampaignTask,
    Clue,
    Event,
    Inspection,
    Institution,
    Rectification,
)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    account: str
    village: str
    town: str


SAMPLE_PEOPLE = (
    Person("330109198001011234", "周志强", "6217001234567890123", "青石村", "临江街道"),
    Person("330109197503032222", "吴桂英", "6228480012345678901", "红星村", "城关镇"),
    Person("33010919660505333X", "郑国华", "6222020012345678", "青石村", "临江街道"),
)

# code: (title, lead unit, status, public, period start, period end)
PROJECTS = {
    "MSZJ": ("民生资金专项治理", "区民政局", PROJECT_ACTIVE, True, dt.date(2025, 1, 1), None),
    "NMGGZ": (
        "根治欠薪专项治理",
        "区人力资源和社会保障局",
        PROJECT_CLOSED,
        True,
        dt.date(2024, 3, 1),
        dt.date(2024, 12, 31),
    ),
    "CJGC": ("村级工程项目专项治理", "区农业农村局", PROJECT_PLANNED, True, dt.date(2025, 1, 1), None),
    "MSGC": ("农村集体“三资”码上工程", "区农业农村局", PROJECT_ACTIVE, False, dt.date(2025, 1, 1), None),
}
HOTLINE = "0571-82712388"
# what each project's period holds, by hand (the page shows MSZJ's and NMGGZ's only)
EXPECTED = {
    "MSZJ": {"rectified": 4, "institutions": 3, "exposed": 5, "recovered": Decimal("23456.78")},
    "NMGGZ": {"rectified": 2, "institutions": 1, "exposed": 0, "recovered": Decimal("8000.00")},
    "CJGC": {"rectified": 3, "institutions": 3, "exposed": 3, "recovered": Decimal("30000.00")},
    "MSGC": {"rectified": 6, "institutions": 4, "exposed": 7, "recovered": Decimal("99999.99")},
}


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 30))


def _problem(
    session: Session, project: CampaignProject, n: int, person: Person, day: dt.date, *, closed: bool
) -> Clue:
    """A problem found by inspection, naming ``person`` the way a register would."""
    clue = Clue(
        rule="JC",
        rule_name="监督检查发现问题",
        domain=project.domain,
        keys={"person": person.id, "account": person.account, "village": person.village},
        fingerprint=hashlib.sha256(f"campaignkit:{project.code}:{n}".encode()).hexdigest(),
        subjects=[
            {"kind": "person", "id": person.id, "name": person.name},
            {"kind": "account", "id": person.account, "name": person.name},
            {"kind": "village", "id": person.village, "name": person.village},
        ],
        amount=Decimal("1260.00"),
        severity="medium",
        evidence=[{"note": f"{person.name}({person.id}) 账户 {person.account} 重复领取"}],
        path=f"{person.name} —账户— {person.account}",
        town=person.town,
        village=person.village,
        first_seen=day,
        last_seen=day,
        as_of=day,
        status=CLOSED if closed else RECTIFYING,
        source="inspection",
        project_id=project.id,
        version=1,
    )
    session.add(clue)
    session.flush()
    if closed:
        session.add(
            Event(
                clue_id=clue.id,
                kind="status_change",
                from_status=RECTIFYING,
                to_status=CLOSED,
                actor="super1",
                at=_at(day),
            )
        )
    return clue


def _rectify(session: Session, clue: Clue, day: dt.date, recovered: str, *, exposed: int = 0) -> None:
    session.add(
        Rectification(
            clue_id=clue.id,
            measures=f"已追回 {clue.subjects[0]['name']} 多领款项",
            recovered_amount=Decimal(recovered),
            sanction_count=1,
            sanction_text=f"{clue.subjects[0]['name']} 党内警告",
            org_handling_count=0,
            accountability_count=1,
            accountability_text=f"{clue.village}村委 问责",
            exposure_count=exposed,
            recorded_by="super1",
            recorded_at=_at(day),
        )
    )


def _outcomes(session: Session, project: CampaignProject, people: Sequence[Person], start: dt.date) -> None:
    """Rectified problems, institutions, exposures and recovered funds as ``EXPECTED`` says, inside the
    period, plus records outside it (before the start) that must not count."""
    want = EXPECTED[project.code]
    recovered = want["recovered"]
    rectified = int(want["rectified"])
    share = (Decimal(recovered) / rectified).quantize(Decimal("0.01"))
    for n in range(rectified):
        day = start + dt.timedelta(days=20 + 7 * n)
        clue = _problem(session, project, n, people[n % len(people)], day, closed=True)
        last = n == rectified - 1
        amount = Decimal(recovered) - share * (rectified - 1) if last else share
        _rectify(session, clue, day, str(amount), exposed=int(want["exposed"]) if last else 0)
    for n in range(int(want["institutions"])):
        session.add(
            Institution(
                project_id=project.id,
                title=f"{project.title}制度第{n + 1}号",
                issued_on=start + dt.timedelta(days=30 + n),
                issuer=project.lead_unit.name if project.lead_unit else None,
                recorded_by="super1",
            )
        )
    before = start - dt.timedelta(days=10)  # outside the period: counted by nobody
    early = _problem(session, project, 99, people[0], before, closed=True)
    _rectify(session, early, before, "500000.00", exposed=9)
    session.add(Institution(project_id=project.id, title="期前制度", issued_on=before, recorded_by="super1"))
    open_problem = _problem(session, project, 98, people[-1], start + dt.timedelta(days=5), closed=False)
    _rectify(session, open_problem, start + dt.timedelta(days=6), "0")  # rectified, not yet 销号


def add_public_projects(session: Session, people: Sequence[Person] = SAMPLE_PEOPLE) -> dict[str, int]:
    """The four projects of ``PROJECTS`` with ``EXPECTED`` outcomes, tasks and an inspection naming
    ``people``; returns code → project id. Commits."""
    ids = {}
    for code, (title, lead, status, public, start, end) in PROJECTS.items():
        unit = users.get_or_create_unit(session, lead)
        project = CampaignProject(
            code=code,
            title=title,
            domain="subsidy",
            lead_unit=unit,
            office="第三监督检查室",
            hotline=HOTLINE,
            liaison_unit=users.get_or_create_unit(session, "区纪委监委派驻第一纪检监察组"),
            task_force=f"专班成员:{people[0].name}、{people[1].name}",
            description=f"重点检查{people[0].village}、{people[1].village}",
            period_start=start,
            period_end=end,
            status=status,
            public=public,
            created_by="super1",
            version=1,
        )
        session.add(project)
        session.flush()
        ids[code] = project.id
        session.add(
            CampaignTask(
                project_id=project.id,
                title=f"核查{people[1].village}{people[1].name}户补助发放",
                responsible_unit_id=unit.id,
                responsible_person=people[2].name,
                deadline=start + dt.timedelta(days=60),
                method=f"入户走访 {people[1].name}",
                status="进行中",
                created_by="super1",
                version=1,
            )
        )
        session.add(
            Inspection(
                project_id=project.id,
                inspected_on=start + dt.timedelta(days=15),
                inspecting_unit="区纪委监委第三监督检查室",
                places=[f"{p.town}{p.village}村民委员会" for p in people],
                summary=f"发现 {people[0].name} 重复领取",
                recorded_by="super1",
            )
        )
        _outcomes(session, project, people, start)
    session.commit()
    return ids
