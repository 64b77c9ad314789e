"""Jinja filters: money, dates in Beijing time, and Chinese labels for codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from qingfeng.contract import DOMAIN_TITLES as DOMAIN_LABELS

BEIJING = ZoneInfo("Asia/Shanghai")

SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
COLOUR_LABELS = {"red": "红色预警", "yellow": "黄色预警", "green": "绿色", "none": "未派件"}
DISPATCH_STATE_LABELS = {"sent": "已派发", "answered": "已反馈", "withdrawn": "已撤回"}
EVENT_LABELS = {
    "status_change": "状态变更",
    "comment": "批注",
    "assignment": "分派",
    "dispatch": "派件",
    "rectification": "整改记录",
    "reopen": "重新启用",
    "redetected": "再次发现",
    "not_detected": "本期未再发现",
    "publish": "入库",
    "inspection": "检查发现",
    "project": "专项治理项目",
    "institution": "建立健全制度",
}
ACCESS_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "view": "查看",
    "export": "导出",
    "search": "搜索",
    "change": "变更",
    "denied": "拒绝访问",
    "lockout": "账号锁定",
    "unlock": "账号解锁",
    "session_end": "会话结束",
    "password": "修改口令",
    "user_admin": "用户管理",
    "unit_admin": "单位管理",
    "audit_archive": "审计归档",
}
KEY_LABELS = {
    "person": "人员",
    "programme": "项目/资金类别",
    "cadre": "干部",
    "month": "月份",
    "account": "账户",
    "village": "村社",
    "company": "企业",
    "project": "工程项目",
    "contract": "合同",
    "inspection": "检查记录",
    "finding": "问题序号",
}
SUBJECT_KIND_LABELS = {
    "person": "人员",
    "company": "企业",
    "project": "工程项目",
    "contract": "合同",
    "village": "村社",
    "account": "账户",
}


def money(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


def date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def beijing(value: dt.datetime | None) -> str:
    """Stored naive UTC → Beijing wall time."""
    if value is None:
        return "—"
    aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def label(table: dict[str, str]) -> Callable[[object], str]:
    return lambda value: table.get(str(value), str(value) if value is not None else "—")


FILTERS = {
    "money": money,
    "date": date,
    "beijing": beijing,
    "severity": label(SEVERITY_LABELS),
    "colour": label(COLOUR_LABELS),
    "domain": label(DOMAIN_LABELS),
    "dispatch_state": label(DISPATCH_STATE_LABELS),
    "event_kind": label(EVENT_LABELS),
    "access_action": label(ACCESS_LABELS),
    "key_label": label(KEY_LABELS),
    "subject_kind": label(SUBJECT_KIND_LABELS),
}
