"""Notifications: the message log (one row per message, recipient and channel, with its delivery
state and a unique dedupe key), and each user's e-mail, mobile number and muted events

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:58:46

Existing users get no contact details and mute nothing; they receive nothing until they (or an
administrator) enter an address (docs/notifications.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["app_user.id"], name=op.f("fk_notification_recipient_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_event"), ["event"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index(
            "ix_notification_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_target"), ["target"], unique=False)

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("muted_events", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("muted_events")
        batch_op.drop_column("phone")
        batch_op.drop_column("email")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_target"))
        batch_op.drop_index("ix_notification_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_notification_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_notification_event"))
        batch_op.drop_index(batch_op.f("ix_notification_created_at"))

    op.drop_table("notification")
