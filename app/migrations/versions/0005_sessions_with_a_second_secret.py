"""sessions with a second secret

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:40:00.000000

A session the app asks for at sign-in also needs a second secret (its proof) in a header: the
app forgets it on sign-out, even with no signal, so the cookie the browser still holds no
longer opens the account. Only the proof's SHA-256 is stored; sessions made before, and those
of scripts that do not ask for one, have none and work with the cookie alone as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("proof_hash")
