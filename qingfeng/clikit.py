"""Options shared by every command."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qingfeng.settings import Settings, get_settings


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--home`` (and the env-backed settings) and pass a ``settings`` argument."""

    @click.option(
        "--home",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Home directory of lake and register (default ./var, or QINGFENG_HOME).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, home: Path | None = None, **kwargs: Any) -> Any:
        as_of = kwargs.get("as_of")
        settings = get_settings(home=home, as_of=as_of if isinstance(as_of, dt.date) else None)
        return func(*args, settings=settings, **kwargs)

    return wrapper


def as_of_option(required: bool = False) -> Callable[..., Any]:
    return click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        required=required,
        callback=lambda _c, _p, v: v.date() if v else None,
        help="Data cut-off date (YYYY-MM-DD).",
    )


def fail(message: str) -> None:
    """Stop a command with a clear message and exit code 1, never a traceback."""
    raise click.ClickException(message)


__all__ = ["Settings", "as_of_option", "fail", "with_settings"]
