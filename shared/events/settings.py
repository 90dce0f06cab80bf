"""Event grouping parameters, read from the environment (prefix ``TIDINGS_EVENTS_``).

The thresholds were tuned on one half of the SemEval-2022 task 8 pairs and are reported on the other half
(``make bench-events``); they are part of :func:`engine_version`, so each decision says what decided it.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter

# Bump when the algorithm changes in a way that changes decisions for the same parameters.
ALGORITHM_VERSION = "7"  # 2: anchors between languages; 3: multilingual embeddings; 4: text with meaning;
# 5: shared anchors back a text match as the taggers' names do; 6: a second look at the bodies;
# 7: plain words (in the main languages of news) are not read as subdivisions, nor stop words as countries


class EventSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_EVENTS_", extra="ignore")

    enabled: bool = True
    window_days: int = Field(default=3, ge=0, le=30, description="publication days apart an event may span")
    lead_words: int = Field(default=300, ge=10, le=2000, description="body words read after the title")
    title_weight: float = Field(default=2.0, ge=1, description="a title word counts this many lead words")
    stem_chars: int = Field(default=7, ge=3, le=40, description="words cut to this many characters")
    number_weight: float = Field(default=2.0, ge=0, le=10, description="weight of a figure (two digits or more)")
    salient_terms: int = Field(default=10, ge=0, le=50, description="index keys taken from the text")
    max_entities: int = Field(default=10, ge=0, le=50, description="index keys taken from entities and places")
    # A candidate joins with text similarity >= text_threshold and at least one shared entity or place (the
    # taggers' or an anchor's: a gazetteer place, a rare capitalised name), or with text similarity >=
    # strong_threshold alone.
    text_threshold: float = Field(default=0.23, ge=0, le=1)
    strong_threshold: float = Field(default=0.36, ge=0, le=1)
    # A shared place alone is weak evidence (many stories happen in one country on one day): without a shared
    # person, organisation or other name, this many shared places are needed.
    min_shared_places: int = Field(default=2, ge=1, le=10)
    # Articles in different languages share few words: they join on their anchors (places, names, figures)
    # when the anchor vectors' cosine reaches anchor_threshold and they share min_shared_anchors of them.
    anchor_threshold: float = Field(default=0.14, ge=0, le=1)
    min_shared_anchors: int = Field(default=3, ge=1, le=20)
    # Two articles close in meaning (the cosine of their openings' multilingual embeddings) join when they
    # also share a name, place or anchor. embedding_words is how much of the opening is embedded: the cost is
    # linear in it (about 0.05 ms a token on one core); 0 turns embeddings off.
    embedding_words: int = Field(default=40, ge=0, le=500, description="opening words embedded (0: off)")
    embedding_tokens: int = Field(default=96, ge=0, le=2000, description="tokenizer pieces embedded (0: all)")
    embedding_threshold: float = Field(default=0.61, ge=0, le=1)
    # Two weaker signals that agree: a moderate text similarity and a moderate embedding cosine, both at least
    # these, join without a shared name (each alone is too common between unrelated reports of one day).
    joint_text_threshold: float = Field(default=0.18, ge=0, le=1)
    joint_embedding_threshold: float = Field(default=0.58, ge=0, le=1)
    # A second look, when no rule joined the article: its second_look_candidates candidates closest in meaning,
    # if at least second_look_floor, are compared on more of the two bodies, the mean embedding of their first
    # second_look_sentences sentences (each cut to second_look_tokens pieces); they join at
    # second_look_threshold. It costs an embedding of those sentences for the article and each such
    # candidate, so it is bounded to a short list. 0 candidates turns it off.
    second_look_floor: float = Field(default=0.42, ge=0, le=1)
    second_look_threshold: float = Field(default=0.62, ge=0, le=1)
    second_look_sentences: int = Field(default=8, ge=1, le=50)
    second_look_tokens: int = Field(default=64, ge=8, le=500)
    second_look_candidates: int = Field(default=2, ge=0, le=30)
    # Index keys from the embedding (random-hyperplane LSH), so a report in another language sharing no word
    # is found: bands of bits each; every worker must share the seed.
    embedding_bands: int = Field(default=8, ge=0, le=32, description="LSH bands of the embedding (index keys)")
    embedding_bits: int = Field(default=5, ge=1, le=16, description="hyperplane bits per band")
    embedding_seed: int = Field(default=20260601)
    anchor_keys: int = Field(default=5, ge=0, le=50, description="index keys taken from the anchors")
    anchor_place_population: int = Field(default=100_000, ge=0, description="smaller towns are names, not places")
    entity_bonus: float = Field(default=0.05, ge=0, le=1, description="score added per shared entity (max 3)")
    max_candidates: int = Field(default=30, ge=1, le=500, description="candidates scored per article")
    bucket_cap: int = Field(default=100, ge=2, description="ids kept per (period, key) row")
    index_retention_days: int = Field(default=30, ge=1, description="index rows untouched longer are deleted")
    expiry_interval_s: float = Field(default=3600.0, gt=0)
    expiry_batch: int = Field(default=5000, ge=1)


get_event_settings = settings_getter(EventSettings)


def engine_version(s: EventSettings) -> str:
    return (
        f"events-{ALGORITHM_VERSION}:w{s.window_days}:l{s.lead_words}:s{s.stem_chars}:n{s.number_weight:g}:"
        f"k{s.salient_terms}e{s.max_entities}a{s.anchor_keys}:t{s.text_threshold:g}/{s.strong_threshold:g}p{s.min_shared_places}"
        f":a{s.anchor_threshold:g}/{s.min_shared_anchors}:m{s.embedding_words}p{s.embedding_tokens}/{s.embedding_threshold:g}"
        f":j{s.joint_text_threshold:g}/{s.joint_embedding_threshold:g}"
        f":b{s.embedding_bands}x{s.embedding_bits}s{s.embedding_seed}"
        f":r{s.second_look_candidates}x{s.second_look_sentences}p{s.second_look_tokens}"
        f"/{s.second_look_floor:g}/{s.second_look_threshold:g}"
    )
