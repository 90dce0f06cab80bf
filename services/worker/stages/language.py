"""Detect the language unless the sender declared it."""

from __future__ import annotations

from services.worker.context import BatchContext
from shared.tagging.language import detect_language


class LanguageStage:
    name = "language"

    def warm_up(self) -> None:
        detect_language("Loading the language model before the first article arrives.")

    def process(self, ctx: BatchContext) -> None:
        for item in ctx.items:
            declared = item.payload.get("language")
            guess = detect_language(f"{item.record['title']}\n{item.record['body']}")
            if declared:
                item.record["language"] = declared
                item.record["language_score"] = guess.score if guess.code == declared else None
            else:
                item.record["language"] = guess.code
                item.record["language_score"] = guess.score if guess.code else None
