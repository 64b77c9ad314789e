"""The clue lifecycle and the role permissions: plain data, enforced by ``service``.

发现 → 核查 → 处置 → 整改 → 销号, with two terminal dismissals (了结, 不予立案).
"""

from __future__ import annotations

FOUND, VERIFYING, HANDLING, RECTIFYING, CLOSED = "发现", "核查", "处置", "整改", "销号"
CONCLUDED, NOT_FILED = "了结", "不予立案"

STATUSES = (FOUND, VERIFYING, HANDLING, RECTIFYING, CLOSED, CONCLUDED, NOT_FILED)
OPEN_STATUSES = (FOUND, VERIFYING, HANDLING, RECTIFYING)
DISMISSED = (CONCLUDED, NOT_FILED)
TERMINAL = (CLOSED, *DISMISSED)

# Allowed manual transitions (from → to). Anything else is refused, for every role.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    FOUND: (VERIFYING, CONCLUDED, NOT_FILED),
    VERIFYING: (HANDLING, FOUND, CONCLUDED, NOT_FILED),
    HANDLING: (RECTIFYING, VERIFYING, CONCLUDED),
    RECTIFYING: (CLOSED, HANDLING),
    CLOSED: (VERIFYING,),  # re-open (supervisor)
    CONCLUDED: (VERIFYING,),  # re-open (supervisor)
    NOT_FILED: (VERIFYING,),  # re-open (supervisor)
}

ROLES = ("admin", "supervisor", "analyst", "liaison", "auditor")
ROLE_TITLES = {
    "admin": "系统管理员",
    "supervisor": "监督室主任",
    "analyst": "分析员",
    "liaison": "派驻机构联络员",
    "auditor": "审计员",
}

# Actions the service checks. A liaison's actions are further limited to clues dispatched to their unit.
# 三员分立 (GB/T 22239-2019 8.1.4.2): the administrator manages accounts and units and reads no clue,
# report or audit record; the auditor reads and exports the audit trail and changes nothing; the
# clue work is the supervisor's, the analyst's and (for their unit) the liaison's. docs/ui.md has the
# whole matrix, which a test reads.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_clue": frozenset({"supervisor", "analyst", "liaison"}),
    "search": frozenset({"supervisor", "analyst"}),
    "see_ids": frozenset({"supervisor", "analyst"}),
    "export": frozenset({"supervisor", "analyst"}),
    "comment": frozenset({"supervisor", "analyst", "liaison"}),
    "assign": frozenset({"supervisor", "analyst"}),
    "transition": frozenset({"supervisor", "analyst"}),
    "close": frozenset({"supervisor"}),
    "reopen": frozenset({"supervisor"}),
    "dispatch": frozenset({"supervisor", "analyst"}),
    "rectify": frozenset({"supervisor", "analyst", "liaison"}),
    "view_report": frozenset({"supervisor", "analyst"}),
    "view_audit": frozenset({"auditor"}),
    "manage_users": frozenset({"admin"}),
    # 专项治理 (docs/campaigns.md): the supervisor opens, edits, closes and publishes projects; the
    # analysts keep the task lists, inspections and monthly reports; the report is view_report's
    "view_campaign": frozenset({"supervisor", "analyst"}),
    "manage_campaigns": frozenset({"supervisor"}),
    "edit_tasks": frozenset({"supervisor", "analyst"}),
    "record_inspection": frozenset({"supervisor", "analyst"}),
    "publish": frozenset({"supervisor"}),
}

# Where a problem in the register came from; every source goes through the same lifecycle to 销号.
SOURCES = ("rule", "inspection", "petition")
SOURCE_TITLES = {"rule": "数据比对", "inspection": "监督检查", "petition": "信访举报"}
# The ``Clue.rule`` code of a problem that no rule found.
SOURCE_RULES = {"inspection": "JC", "petition": "XF"}

PROJECT_PLANNED, PROJECT_ACTIVE, PROJECT_CLOSED = "筹备", "进行中", "已结束"
PROJECT_STATUSES = (PROJECT_PLANNED, PROJECT_ACTIVE, PROJECT_CLOSED)
TASK_OPEN, TASK_DONE, TASK_CANCELLED = "进行中", "已完成", "已取消"
TASK_STATUSES = (TASK_OPEN, TASK_DONE, TASK_CANCELLED)

EVENT_KINDS = (
    "status_change",
    "comment",
    "assignment",
    "dispatch",
    "rectification",
    "reopen",
    "redetected",
    "not_detected",
    "inspection",  # 检查发现: a problem an inspection found
    "project",  # moved to another campaign project, or linked to one after publishing
    "institution",  # 建立健全制度 recorded on the problem
)
ACCESS_ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "view",
    "export",
    "search",
    "change",
    "denied",  # a refused attempt: a page or action the role may not reach, another unit's clue
    "lockout",
    "unlock",
    "session_end",  # ended by an administrator, a password or role change, deactivation, idle or age
    "password",
    "user_admin",
    "unit_admin",
    "audit_archive",
)
DISPATCH_STATES = ("sent", "answered", "withdrawn")
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, frozenset())


def transition_action(from_status: str, to_status: str) -> str:
    """Which permission a (legal) transition needs."""
    if to_status == CLOSED:
        return "close"
    if from_status in TERMINAL:
        return "reopen"
    return "transition"


def mask_id(value: str | None) -> str | None:
    """330109********1234: keep the region (6) and the last 4 characters of an 18-character ID."""
    if not value:
        return value
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return value[:2] + "*" * max(len(value) - 4, 1) + value[-2:]
