"""The analyst web UI (FastAPI + Jinja2, server-rendered, Simplified Chinese). See docs/ui.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(settings: Any = None) -> FastAPI:
    from qingfeng.web.app import create_app as _create

    return _create(settings)


__all__ = ["create_app"]
