"""Pipeline stages, one module each. A stage is any object with a ``name`` and ``process(ctx)``; it may
also have ``after_store(ctx)``, run once the article rows exist (for rows that reference them), and
``warm_up()``, run once per worker process at start (load models there)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from services.worker.context import BatchContext


@runtime_checkable
class Stage(Protocol):
    name: str

    def process(self, ctx: BatchContext) -> None: ...


@runtime_checkable
class StoresAfter(Protocol):
    def after_store(self, ctx: BatchContext) -> None: ...
