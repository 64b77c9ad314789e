"""向社会公开: the public page, served without a session."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
