"""Shared helpers of the register tests (imported by the test_register_* modules; no tests here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from pg import backend, empty_register_url, pg_server, register_templates, register_url

from qingfeng.register.db import make_engine
from qingfeng.register.models import User
from qingfeng.register.users import create_user, get_or_create_unit

__all__ = [
    "AS_OF",
    "backend",
    "empty_register_url",
    "engine",
    "make_clue",
    "people",
    "pg_server",
    "register_templates",
    "register_url",
    "session",
]

AS_OF = dt.date(2026, 3, 31)


def make_clue(
    rule: str = "S01",
    person: str = "330109198001011234",
    name: str = "张三",
    *,
    amount: float = 1200.0,
    lines: tuple[int, ...] = (2,),
    town: str = "城关镇",
    village: str = "东村",
    severity: str = "medium",
    programme: str = "最低生活保障金",
    month: str = "2026-01",
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """A clue dict as the rules stage produces it (fingerprint left to the publisher)."""
    return {
        "rule": rule,
        "rule_name": f"规则{rule}",
        "keys": {"person": person, "programme": programme, "month": month},
        "subjects": [
            {"kind": "person", "id": person, "name": name},
            {"kind": "village", "id": village, "name": village},
        ],
        "amount": amount,
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "evidence": [
            {
                "feed": "subsidy",
                "table": "subsidy_payment",
                "file": "民生资金发放_202601.csv",
                "line": ln,
                "note": "发放记录",
            }
            for ln in lines
        ],
        "path": None,
        "severity": severity,
        "town": town,
        "as_of": (as_of or AS_OF).isoformat(),
    }


@pytest.fixture
def engine(register_url: str) -> Iterator[Any]:
    eng = make_engine(register_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Any) -> Iterator[Any]:
    from qingfeng.register.db import session_factory

    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def people(session: Any) -> dict[str, User]:
    """One user per role, plus a second analyst and a liaison of another unit."""
    get_or_create_unit(session, "区民政局派驻纪检组")
    get_or_create_unit(session, "区住建局派驻纪检组")
    users = {
        "admin": create_user(session, "admin", "admin"),
        "supervisor": create_user(session, "zhuren", "supervisor", display_name="王主任"),
        "analyst": create_user(session, "fenxi", "analyst", display_name="李分析"),
        "analyst2": create_user(session, "fenxi2", "analyst"),
        "liaison": create_user(session, "minzheng", "liaison", unit="区民政局派驻纪检组"),
        "liaison_other": create_user(session, "zhujian", "liaison", unit="区住建局派驻纪检组"),
        "auditor": create_user(session, "shenji", "auditor"),
    }
    session.commit()
    return users
