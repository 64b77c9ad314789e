"""server-side sessions, login lockout and password policy, the audit hash chain, exact money on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:00:00

"""

import datetime as dt
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
MONEY_COLUMNS = (("clue", "amount", True), ("rectification", "recovered_amount", False))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _normalise_usernames()
    # passwords set before the policy existed are changed at the next sign-in; the expiry clock starts now
    op.execute(
        sa.text(
            "UPDATE app_user SET must_change_password = :yes, password_changed_at = :now"
            " WHERE password_hash IS NOT NULL"
        ).bindparams(yes=True, now=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    )
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_web_session_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"], unique=False)
    op.create_index("ix_web_session_ended_at", "web_session", ["ended_at"], unique=False)
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_access_log_seq", ["seq"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    _chain_existing_rows()
    if sqlite:  # NUMERIC is a float there: amounts become whole fen in a 64-bit integer
        for table, column, nullable in MONEY_COLUMNS:
            op.execute(
                f"UPDATE {table} SET {column} = CAST(ROUND({column} * 100) AS INTEGER) "
                f"WHERE {column} IS NOT NULL"
            )
            with op.batch_alter_table(table) as batch:
                batch.alter_column(
                    column, type_=sa.BigInteger(), existing_type=sa.Numeric(18, 2), existing_nullable=nullable
                )


def _normalise_usernames() -> None:
    """NFKC and lower case, as new names are stored; a name whose normal form is taken keeps its form."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, username FROM app_user ORDER BY id")).all()
    taken = {r.username for r in rows}
    for row in rows:
        normal = unicodedata.normalize("NFKC", row.username).strip().lower()
        if normal != row.username and normal not in taken:
            conn.execute(
                sa.text("UPDATE app_user SET username = :u WHERE id = :i"), {"u": normal, "i": row.id}
            )
            taken.discard(row.username)
            taken.add(normal)


def _chain_existing_rows() -> None:
    from qingfeng.register.audit_chain import record_hash

    conn = op.get_bind()
    prev, seq = GENESIS, 0
    rows = conn.execute(
        sa.text("SELECT id, user_id, username, action, target, detail, ip, at FROM access_log ORDER BY id")
    ).mappings()
    updates = []
    for row in rows:
        seq += 1
        fields = {**row, "seq": seq, "at": _datetime(row["at"])}
        digest = record_hash(prev, fields)
        updates.append({"i": row["id"], "s": seq, "p": prev, "h": digest})
        prev = digest
    if updates:
        conn.execute(
            sa.text("UPDATE access_log SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"), updates
        )
    conn.execute(
        sa.text(
            "INSERT INTO audit_chain (id, seq, last_hash, anchor_seq, anchor_hash) VALUES (1, :s, :h, 0, :g)"
        ),
        {"s": seq, "h": prev, "g": GENESIS},
    )


def _datetime(value: object) -> object:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, column, nullable in MONEY_COLUMNS:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(
                    column, type_=sa.Numeric(18, 2), existing_type=sa.BigInteger(), existing_nullable=nullable
                )
            op.execute(f"UPDATE {table} SET {column} = {column} / 100.0 WHERE {column} IS NOT NULL")
    op.drop_table("audit_chain")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_constraint("uq_access_log_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_index("ix_web_session_ended_at", table_name="web_session")
    op.drop_index("ix_web_session_user_id", table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("app_user") as batch:
        for column in ("must_change_password", "password_changed_at", "locked_until", "failed_logins"):
            batch.drop_column(column)
