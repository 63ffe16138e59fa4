"""Builds the shared pieces from Settings, once, for every channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.conversation.ocr import MAX_BYTES, ocr_available
from bot.conversation.rendering import Renderer
from bot.conversation.service import ConversationService
from bot.deployment import Deployment, resolve
from bot.monitoring.logs import hide_in_logs
from bot.records.http import RecordsClient
from bot.storage.db import Database
from bot.support.cases import CasePolicy
from flows.intake import IntakeFlow

MEGABYTE = 1024 * 1024


@dataclass
class Components:
    settings: Settings  # as in force: the deployment file's values filled in
    db: Database
    renderer: Renderer
    service: ConversationService
    deployment: Deployment
    #: The acquirer's records ([records] in the deployment file); None without that section.
    records: RecordsClient | None = None


def build(settings: Settings, clock: Callable[[], datetime] | None = None) -> Components:
    """Every shared piece; a bad deployment file stops it before the database is touched."""
    deployment = resolve(settings)
    settings = deployment.settings
    if deployment.records is not None:
        hide_in_logs(deployment.records.secrets)
    db = Database(settings.database_url)
    try:
        db.ensure_schema(settings.auto_migrate)
    except Exception:
        db.dispose()
        raise
    # Messages offer photo reading only where the OCR extra is installed.
    renderer = Renderer(
        settings={
            **deployment.template_globals(),
            "slip_reading": ocr_available(),
            "photo_max_mb": MAX_BYTES // MEGABYTE,
        },
        banks=deployment.banks,
    )
    policy = deployment.policy()
    case_policy = CasePolicy(
        sla_unclaimed_minutes=settings.sla_unclaimed_minutes,
        sla_reply_hours=settings.sla_reply_hours,
        reopen_window=timedelta(days=settings.reopen_days),
    )
    records = RecordsClient(deployment.records) if deployment.records is not None else None
    service = ConversationService(
        db,
        IntakeFlow(policy),
        renderer,
        settings.default_locale,
        clock or (lambda: datetime.now(UTC)),
        case_policy=case_policy,
        records=records,
    )
    return Components(settings, db, renderer, service, deployment, records)
