"""pipeline_run.input_files in one shape: the landed files the run matched on

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:40:00

``qingfeng run`` recorded the files of its input folder as ``{name, bytes, sha256}``; the
cross-match DAG recorded the landed files as ``{file, sha256, feed, table, ingested_at,
period_end}``. Both now record the latter, and old rows are rewritten to it. What an old row
did not record (feed, table, dates) stays null; its ``bytes`` are dropped.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILE_KEYS = ("file", "sha256", "feed", "table", "ingested_at", "period_end")
RUNS = sa.table("pipeline_run", sa.column("id", sa.Integer()), sa.column("input_files", sa.JSON()))


def _landed_file(item: Any) -> Any:
    if not isinstance(item, dict) or "name" not in item or "file" in item:
        return item
    return {key: item.get("name" if key == "file" else key) for key in FILE_KEYS}


def upgrade() -> None:
    conn = op.get_bind()
    for run_id, files in conn.execute(sa.select(RUNS.c.id, RUNS.c.input_files)).all():
        rewritten = [_landed_file(item) for item in files or []]
        if rewritten != (files or []):
            conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(input_files=rewritten))


def downgrade() -> None:
    """Nothing to undo: the old code wrote both shapes and read neither."""
