"""专项治理: campaign projects, task lists, monthly reports, inspections, institutions (制度),
problems of every source in the clue table, and the outcomes 问责 and 通报曝光

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:46:19

Existing clues become problems of source ``rule``; no clue is linked to a project here
(``qingfeng campaigns link`` does that from config/campaigns.yml).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "campaign_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=30), nullable=True),
        sa.Column("lead_unit_id", sa.Integer(), nullable=True),
        sa.Column("office", sa.String(length=200), nullable=True),
        sa.Column("hotline", sa.String(length=50), nullable=True),
        sa.Column("liaison_unit_id", sa.Integer(), nullable=True),
        sa.Column("task_force", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["unit.id"], name=op.f("fk_campaign_project_lead_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["liaison_unit_id"], ["unit.id"], name=op.f("fk_campaign_project_liaison_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_project")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_project_code")),
    )
    with op.batch_alter_table("campaign_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_project_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_project_lead_unit_id"), ["lead_unit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_project_liaison_unit_id"), ["liaison_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_project_status"), ["status"], unique=False)

    op.create_table(
        "campaign_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("responsible_unit_id", sa.Integer(), nullable=True),
        sa.Column("responsible_person", sa.String(length=100), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["campaign_project.id"],
            name=op.f("fk_campaign_task_project_id_campaign_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"], ["unit.id"], name=op.f("fk_campaign_task_responsible_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_task")),
    )
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_task_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_task_responsible_unit_id"), ["responsible_unit_id"], unique=False
        )
        batch_op.create_index("ix_campaign_task_status_deadline", ["status", "deadline"], unique=False)

    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspecting_unit", sa.String(length=200), nullable=False),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["campaign_project.id"], name=op.f("fk_inspection_project_id_campaign_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_inspected_on"), ["inspected_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["campaign_project.id"],
            name=op.f("fk_project_report_project_id_campaign_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_report")),
        sa.UniqueConstraint("project_id", "month", name=op.f("uq_project_report_project_id_month")),
    )
    with op.batch_alter_table("project_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_report_project_id"), ["project_id"], unique=False)

    op.create_table(
        "task_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["campaign_task.id"],
            name=op.f("fk_task_note_task_id_campaign_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_note")),
    )
    with op.batch_alter_table("task_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_note_task_id"), ["task_id"], unique=False)

    op.create_table(
        "institution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("clue_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clue_id"], ["clue.id"], name=op.f("fk_institution_clue_id_clue"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["campaign_project.id"], name=op.f("fk_institution_project_id_campaign_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
    )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_institution_clue_id"), ["clue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_institution_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_institution_project_id"), ["project_id"], unique=False)

    with op.batch_alter_table("clue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=20), server_default="rule", nullable=False))
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("inspection_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_clue_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clue_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clue_source"), ["source"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_clue_project_id_campaign_project"), "campaign_project", ["project_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_clue_inspection_id_inspection"), "inspection", ["inspection_id"], ["id"]
        )

    with op.batch_alter_table("rectification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accountability_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("accountability_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("exposure_count", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("rectification", schema=None) as batch_op:
        batch_op.drop_column("exposure_count")
        batch_op.drop_column("accountability_text")
        batch_op.drop_column("accountability_count")

    with op.batch_alter_table("clue", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_clue_inspection_id_inspection"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_clue_project_id_campaign_project"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_clue_source"))
        batch_op.drop_index(batch_op.f("ix_clue_project_id"))
        batch_op.drop_index(batch_op.f("ix_clue_inspection_id"))
        batch_op.drop_column("inspection_id")
        batch_op.drop_column("project_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_project_id"))
        batch_op.drop_index(batch_op.f("ix_institution_issued_on"))
        batch_op.drop_index(batch_op.f("ix_institution_clue_id"))

    op.drop_table("institution")
    with op.batch_alter_table("task_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_note_task_id"))

    op.drop_table("task_note")
    with op.batch_alter_table("project_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_report_project_id"))

    op.drop_table("project_report")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_project_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_inspected_on"))

    op.drop_table("inspection")
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_task_status_deadline")
        batch_op.drop_index(batch_op.f("ix_campaign_task_responsible_unit_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_task_project_id"))

    op.drop_table("campaign_task")
    with op.batch_alter_table("campaign_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_project_status"))
        batch_op.drop_index(batch_op.f("ix_campaign_project_liaison_unit_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_project_lead_unit_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_project_domain"))

    op.drop_table("campaign_project")
