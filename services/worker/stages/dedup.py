"""The deduplication stage (issue 3)."""

from __future__ import annotations

from services.worker.stages import Stage
from shared.config import Settings


def dedup_stages(settings: Settings) -> list[Stage]:
    return []
