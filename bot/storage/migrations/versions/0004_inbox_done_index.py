"""inbox retention: an index on done rows by the time they were processed

The retention purge (`bot.conversation.privacy.purge_inbox`) deletes done update ids older than
POSBOT_INBOX_RETENTION_HOURS; the index keeps it a short range scan however large the inbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_done", ["status", "processed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_done")
