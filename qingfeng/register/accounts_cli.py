"""``qingfeng users``, ``qingfeng units`` and ``qingfeng audit``: account administration and the audit
trail from the command line. Every change is audited as the operating-system user (``cli:<login>``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from qingfeng.clikit import Settings, fail, with_settings
from qingfeng.register.cli import console, domain_errors, operator_name, register_session

ROLES = click.Choice(["admin", "supervisor", "analyst", "liaison", "auditor"])


@click.group()
def users() -> None:
    """Users of the register and the web UI."""


@users.command("list")
@with_settings
def users_list(settings: Settings) -> None:
    """Every account with its role, unit, state and open sessions."""
    from rich.table import Table

    from qingfeng.register import auth
    from qingfeng.register import users as accounts
    from qingfeng.register.models import utcnow

    with register_session(settings) as session:
        table = Table("用户名", "姓名", "角色", "单位", "状态", "失败次数", "会话", "口令修改于")
        now = utcnow()
        for user in accounts.list_users(session):
            state = "启用" if user.active else "停用"
            if user.locked_until and user.locked_until > now:
                state += " · 锁定"
            if user.must_change_password:
                state += " · 须改口令"
            table.add_row(
                user.username,
                user.display_name,
                user.role,
                user.unit.name if user.unit else "",
                state,
                str(user.failed_logins or 0),
                str(len(auth.open_sessions(session, user))),
                user.password_changed_at.isoformat(timespec="minutes") if user.password_changed_at else "",
            )
        console().print(table)


def _password(stdin: bool, generate: bool) -> str | None:
    if generate:
        return None
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=ROLES)
@click.option("--unit", default=None, help="The unit (派驻机构) of a liaison.")
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (first line).")
@click.option("--generate-password", is_flag=True, help="Generate a temporary password and print it once.")
@with_settings
def users_add(
    username: str,
    role: str,
    unit: str | None,
    display_name: str | None,
    password_stdin: bool,
    generate_password: bool,
    settings: Settings,
) -> None:
    """Add a user, who must change the password at the first sign-in."""
    from qingfeng.register import useradmin

    password = _password(password_stdin, generate_password)
    with register_session(settings) as session, domain_errors():
        outcome = useradmin.add_user(
            session, operator_name(), username, role, unit=unit, display_name=display_name, password=password
        )
    click.echo(outcome.message)
    if outcome.secret:
        click.echo(f"临时口令(仅显示一次): {outcome.secret}")


def _user_command(action: str, doc: str, value: click.Argument | None = None) -> None:
    def command(username: str, settings: Settings, value: str | None = None) -> None:
        from qingfeng.register import useradmin

        with register_session(settings) as session, domain_errors():
            outcome = useradmin.user_action(session, operator_name(), action, username, value)
        click.echo(outcome.message)
        if outcome.secret:
            click.echo(f"临时口令(仅显示一次): {outcome.secret}")

    command.__doc__ = doc
    params = [click.Argument(["username"])] + ([value] if value else [])
    built = click.command(action, params=params)(with_settings(command))
    users.add_command(built)


_user_command("deactivate", "Deactivate an account; its sessions end at once (never the last admin).")
_user_command("activate", "Activate an account again (and clear its lock).")
_user_command("unlock", "Clear a login lock before it expires.")
_user_command("reset-password", "Set a generated temporary password, to be changed at the next sign-in.")
_user_command(
    "set-role",
    "Change a user's role; the user's sessions end.",
    click.Argument(["value"], metavar="ROLE", type=ROLES),
)
_user_command(
    "set-unit",
    "Change a user's unit (none without UNIT, except for a liaison).",
    click.Argument(["value"], metavar="UNIT", required=False),
)
_user_command("end-sessions", "End every open session of a user.")
_user_command(
    "set-email",
    "Set the e-mail address notifications go to (none without ADDRESS).",
    click.Argument(["value"], metavar="ADDRESS", required=False),
)
_user_command(
    "set-phone",
    "Set the mobile number SMS notifications go to (none without NUMBER).",
    click.Argument(["value"], metavar="NUMBER", required=False),
)


@click.group()
def units() -> None:
    """Units (派驻机构) that clues are dispatched to."""


@units.command("list")
@click.option("--all", "everything", is_flag=True, help="Deactivated units too.")
@with_settings
def units_list(everything: bool, settings: Settings) -> None:
    from qingfeng.register import users as accounts

    with register_session(settings) as session:
        for unit in accounts.list_units(session, active_only=not everything):
            click.echo(f"{unit.name}\t{unit.code or ''}\t{'启用' if unit.active else '停用'}")


def _unit_command(action: str, doc: str, value: click.Argument | None = None) -> None:
    def command(name: str, settings: Settings, value: str | None = None) -> None:
        from qingfeng.register import useradmin

        with register_session(settings) as session, domain_errors():
            click.echo(useradmin.unit_action(session, operator_name(), action, name, value).message)

    command.__doc__ = doc
    params = [click.Argument(["name"])] + ([value] if value else [])
    units.add_command(click.command(action, params=params)(with_settings(command)))


_unit_command(
    "add", "Add a unit (optionally with its code).", click.Argument(["value"], metavar="CODE", required=False)
)
_unit_command("rename", "Rename a unit.", click.Argument(["value"], metavar="NEW_NAME"))
_unit_command("deactivate", "Stop dispatches to a unit.")
_unit_command("activate", "Let a deactivated unit receive dispatches again.")


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@with_settings
def audit_verify(settings: Settings) -> None:
    """Check every link of the audit chain; exit 1 naming the first broken record."""
    from qingfeng.register import audit_chain

    with register_session(settings) as session:
        verdict = audit_chain.verify(session)
    if verdict.ok:
        click.echo(f"审计链完整:{verdict.checked} 条记录")
        return
    where = f"第 {verdict.broken_seq} 条" if verdict.broken_seq else ""
    where += f"(id {verdict.broken_id})" if verdict.broken_id else ""
    fail(f"审计链断裂于{where}:{verdict.reason};此前 {verdict.checked} 条完整")


@audit.command("archive")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="JSON Lines file to write.")
@with_settings
def audit_archive(out: Path, settings: Settings) -> None:
    """Move records older than the retention period (QINGFENG_AUDIT_RETENTION_DAYS) to a file.

    Nothing younger than the retention period is ever removed, and nothing is removed without being
    written out first; the chain restarts from the last archived record's hash."""
    from qingfeng.register import audit_retention

    with register_session(settings) as session, domain_errors():
        result = audit_retention.archive(
            session, out, retention_days=settings.audit_retention_days, actor=operator_name()
        )
    click.echo(json.dumps(result, ensure_ascii=False))


commands = [users, units, audit]
