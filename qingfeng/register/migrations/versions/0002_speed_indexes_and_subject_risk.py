"""indexes for the 100k-clue pages, and stored subject risk

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_clue_amount", "clue", ["amount"]),
    ("ix_clue_risk_score", "clue", ["risk_score"]),
    ("ix_clue_status_rule_town", "clue", ["status", "rule", "town"]),
    ("ix_dispatch_sent_at", "dispatch", ["sent_at"]),
    ("ix_dispatch_deadline", "dispatch", ["deadline"]),
    ("ix_dispatch_state_clue_id_deadline", "dispatch", ["state", "clue_id", "deadline"]),
    ("ix_event_to_status_at", "event", ["to_status", "at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_table(
        "subject_risk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("clue_count", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_risk")),
    )
    op.create_index("ix_subject_risk_kind_subject_id", "subject_risk", ["kind", "subject_id"], unique=True)
    op.create_index("ix_subject_risk_score", "subject_risk", ["score"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_subject_risk_score", table_name="subject_risk")
    op.drop_index("ix_subject_risk_kind_subject_id", table_name="subject_risk")
    op.drop_table("subject_risk")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
