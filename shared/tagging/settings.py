"""Tagging settings (environment prefix ``TIDINGS_TAGGING_``)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter


class TaggingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_TAGGING_", extra="ignore")

    # Which taggers run in the worker; None runs every registered one (shared/tagging/vocabulary.py and the
    # plug-ins); e.g. TIDINGS_TAGGING_ENABLED='["language","rules"]', or '[]' for no tagging at all.
    enabled: tuple[str, ...] | None = None
    # "full": people, organisations and places from the spaCy entity recogniser. "fast": no recogniser at all;
    # the default set leaves out ``entities`` and places are found by gazetteer matching over the text
    # (shared/tagging/place_matcher.py), an order of magnitude faster. TIDINGS_TAGGING_PROFILE=fast.
    profile: Literal["full", "fast"] = "full"
    # Modules adding taggers from outside the package, each with a TAGGERS tuple of TaggerEntry; every process
    # must name the same ones, so the kinds a worker stores are the kinds the query service searches.
    plugins: tuple[str, ...] = ()
    # Whether the topic tagger averages in its sentence-embedding model (shared/tagging/topics.py); unset, it
    # does in the full profile and not in the fast one, which then runs no neural model at all: the n-gram
    # model alone costs a tenth of the pair and gets fewer short items right (docs/tagging.md, "Profiles").
    topic_embedding: bool | None = None
    ner_batch_size: int = 32
    ner_max_chars: int = 20_000  # the NER reads this much of an article: the opening carries its entities
    keywords_per_article: int = 10
    # Backfills re-tag articles published within this many days (rules and tagger upgrades).
    backfill_window_days: int = 30
    backfill_chunk_size: int = 200
    backfill_stalled_after_s: int = 120
    backfill_sweep_interval_s: float = 30.0

    @property
    def topics_embedding(self) -> bool:
        """The topic tagger reads the sentence embedding too: as set, else in the full profile only."""
        return self.topic_embedding if self.topic_embedding is not None else self.profile == "full"

    @property
    def places_by_matching(self) -> bool:
        """Places found by gazetteer matching: in the fast profile, and wherever ``entities`` is not enabled
        (the recogniser would run for places alone)."""
        return self.profile == "fast" or (self.enabled is not None and "entities" not in self.enabled)


get_tagging_settings = settings_getter(TaggingSettings)
