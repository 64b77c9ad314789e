"""The demo's campaign year on the sample district (docs/campaigns.md, "Demo").

Six projects (five fed by rules through config/campaigns.yml, 校外培训机构乱象 by none), each with a
lead unit, hotline, liaison unit, tasks (some done, some overdue), monthly reports (one late),
inspections whose findings go through the clue lifecycle, some to 销号 with outcomes, institutions,
and, once the pipeline has published, work on the first rule clues of each project. Everything goes
through ``CampaignService`` and ``ClueService`` (one code path with the UI and the CLI).

The campaign year is the data's year (the district's ``year``; its clues are first seen at the
following 31 January), and each action is dated on that calendar with the services' ``now``.
``seed_demo_campaigns`` is idempotent: it adds what is missing and moves each problem only forward,
so the demo calls it before the pipeline (projects exist when clues are published, and link) and
again after it (the rule clues are there to work on).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns.service import CampaignService, Finding
from qingfeng.register.lifecycle import CLOSED, FOUND, HANDLING, RECTIFYING, TASK_OPEN, VERIFYING
from qingfeng.register.models import CampaignProject, Clue, Inspection, Unit, User
from qingfeng.register.service import ClueService
from qingfeng.register.users import audit, get_or_create_unit
from qingfeng.synth.names import TOWNS, village_names

LIAISONS = ("区纪委监委派驻第一纪检监察组", "区纪委监委派驻第二纪检监察组", "区纪委监委派驻第三纪检监察组")
VILLAGES = village_names(6)  # the district's first villages; village k lies in TOWNS[k % 12]
LADDER = (FOUND, VERIFYING, HANDLING, RECTIFYING, CLOSED)
ALL = Decimal("-1")  # recovered: the whole amount of the problem


@dataclass(frozen=True)
class Outcome:
    """How far a problem goes, and what its rectification records."""

    target: str
    recovered: Decimal = Decimal("0")
    sanctions: int = 0
    org_handling: int = 0
    accountability: int = 0
    exposures: int = 0
    measures: str = "责令整改,追回违规资金,完善制度"


@dataclass(frozen=True)
class DemoFinding:
    description: str
    severity: str
    outcome: Outcome
    village: int | None = None  # index into VILLAGES
    amount: str | None = None


@dataclass(frozen=True)
class DemoInspection:
    day: tuple[int, int]  # (month, day) of the campaign year
    unit: str
    places: tuple[str, ...]
    summary: str
    findings: tuple[DemoFinding, ...] = ()


@dataclass(frozen=True)
class DemoTask:
    title: str
    unit: str
    person: str
    deadline: tuple[int, int]
    method: str
    done: tuple[int, int] | None = None  # when it was done; None: still open (overdue by now)


@dataclass(frozen=True)
class DemoProject:
    code: str
    title: str
    domain: str | None
    lead: str
    office: str
    hotline: str
    liaison: str
    task_force: str
    description: str
    start: tuple[int, int]
    end: tuple[int, int, int] | None  # (years after the campaign year, month, day)
    public: bool
    tasks: tuple[DemoTask, ...]
    reports: tuple[tuple[int, tuple[int, int]], ...]  # (month reported, (month, day) submitted)
    inspections: tuple[DemoInspection, ...]
    institutions: tuple[tuple[str, str, tuple[int, int]], ...]  # (title, issuer, issued)
    rule_outcomes: tuple[Outcome, ...] = field(default=())  # for the project's first rule clues


PROJECTS: tuple[DemoProject, ...] = (
    DemoProject(
        code="MSZJ",
        title="民生资金专项治理",
        domain="subsidy",
        lead="区民政局",
        office="社会救助科",
        hotline="0571-82890110",
        liaison=LIAISONS[0],
        task_force="区民政局、区财政局、区医保局抽调 8 人组成工作专班",
        description="聚焦低保、特困供养、高龄津贴等民生资金,治理优亲厚友、死亡冒领、重复享受等问题。",
        start=(3, 1),
        end=None,
        public=True,
        tasks=(
            DemoTask(
                "死亡人员冒领补助清理", "区民政局", "陈建华", (6, 30), "数据比对、入户核查", done=(6, 20)
            ),
            DemoTask("低保对象家庭收入核对", "区民政局", "周丽萍", (9, 30), "按 10% 比例抽查", done=(10, 8)),
            DemoTask("民生资金发放数据共享机制", "区财政局", "王海峰", (11, 30), "建立部门数据共享清单"),
        ),
        reports=((3, (4, 3)), (4, (5, 4)), (5, (6, 12)), (6, (7, 5))),
        inspections=(
            DemoInspection(
                (5, 16),
                "区纪委监委第一监督检查室",
                (f"{TOWNS[0]}社会事务办", f"{VILLAGES[0]}村民委员会", f"{VILLAGES[2]}村民委员会"),
                "抽查低保、高龄津贴档案 120 卷,走访 36 户。",
                (
                    DemoFinding(
                        "死亡人员仍在领取高龄津贴",
                        "high",
                        Outcome(CLOSED, recovered=ALL, org_handling=1, exposures=1),
                        village=0,
                        amount="3000",
                    ),
                    DemoFinding("低保公示不到位", "low", Outcome(CLOSED, accountability=1), village=2),
                ),
            ),
            DemoInspection(
                (8, 22),
                "区民政局",
                (f"{TOWNS[3]}社会事务办", f"{VILLAGES[3]}村民委员会"),
                "临时救助审批专项检查。",
                (
                    DemoFinding(
                        "重复享受临时救助",
                        "medium",
                        Outcome(RECTIFYING, recovered=ALL),
                        village=3,
                        amount="4500",
                    ),
                ),
            ),
        ),
        institutions=(("民生资金发放数据比对工作规程", "区民政局", (9, 15)),),
        rule_outcomes=(
            Outcome(CLOSED, recovered=ALL, sanctions=1, exposures=1),
            Outcome(CLOSED, recovered=ALL, org_handling=1),
            Outcome(RECTIFYING, recovered=ALL),
            Outcome(HANDLING),
            Outcome(VERIFYING),
        ),
    ),
    DemoProject(
        code="CJGC",
        title="村级工程项目专项治理",
        domain="engineering",
        lead="区农业农村局",
        office="农村基础设施建设科",
        hotline="0571-82890220",
        liaison=LIAISONS[1],
        task_force="区农业农村局、区住建局、区审计局组成联合专班",
        description="治理村级小微工程化整为零规避招标、干部亲属关联企业承揽、虚报工程量等问题。",
        start=(3, 1),
        end=None,
        public=True,
        tasks=(
            DemoTask("村级工程招投标情况排查", "区农业农村局", "沈国强", (5, 31), "逐项目核查", done=(5, 28)),
            DemoTask("村级工程质量回头看", "区农业农村局", "杨志明", (11, 30), "抽查 20 个项目"),
        ),
        reports=((3, (4, 4)), (4, (5, 5)), (5, (6, 3))),
        inspections=(
            DemoInspection(
                (6, 12),
                "区纪委监委第二监督检查室",
                (f"{VILLAGES[1]}道路硬化工程", f"{TOWNS[1]}城建办"),
                "村级工程项目招投标专项检查。",
                (
                    DemoFinding(
                        "化整为零规避招标",
                        "high",
                        Outcome(CLOSED, recovered=Decimal("52000"), sanctions=2, org_handling=1, exposures=1),
                        village=1,
                        amount="486000",
                    ),
                    DemoFinding("工程变更资料不全", "low", Outcome(CLOSED), village=1),
                ),
            ),
        ),
        institutions=(("村级小微工程建设管理办法", "区农业农村局", (10, 10)),),
        rule_outcomes=(
            Outcome(CLOSED, sanctions=1, org_handling=2, exposures=1),
            Outcome(RECTIFYING),
            Outcome(VERIFYING),
        ),
    ),
    DemoProject(
        code="MSGC",
        title="农村集体“三资”码上工程",
        domain="collective_asset",
        lead="区农业农村局",
        office="农村经营管理科",
        hotline="0571-82890330",
        liaison=LIAISONS[1],
        task_force="区农业农村局农经站牵头,各镇街农经员参加",
        description="集体资产、资金、资源“码上”公示,治理超期限发包、低价发包、坐收坐支等问题。",
        start=(3, 1),
        end=None,
        public=True,
        tasks=(
            DemoTask("集体资产清产核资", "区农业农村局", "何晓东", (6, 30), "逐村清查", done=(6, 25)),
            DemoTask("合同“码上”公示全覆盖", "区农业农村局", "何晓东", (12, 15), "赋码上墙、扫码查询"),
        ),
        reports=((4, (5, 5)), (5, (6, 5))),
        inspections=(
            DemoInspection(
                (7, 20),
                "区农业农村局",
                tuple(f"{v}股份经济合作社" for v in VILLAGES[3:6]),
                "集体经济合同专项检查。",
                (
                    DemoFinding(
                        "鱼塘承包合同超期限发包",
                        "medium",
                        Outcome(CLOSED, recovered=Decimal("20000"), org_handling=1),
                        village=4,
                        amount="120000",
                    ),
                    DemoFinding("集体资金坐收坐支", "high", Outcome(HANDLING), village=5, amount="36000"),
                ),
            ),
        ),
        institutions=(("村级集体经济合同管理办法", "区农业农村局", (11, 20)),),
        rule_outcomes=(Outcome(CLOSED, recovered=ALL, accountability=1), Outcome(HANDLING)),
    ),
    DemoProject(
        code="NMGGZ",
        title="根治欠薪(农民工工资)专项治理",
        domain="payroll",
        lead="区人社局",
        office="劳动保障监察科",
        hotline="0571-82890440",
        liaison=LIAISONS[2],
        task_force="区人社局、区住建局、区交通局组成专班",
        description="治理工程建设领域拖欠、克扣农民工工资问题。",
        start=(3, 1),
        end=None,
        public=True,
        tasks=(
            DemoTask("在建项目工资专户检查", "区人社局", "郑文斌", (7, 31), "全覆盖检查", done=(7, 30)),
            DemoTask("欠薪案件动态清零", "区人社局", "郑文斌", (12, 20), "台账销号管理"),
        ),
        reports=((3, (4, 2)), (4, (5, 3))),
        inspections=(
            DemoInspection(
                (9, 5),
                "区人社局",
                (f"{TOWNS[4]}安置房项目部", f"{TOWNS[5]}道路工程项目部"),
                "农民工工资支付情况专项检查。",
                (
                    DemoFinding(
                        "未按月足额支付农民工工资",
                        "high",
                        Outcome(CLOSED, recovered=ALL, accountability=1, exposures=2),
                        amount="268000",
                    ),
                ),
            ),
        ),
        institutions=(("工程建设领域农民工工资专用账户管理细则", "区人社局", (10, 30)),),
        rule_outcomes=(Outcome(CLOSED, recovered=ALL, exposures=1), Outcome(VERIFYING)),
    ),
    DemoProject(
        code="CKX",
        title="吃空饷专项清理",
        domain="payroll",
        lead="区财政局",
        office="行政政法科",
        hotline="0571-82890550",
        liaison=LIAISONS[2],
        task_force="区委组织部、区人社局、区财政局联合清理",
        description="清理在编不在岗、死亡或离职后仍领取工资等吃空饷问题。",
        start=(3, 1),
        end=(1, 6, 30),
        public=False,
        tasks=(
            DemoTask(
                "在编不在岗人员排查", "区财政局", "赵磊", (6, 30), "编制、人事、工资数据比对", done=(6, 18)
            ),
            DemoTask("清退违规领取工资", "区财政局", "赵磊", (12, 31), "逐人追缴"),
        ),
        reports=((3, (4, 5)), (4, (5, 20))),
        inspections=(
            DemoInspection(
                (10, 18),
                "区委组织部",
                (f"{TOWNS[0]}人民政府", f"{TOWNS[6]}中心小学"),
                "在编人员在岗情况检查。",
                (
                    DemoFinding(
                        "长期病休人员违规全额领取工资",
                        "medium",
                        Outcome(CLOSED, recovered=ALL, sanctions=1),
                        amount="64000",
                    ),
                ),
            ),
        ),
        institutions=(),
        rule_outcomes=(
            Outcome(CLOSED, recovered=ALL, sanctions=1, org_handling=1),
            Outcome(RECTIFYING, recovered=ALL),
        ),
    ),
    DemoProject(
        code="XWPX",
        title="校外培训机构乱象治理",
        domain=None,
        lead="区教育局",
        office="校外教育培训监管科",
        hotline="0571-82890660",
        liaison=LIAISONS[0],
        task_force="区教育局、区市场监管局、属地镇街联合执法",
        description="治理无证办学、超额预收费、虚假宣传等校外培训乱象。无数据比对规则,问题来自检查和信访。",
        start=(7, 1),
        end=None,
        public=True,
        tasks=(
            DemoTask("无证办学机构排查", "区教育局", "孙悦", (8, 31), "逐街道摸排", done=(8, 29)),
            DemoTask("预收费资金监管全覆盖", "区教育局", "孙悦", (12, 31), "资金存管、风险提示"),
        ),
        reports=((7, (8, 4)), (8, (9, 5))),
        inspections=(
            DemoInspection(
                (9, 20),
                "区教育局、区市场监管局联合检查组",
                ("启明学科培训中心", "优学教育", "博雅艺术培训", f"{TOWNS[2]}某托管机构", "智慧树课堂"),
                "校外培训机构联合检查。",
                (
                    DemoFinding("无证开展学科类培训", "high", Outcome(CLOSED, exposures=1)),
                    DemoFinding(
                        "超额预收培训费", "medium", Outcome(RECTIFYING, recovered=ALL), amount="150000"
                    ),
                ),
            ),
        ),
        institutions=(("校外培训机构预收费资金监管办法", "区教育局", (12, 1)),),
    ),
)


def _when(year: int, month_day: tuple[int, int], hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month_day[0], month_day[1], hour)


class _Seeder:
    def __init__(self, session: Session, user: User, year: int, mapping: Mapping[str, str]) -> None:
        self.session, self.user, self.year, self.mapping = session, user, year, mapping
        self.counts: Counter[str] = Counter()

    def campaigns(self, at: dt.datetime) -> CampaignService:
        return CampaignService(self.session, self.user, now=at)

    def clues(self, at: dt.datetime) -> ClueService:
        return ClueService(self.session, self.user, now=at)

    def units(self) -> None:
        names = {p.lead for p in PROJECTS} | {t.unit for p in PROJECTS for t in p.tasks} | set(LIAISONS)
        existing = set(self.session.scalars(select(Unit.name).where(Unit.name.in_(names))))
        for name in sorted(names - existing):
            unit = get_or_create_unit(self.session, name)
            audit(
                self.session, self.user, "unit_admin", target=f"unit:{unit.id}", detail=f"add {name} (demo)"
            )
            self.counts["units"] += 1
        self.session.commit()

    def project(self, spec: DemoProject) -> CampaignProject:
        y = self.year
        project = self.session.scalar(select(CampaignProject).where(CampaignProject.code == spec.code))
        if project is None:
            end = dt.date(y + spec.end[0], spec.end[1], spec.end[2]) if spec.end else None
            project = self.campaigns(_when(y, (spec.start[0], 1)) - dt.timedelta(days=10)).create_project(
                spec.code,
                spec.title,
                domain=spec.domain,
                lead_unit=spec.lead,
                office=spec.office,
                hotline=spec.hotline,
                liaison_unit=spec.liaison,
                task_force=spec.task_force,
                description=spec.description,
                period_start=dt.date(y, *spec.start),
                period_end=end,
            )
            self.counts["projects"] += 1
        if spec.public and not project.public:
            self.campaigns(_when(y, spec.start)).set_public(project.id, True)
        return project

    def tasks(self, spec: DemoProject, project: CampaignProject) -> None:
        y = self.year
        have = {t.title: t for t in project.tasks}
        for item in spec.tasks:
            task = have.get(item.title)
            if task is None:
                task = self.campaigns(_when(y, spec.start)).add_task(
                    project.id,
                    item.title,
                    responsible_unit=item.unit,
                    responsible_person=item.person,
                    deadline=dt.date(y, *item.deadline),
                    method=item.method,
                )
                self.counts["tasks"] += 1
            if item.done and task.status == TASK_OPEN:
                self.campaigns(_when(y, item.done)).set_task_status(
                    task.id, "已完成", note="按期完成,已报专班"
                )

    def reports(self, spec: DemoProject, project: CampaignProject) -> None:
        have = {r.month for r in project.reports}
        for month, submitted in spec.reports:
            label = f"{self.year:04d}-{month:02d}"
            if label not in have:
                summary = f"{spec.title} {label} 工作进展:按任务清单推进,检查发现问题均已建立台账。"
                self.campaigns(_when(self.year, submitted)).submit_report(project.id, label, summary)
                self.counts["reports"] += 1

    def inspections(self, spec: DemoProject, project: CampaignProject) -> None:
        for item in spec.inspections:
            day = dt.date(self.year, *item.day)
            inspection = self.session.scalar(
                select(Inspection).where(
                    Inspection.project_id == project.id,
                    Inspection.inspected_on == day,
                    Inspection.inspecting_unit == item.unit,
                )
            )
            if inspection is None:
                inspection = self.campaigns(_when(self.year, item.day, 17)).record_inspection(
                    project=project.id,
                    inspected_on=day,
                    inspecting_unit=item.unit,
                    places=list(item.places),
                    summary=item.summary,
                    findings=[
                        Finding(
                            f.description,
                            severity=f.severity,
                            town=None if f.village is None else TOWNS[f.village % len(TOWNS)],
                            village=None if f.village is None else VILLAGES[f.village],
                            amount=f.amount,
                        )
                        for f in item.findings
                    ],
                )
                self.counts["inspections"] += 1
            for clue, finding in zip(inspection.findings, item.findings, strict=True):
                self.advance(clue, finding.outcome, _when(self.year, item.day) + dt.timedelta(days=3))

    def institutions(self, spec: DemoProject, project: CampaignProject) -> None:
        have = {i.title for i in project.institutions}
        for title, issuer, issued in spec.institutions:
            if title not in have:
                on = dt.date(self.year, *issued)
                self.campaigns(_when(self.year, issued)).record_institution(
                    title, issued_on=on, issuer=issuer, project=project.id
                )
                self.counts["institutions"] += 1

    def rule_clues(self, spec: DemoProject, project: CampaignProject) -> None:
        """The project's first rule clues (by id) each go as far as their outcome says."""
        if not spec.rule_outcomes:
            return
        first = list(
            self.session.scalars(
                select(Clue)
                .where(Clue.project_id == project.id, Clue.source == "rule")
                .order_by(Clue.id)
                .limit(len(spec.rule_outcomes))
            )
        )
        for clue, outcome in zip(first, spec.rule_outcomes, strict=False):
            start = dt.datetime.combine(clue.first_seen, dt.time(10)) + dt.timedelta(days=5)
            self.advance(clue, outcome, start)

    def advance(self, clue: Clue, outcome: Outcome, start: dt.datetime) -> None:
        """Move a problem forward, one step of 核查 → 派件 (处置) → 整改 → 销号 at a time, to ``target``."""
        if clue.status not in LADDER:
            return
        goal = LADDER.index(outcome.target)
        while LADDER.index(clue.status) < goal:
            step = LADDER.index(clue.status)
            at = start + dt.timedelta(days=7 * step)
            work = self.clues(at)
            if clue.status == FOUND:
                work.transition(clue.id, VERIFYING, reason="初步核实,问题属实")
            elif clue.status == VERIFYING:
                unit = (
                    clue.project.liaison_unit.name
                    if clue.project and clue.project.liaison_unit
                    else LIAISONS[0]
                )
                work.dispatch(clue.id, unit, at.date() + dt.timedelta(days=30), note="请督促整改并反馈")
            elif clue.status == HANDLING:
                recovered = outcome.recovered
                if recovered == ALL:
                    recovered = max(clue.amount or Decimal("0"), Decimal("0"))
                work.record_rectification(
                    clue.id,
                    measures=outcome.measures,
                    recovered_amount=recovered,
                    sanction_count=outcome.sanctions,
                    sanction_text="给予党纪政务处分" if outcome.sanctions else None,
                    org_handling_count=outcome.org_handling,
                    org_handling_text="诫勉谈话" if outcome.org_handling else None,
                    accountability_count=outcome.accountability,
                    accountability_text="对相关责任人问责" if outcome.accountability else None,
                    exposure_count=outcome.exposures,
                )
            else:
                work.close(clue.id, reason="整改到位,准予销号")
            self.session.refresh(clue)
            self.counts["steps"] += 1


def seed_demo_campaigns(
    session: Session, user: User, *, year: int, mapping: Mapping[str, str]
) -> dict[str, int]:
    """Add what is missing of the demo's campaign year ``year`` (acting as ``user``, a supervisor) and
    link the rule clues published before the projects; returns how many of each were added."""
    seeder = _Seeder(session, user, year, mapping)
    seeder.units()
    projects = [(spec, seeder.project(spec)) for spec in PROJECTS]
    linked = seeder.campaigns(_when(year + 1, (2, 1))).link_clues(mapping)
    if linked:
        seeder.counts["linked"] += sum(linked.values())
    for spec, project in projects:
        seeder.tasks(spec, project)
        seeder.reports(spec, project)
        seeder.inspections(spec, project)
        seeder.institutions(spec, project)
        seeder.rule_clues(spec, project)
    return dict(seeder.counts)
