"""Persistence: the SQLAlchemy 2 models, the engine with its worker threads, and migrations; the
queries live with the code that owns each table (docs/architecture.md)."""

from bot.storage.db import Database
from bot.storage.models import Base, Case, Conversation

__all__ = ["Base", "Case", "Conversation", "Database"]
