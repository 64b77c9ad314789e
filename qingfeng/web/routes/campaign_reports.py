"""The campaign report (治理成效) and the evaluation of lead units (评估单)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
