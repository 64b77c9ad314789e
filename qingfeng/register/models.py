"""SQLAlchemy 2 models of the register. The schema is created only by the Alembic migrations
(``qingfeng/register/migrations``); a test asserts that models and migrations agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false
from sqlalchemy.sql.expression import true as sa_true

from qingfeng.register.bounds import MONEY_MAX

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """Exact money on every backend: ``Numeric(18, 2)`` where the database has a decimal type, and whole
    fen (cents) in a 64-bit integer on SQLite, whose NUMERIC is a float (99999999999999999.99 became 1e17).
    Sums and comparisons stay in SQL: SQLite adds integers exactly, and bound values are converted too."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(str(value)).quantize(CENT)
        if not amount.is_finite() or abs(amount) > MONEY_MAX:  # parse_money refuses these before
            raise ValueError(f"amount out of range: {value!r}")
        return int(amount * 100) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


def utcnow() -> dt.datetime:
    """Naive UTC: the same on SQLite (no time zones) and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, Decimal: Money()}


class Unit(Base):
    """A stationed unit (派驻机构) or any body clues are dispatched to."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa_true())  # dispatch targets


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)  # NFKC, lower case (users.normalise)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # where notifications reach the user (qingfeng/notify, docs/notifications.md), and the events muted
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # an 11-digit mainland mobile number
    muted_events: Mapped[list[Any] | None] = mapped_column(JSON)

    unit: Mapped[Unit | None] = relationship()


class WebSession(Base):
    """A signed-in browser session. The cookie carries a random token; only its SHA-256 is stored, so
    a copy of the register cannot be replayed as a cookie. Ending a row ends the session at once."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class Clue(Base):
    __tablename__ = "clue"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(10), index=True)
    rule_name: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(30), index=True)
    keys: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subjects: Mapped[list[Any]] = mapped_column(JSON)
    amount: Mapped[Decimal | None] = mapped_column(Money(), index=True)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(10), index=True)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    path: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(String(100), index=True)
    village: Mapped[str | None] = mapped_column(String(100), index=True)
    risk_score: Mapped[float | None] = mapped_column(index=True)  # highest stored SubjectRisk of its subjects
    first_seen: Mapped[dt.date] = mapped_column(Date, index=True)
    last_seen: Mapped[dt.date] = mapped_column(Date)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    # rule (the pipeline), inspection (检查 finding) or petition (信访): one lifecycle for every source
    source: Mapped[str] = mapped_column(String(20), default="rule", server_default="rule", index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_project.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"), index=True)
    detection_state: Mapped[str] = mapped_column(String(20), default="active")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # open clues per rule and town (dashboard) read from the index alone
    __table_args__ = (Index("ix_clue_status_rule_town", "status", "rule", "town"),)

    assignee: Mapped[User | None] = relationship()
    project: Mapped[CampaignProject | None] = relationship(back_populates="clues")
    inspection: Mapped[Inspection | None] = relationship(back_populates="findings")
    institutions: Mapped[list[Institution]] = relationship(back_populates="clue", order_by="Institution.id")
    subject_links: Mapped[list[ClueSubject]] = relationship(
        back_populates="clue", cascade="all, delete-orphan", order_by="ClueSubject.id"
    )
    evidence_rows: Mapped[list[Evidence]] = relationship(
        back_populates="clue", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    events: Mapped[list[Event]] = relationship(back_populates="clue", order_by="Event.id")
    dispatches: Mapped[list[Dispatch]] = relationship(back_populates="clue", order_by="Dispatch.id")
    rectifications: Mapped[list[Rectification]] = relationship(
        back_populates="clue", order_by="Rectification.id"
    )


class ClueSubject(Base):
    """One subject of a clue, for subject pages and search by name or exact ID."""

    __tablename__ = "clue_subject"
    __table_args__ = (Index("ix_clue_subject_kind_subject_id", "kind", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200), index=True)

    clue: Mapped[Clue] = relationship(back_populates="subject_links")


class Evidence(Base):
    """One source row behind a clue: feed, table, file as delivered and its line."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    feed: Mapped[str | None] = mapped_column(String(100))
    table_name: Mapped[str | None] = mapped_column(String(100))
    file: Mapped[str | None] = mapped_column(String(500))
    line: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)

    clue: Mapped[Clue] = relationship(back_populates="evidence_rows")


class Event(Base):
    """The clue timeline: status changes, comments, assignments, dispatches, publishing."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_to_status_at", "to_status", "at"),)  # closings (销号) per month
    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str | None] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    clue: Mapped[Clue] = relationship(back_populates="events")


class Dispatch(Base):
    """A supervision task sent to a unit (派件) with a deadline."""

    __tablename__ = "dispatch"
    # the escalation colour: each clue's earliest open deadline, read from the index alone
    __table_args__ = (Index("ix_dispatch_state_clue_id_deadline", "state", "clue_id", "deadline"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20), default="sent")
    note: Mapped[str | None] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    clue: Mapped[Clue] = relationship(back_populates="dispatches")
    unit: Mapped[Unit] = relationship()


class Rectification(Base):
    """整改: measures, recovered funds (追缴/挽回资金) and the outcomes."""

    __tablename__ = "rectification"
    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    measures: Mapped[str] = mapped_column(Text)
    recovered_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    sanction_count: Mapped[int] = mapped_column(Integer, default=0)  # 党纪政务处分 (persons)
    sanction_text: Mapped[str | None] = mapped_column(Text)
    org_handling_count: Mapped[int] = mapped_column(Integer, default=0)  # 组织处理 (persons)
    org_handling_text: Mapped[str | None] = mapped_column(Text)
    accountability_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # 问责 (persons)
    accountability_text: Mapped[str | None] = mapped_column(Text)
    exposure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 通报曝光 (cases)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    clue: Mapped[Clue] = relationship(back_populates="rectifications")


class SubjectRisk(Base):
    """A subject's risk profile (``qingfeng.register.risk_score``) over the register's active clues, as of a publish."""

    __tablename__ = "subject_risk"
    __table_args__ = (Index("ix_subject_risk_kind_subject_id", "kind", "subject_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(index=True)  # 0–100
    clue_count: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list[Any]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.date] = mapped_column(Date)


class AccessLog(Base):
    """The audit trail. Each row is chained to the one before it (``seq`` order) by ``hash`` =
    SHA-256 over its own fields and ``prev_hash`` (``qingfeng.register.audit_chain``)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(20), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(Base):
    """The head of the audit chain (one row). Writers update it first, which serialises them on every
    backend; ``anchor_*`` is the last record archived away (the chain restarts there)."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64))


class PipelineRun(Base):
    __tablename__ = "pipeline_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    input_files: Mapped[list[Any]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))


class CampaignProject(Base):
    """专项治理项目: a campaign with its lead department, office, hotline and liaison unit. Which rules'
    clues belong to it is configuration (``config/campaigns.yml``, by ``code``); docs/campaigns.md."""

    __tablename__ = "campaign_project"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(30), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)  # 牵头单位
    office: Mapped[str | None] = mapped_column(String(200))  # 职能科室
    hotline: Mapped[str | None] = mapped_column(String(50))  # 监督举报电话
    liaison_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)  # 派驻机构
    task_force: Mapped[str | None] = mapped_column(Text)  # 专班
    description: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), index=True)  # lifecycle.PROJECT_STATUSES
    public: Mapped[bool] = mapped_column(default=False, server_default=sa_false())  # 向社会公开
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id])
    liaison_unit: Mapped[Unit | None] = relationship(foreign_keys=[liaison_unit_id])
    clues: Mapped[list[Clue]] = relationship(back_populates="project")
    tasks: Mapped[list[CampaignTask]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="CampaignTask.id"
    )
    inspections: Mapped[list[Inspection]] = relationship(back_populates="project", order_by="Inspection.id")
    institutions: Mapped[list[Institution]] = relationship(
        back_populates="project", order_by="Institution.id"
    )
    reports: Mapped[list[ProjectReport]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectReport.month"
    )


class CampaignTask(Base):
    """One item of a project's 任务清单: who does what, how, by when."""

    __tablename__ = "campaign_task"
    __table_args__ = (Index("ix_campaign_task_status_deadline", "status", "deadline"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("campaign_project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)  # 责任单位
    responsible_person: Mapped[str | None] = mapped_column(String(100))  # 责任人
    deadline: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(Text)  # 完成方式
    status: Mapped[str] = mapped_column(String(10))  # lifecycle.TASK_STATUSES
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    project: Mapped[CampaignProject] = relationship(back_populates="tasks")
    responsible_unit: Mapped[Unit | None] = relationship()
    notes: Mapped[list[TaskNote]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskNote.id"
    )


class TaskNote(Base):
    """A progress note on a task (进展情况)."""

    __tablename__ = "task_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("campaign_task.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    task: Mapped[CampaignTask] = relationship(back_populates="notes")


class ProjectReport(Base):
    """A project's monthly report (月报), one per month; late when submitted after the configured day."""

    __tablename__ = "project_report"
    __table_args__ = (UniqueConstraint("project_id", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("campaign_project.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the month reported on
    summary: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    project: Mapped[CampaignProject] = relationship(back_populates="reports")


class Inspection(Base):
    """检查: one inspection visit; its findings are problems in the register (``Clue.source`` inspection)."""

    __tablename__ = "inspection"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_project.id"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date, index=True)
    inspecting_unit: Mapped[str] = mapped_column(String(200))  # 检查单位
    places: Mapped[list[Any]] = mapped_column(JSON)  # 被检查单位(场所), names
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    project: Mapped[CampaignProject | None] = relationship(back_populates="inspections")
    findings: Mapped[list[Clue]] = relationship(back_populates="inspection", order_by="Clue.id")


class Institution(Base):
    """建立健全制度: a rule or system adopted as an outcome of a project or of one problem."""

    __tablename__ = "institution"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_project.id"), index=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clue.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    issued_on: Mapped[dt.date] = mapped_column(Date, index=True)
    issuer: Mapped[str | None] = mapped_column(String(200))  # 制定单位
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    project: Mapped[CampaignProject | None] = relationship(back_populates="institutions")
    clue: Mapped[Clue | None] = relationship(back_populates="institutions")


class Notification(Base):
    """One message to one user on one channel, and its delivery (docs/notifications.md). ``dedupe_key``
    names the event, its target and deadline state, the recipient and the channel, so that however
    often the sweep runs, the same message is never queued twice."""

    __tablename__ = "notification"
    # the delivery's scan: pending messages whose next attempt is due
    __table_args__ = (Index("ix_notification_state_next_attempt_at", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(30), index=True)  # qingfeng.notify.events.EVENTS
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)  # None: a test
    channel: Mapped[str | None] = mapped_column(String(10))  # email | sms; None: the user has no address
    address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(String(100), index=True)  # clue:12, dispatch:3, task:5
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    state: Mapped[str] = mapped_column(String(10))  # pending → sent | failed; skipped (no address)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    recipient: Mapped[User | None] = relationship()
