"""Which role reaches which page: every route maps to one action of the register's permission
table (``qingfeng.register.lifecycle.PERMISSIONS``), so the web layer has no second opinion.

A route missing from ``ROUTE_ACTIONS`` is refused to everyone (a test enumerates ``app.routes``).
The service layer still checks every change itself (and limits a liaison to their unit's clues).
"""

from __future__ import annotations

from qingfeng.register import lifecycle

ROLES = lifecycle.ROLES
ROLE_LABELS = lifecycle.ROLE_TITLES
ANY_ROLE = "*"

# Routes anyone may reach without a session. The public page (向社会公开) and its stylesheet are also
# served without one (web.public_zone): a signed-in user is nobody there.
PUBLIC_ROUTES = frozenset(
    {"login_form", "login", "static", "healthz", "public_projects", "public_stylesheet"}
)
# The only routes open while a password change is due.
PASSWORD_CHANGE_ROUTES = frozenset({"password_form", "password_change", "logout"})

# route name -> register action (or ANY_ROLE for every signed-in user).
ROUTE_ACTIONS: dict[str, str] = {
    "home": ANY_ROLE,
    "logout": ANY_ROLE,
    "queue": "view_clue",
    "queue_export": "export",
    "clue_detail": "view_clue",
    "clue_assign": "assign",
    "clue_comment": "comment",
    "clue_status": "transition",
    "clue_dispatch": "dispatch",
    "clue_rectify": "rectify",
    "clue_close": "close",
    "clue_move": "transition",  # another 专项治理 project, or none (CampaignService.move_clue)
    "clue_institution": "edit_tasks",  # 建立健全制度 on a problem
    "subject": "search",  # a subject page gathers clues across units: not for unit-scoped liaisons
    "dashboard": "view_report",
    "report": "view_report",
    "report_xlsx": "view_report",
    "campaigns": "view_campaign",
    "campaign_detail": "view_campaign",
    "campaign_new": "manage_campaigns",
    "campaign_create": "manage_campaigns",
    "campaign_edit_form": "manage_campaigns",
    "campaign_edit": "manage_campaigns",
    "campaign_close": "manage_campaigns",
    "campaign_publish": "publish",
    "campaign_task_add": "edit_tasks",
    "campaign_task_edit": "edit_tasks",
    "campaign_task_status": "edit_tasks",
    "campaign_task_note": "edit_tasks",
    "campaign_monthly_submit": "edit_tasks",
    "campaign_monthly_revise": "edit_tasks",
    "campaign_inspection_add": "record_inspection",
    "campaign_institution_add": "edit_tasks",
    "campaign_report": "view_report",
    "campaign_report_xlsx": "view_report",
    "campaign_records": "view_report",
    "campaign_evaluation": "view_report",
    "campaign_evaluation_xlsx": "view_report",
    "audit": "view_audit",
    "audit_export": "view_audit",
    "password_form": ANY_ROLE,
    "password_change": ANY_ROLE,
    "notification_settings": ANY_ROLE,  # one's own e-mail, mobile number and muted events
    "notification_settings_save": ANY_ROLE,
    "admin_users": "manage_users",
    "admin_user_add": "manage_users",
    "admin_user_action": "manage_users",
    "admin_units": "manage_users",
    "admin_unit_action": "manage_users",
    "admin_session_end": "manage_users",
}

UNIT_SCOPED_ROLES = frozenset({"liaison"})  # sees only clues dispatched to their unit
LANDING = ("queue", "dashboard", "audit", "admin_users")  # first of these the role may open


def allowed(route: str, role: str) -> bool:
    action = ROUTE_ACTIONS.get(route)
    if action is None:
        return False
    return action == ANY_ROLE or lifecycle.allowed(role, action)


def can(role: str, action: str) -> bool:
    return lifecycle.allowed(role, action)


def sees_full_ids(role: str) -> bool:
    return lifecycle.allowed(role, "see_ids")


def may_search(role: str) -> bool:
    return lifecycle.allowed(role, "search")


def landing(role: str) -> str | None:
    return next((name for name in LANDING if allowed(name, role)), None)
