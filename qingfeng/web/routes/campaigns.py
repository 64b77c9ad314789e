"""The 专项治理 pages: projects, task lists, inspections, institutions and monthly reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
