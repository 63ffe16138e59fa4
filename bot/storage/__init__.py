"""Persistence: SQLAlchemy 2 models, the engine and the repositories the service uses."""

from bot.storage.db import Database
from bot.storage.models import Base, Case, Conversation

__all__ = ["Base", "Case", "Conversation", "Database"]
