"""The tagging stage (issue 4)."""

from __future__ import annotations

from services.worker.stages import Stage
from shared.config import Settings


def tagging_stages(settings: Settings) -> list[Stage]:
    return []
