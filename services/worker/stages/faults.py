"""Fault injection for tests and chaos runs: articles that fail on purpose, as a buggy stage would.

Only in the stage list when ``TIDINGS_RELIABILITY_FAULT_INJECTION`` is on (never in production). An article
whose ``metadata.tidings_fault`` is ``"poison"`` fails on every attempt; ``"flaky"`` fails on its first
attempt only. Everything else passes untouched.
"""

from __future__ import annotations

from sqlalchemy import select

from services.worker.context import BatchContext
from shared.db.models import Ingestion

FAULT_KEY = "tidings_fault"


class InjectedFault(RuntimeError):
    """The failure this stage raises on purpose."""


class FaultInjectionStage:
    name = "fault_injection"

    def process(self, ctx: BatchContext) -> None:
        faults = {item.id: item.payload.get("metadata", {}).get(FAULT_KEY) for item in ctx.items}
        faults = {k: v for k, v in faults.items() if v}
        if not faults:
            return
        flaky = [k for k, v in faults.items() if v == "flaky"]
        rows = ctx.session.execute(select(Ingestion.id, Ingestion.attempts).where(Ingestion.id.in_(flaky)))
        attempts = {row.id: row.attempts for row in rows}
        for article_id, fault in faults.items():
            if fault == "poison" or (fault == "flaky" and attempts.get(article_id, 0) <= 1):
                raise InjectedFault(f"injected {fault} fault in article {article_id}")
