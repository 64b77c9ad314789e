"""What every campaign action shares: the acting user and clock, the role check, input checks with
messages that name the field, unit and project look-ups, and the audited commit."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qingfeng.campaigns.periods import beijing_day
from qingfeng.register.bounds import day_range, valid_id
from qingfeng.register.errors import ConflictError, InvalidInput, NotFound
from qingfeng.register.models import CampaignProject, Clue, Event, Unit, User, utcnow
from qingfeng.register.service import require
from qingfeng.register.users import audit

# A register user (the web UI, the demo), or the name of a command-line operator (``cli:<login>``),
# who owns the database and is audited under that name, as for ``qingfeng clues export``.
Actor = User | str

ProjectRef = int | str  # a project's id, or its code


def actor_name(actor: Actor) -> str:
    return actor.username if isinstance(actor, User) else actor


class CampaignBase:
    """One acting user's campaign actions. ``now`` (naive UTC) is injectable for tests and backfills
    (the demo's campaign year); ``require_version`` (the web UI): every edit must name the version the
    user saw, as for clues."""

    def __init__(
        self,
        session: Session,
        user: Actor,
        *,
        now: dt.datetime | None = None,
        require_version: bool = False,
        ip: str | None = None,
    ) -> None:
        self.session = session
        self.user = user
        self._now = now
        self.require_version = require_version
        self.ip = ip

    @property
    def now(self) -> dt.datetime:
        return self._now or utcnow()

    @property
    def today(self) -> dt.date:
        """The commission's calendar day: ``now`` (naive UTC) in Beijing, UTC+8 all year. The UTC date is
        still yesterday before 08:00 there, which refused an inspection dated today as in the future."""
        return beijing_day(self.now)

    @property
    def actor(self) -> str:
        return actor_name(self.user)

    def require(self, action: str) -> None:
        if isinstance(self.user, User):
            require(self.user, action)

    # -- look-ups ---------------------------------------------------------------------------------

    def project(self, ref: ProjectRef) -> CampaignProject:
        """A project by id or by code; ``NotFound`` names what was asked for."""
        if isinstance(ref, int):
            found = self.session.get(CampaignProject, ref) if valid_id(ref) else None
        else:
            found = self.session.scalar(select(CampaignProject).where(CampaignProject.code == code_of(ref)))
        if found is None:
            raise NotFound(f"专项治理项目 {ref} 不存在")
        return found

    def unit(self, name: str | None, label: str, *, new_role: bool = True) -> Unit | None:
        """A ``Unit`` row by exact name, or None for an empty name. ``new_role``: the unit is about to take a
        role (lead, liaison, responsible unit), which a deactivated unit may not."""
        text = (name or "").strip()
        if not text:
            return None
        found = self.session.scalar(select(Unit).where(Unit.name == text))
        if found is None:
            raise NotFound(f"{label}「{text}」不存在,请先在单位管理中添加")
        if new_role and not found.active:
            raise InvalidInput(f"{label}「{text}」已停用,不能承担新的职责")
        return found

    def clue_for_change(
        self, clue_id: int, action: str, expected_version: int | None = None, *, versioned: bool = True
    ) -> Clue:
        """A clue the acting user may act on (``ClueService.load``: role, a liaison's unit, version).
        ``versioned``: the change must name the version seen when ``require_version`` (not for additions)."""
        from qingfeng.register.service import ClueService

        if versioned and self.require_version and expected_version is None:
            raise InvalidInput("缺少线索版本号,更改未保存:请刷新页面后重试")
        if isinstance(self.user, User):
            return ClueService(self.session, self.user, now=self._now, ip=self.ip).load(
                clue_id, action, expected_version
            )
        clue = self.session.get(Clue, clue_id) if valid_id(clue_id) else None
        if clue is None:
            raise NotFound(f"线索 {clue_id} 不存在")
        if expected_version is not None and clue.version != expected_version:
            raise ConflictError(f"线索 {clue_id} 已被他人修改,请刷新后重试")
        return clue

    def check_version(self, what: str, current: int, expected: int | None) -> None:
        if expected is None:
            if self.require_version:
                raise InvalidInput(f"缺少{what}版本号,更改未保存:请刷新页面后重试")
            return
        if current != expected:
            raise ConflictError(
                f"{what}已被他人修改(您看到的是第 {expected} 版,当前为第 {current} 版),请刷新后重试"
            )

    # -- writing ----------------------------------------------------------------------------------

    def clue_event(self, clue: Clue, kind: str, text: str) -> Event:
        ev = Event(clue=clue, kind=kind, actor=self.actor, text=text, at=self.now)
        self.session.add(ev)
        clue.updated_at = self.now  # the clue's version moves, as for every change on its timeline
        return ev

    def commit(self, target: str, detail: str) -> None:
        audit(self.session, self.user, "change", target=target, detail=detail, ip=self.ip)
        try:
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConflictError(f"{target} 已被他人修改,您的更改未保存,请刷新后重试") from exc


# -- input checks ----------------------------------------------------------------------------------

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,49}")


def code_of(value: str | None) -> str:
    """A project code as stored: NFKC, upper case (``mszj`` is MSZJ, as config/campaigns.yml spells it)."""
    return unicodedata.normalize("NFKC", value or "").strip().upper()


def valid_code(value: str | None) -> str:
    code = code_of(value)
    if not CODE.fullmatch(code):
        raise InvalidInput(f"项目编号「{code[:60]}」无效:应为 1–50 位字母、数字、- 或 _,以字母或数字开头")
    return code


def text(value: str | None, label: str, *, limit: int, required: bool = False) -> str | None:
    """Stripped text of at most ``limit`` characters; empty is None (refused when ``required``)."""
    stripped = (value or "").strip()
    if not stripped:
        if required:
            raise InvalidInput(f"{label}不能为空")
        return None
    if len(stripped) > limit:
        raise InvalidInput(f"{label}过长:最多 {limit} 字(现为 {len(stripped)} 字)")
    return stripped


def required_text(value: str | None, label: str, *, limit: int) -> str:
    found = text(value, label, limit=limit, required=True)
    assert found is not None
    return found


def day(value: dt.date | str | None, label: str, *, latest: dt.date | None = None) -> dt.date:
    """A date (or ``YYYY-MM-DD``) within the register's range; ``latest`` refuses later days (the future)."""
    if value is None or value == "":
        raise InvalidInput(f"{label}不能为空")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        from qingfeng.register.bounds import parse_day

        value = parse_day(value, label=label)
    first, last = day_range()
    if latest is not None and value > latest:
        raise InvalidInput(f"{label} {value.isoformat()} 晚于今天 {latest.isoformat()}")
    if not first <= value <= last:
        raise InvalidInput(
            f"{label} {value.isoformat()} 超出范围:应在 {first.isoformat()} 至 {last.isoformat()} 之间"
        )
    return value


def optional_day(value: dt.date | str | None, label: str) -> dt.date | None:
    return None if value is None or value == "" else day(value, label)


def choice(value: str, label: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise InvalidInput(f"{label}「{value}」无效,可选:{'、'.join(options)}")
    return value
