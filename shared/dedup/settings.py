"""Dedup parameters, read from the environment (prefix ``TIDINGS_DEDUP_``), with their documented defaults.

Every worker must run with the same shingling, permutation and banding parameters, or their bucket keys
would not meet in the shared index: those parameters are part of :func:`engine_version`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import settings_getter

# Bump when the algorithm changes in a way that changes decisions for the same parameters.
# 2: partial reuse (passage fingerprints, coverage); 3: measured on word grams, figures not bridged;
# 4: a reuse join needs the template's slots (names, figures between the passages) to agree
# 5: a reuse join needs the smaller share at the link threshold too (a digest quoting a story links)
# 6: a text with passage fingerprints indexes them in place of its lead bands and of some whole-text bands
#    (down to reuse_min_bands); copies are verified from fingerprint candidates too
# 7: the reused share also counts passages aligned across short edits with the same figures (reuse_align_gap),
#    and the join threshold is the copy line itself (0.6)
# 8: a text indexes at most reuse_max_fingerprints fingerprints (its lead's, then its smallest)
ALGORITHM_VERSION = "8"


class CanonicalPolicy(StrEnum):
    earliest = "earliest"  # first published wins; the longer one on a tie
    longest = "longest"  # most words wins; the earlier one on a tie
    preferred_source = "preferred_source"  # first source in ``preferred_sources``; then earliest


class DedupSettings(BaseSettings):
    """Parameters of the dedup engine and index. Defaults are tuned on Reuters-21578 and BBC News (see
    ``docs/dedup.md`` and ``make bench-dedup``)."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_DEDUP_", extra="ignore")

    # Shingles: word k-grams; character n-grams for scripts written without spaces (Chinese, Thai, ...).
    shingle_words: int = Field(default=5, ge=1, le=10)
    shingle_chars: int = Field(default=5, ge=2, le=12)
    char_script_ratio: float = Field(default=0.5, ge=0, le=1, description="share of letters that switches to chars")
    min_shingles: int = Field(default=5, ge=1, description="fewer shingles: too thin for near-dup detection")
    # MinHash and LSH banding: bands x rows permutations. 40 x 3 finds a pair at Jaccard 0.5 with p = 0.995.
    bands: int = Field(default=40, ge=1, le=256)
    rows: int = Field(default=3, ge=1, le=16)
    # Extra bands over the lead (the first shingles): they find copies trimmed at the tail (containment).
    lead_shingles: int = Field(default=40, ge=1)
    lead_bands: int = Field(default=8, ge=0, le=64)
    seed: int = 20_240_601
    # Verification of LSH candidates on the exact shingle sets.
    jaccard_threshold: float = Field(default=0.5, gt=0, le=1)
    containment_threshold: float = Field(default=0.8, gt=0, le=1)
    min_containment_shingles: int = Field(default=40, ge=1, description="the smaller text must be this long")
    title_threshold: float = Field(default=0.7, gt=0, le=1, description="title similarity that supports a match")
    title_margin: float = Field(default=0.1, ge=0, lt=1, description="how far below the Jaccard threshold it helps")
    min_title_words: int = Field(default=4, ge=1, description="shorter titles make no per-source title key")
    max_candidates: int = Field(default=20, ge=1, description="candidates verified per article, most bands first")
    bucket_cap: int = Field(default=50, ge=1, description="newest articles kept per bucket")
    # Partial reuse: winnowed passage fingerprints find articles that share passages; the exact share of each
    # text covered by the other's shingles decides. 0 as the window turns partial reuse off.
    reuse_window: int = Field(default=16, ge=0, le=64, description="winnowing window in shingles; 0: no reuse")
    reuse_join_threshold: float = Field(default=0.6, gt=0, le=1, description="reused share that joins the cluster")
    reuse_link_threshold: float = Field(default=0.3, gt=0, le=1, description="reused share that links the two")
    reuse_min_shared: int = Field(default=3, ge=1, description="passage fingerprints shared before verifying")
    reuse_min_bands: int = Field(
        default=24, ge=1, description="whole-text bands a text with fingerprints keeps (its fingerprints stand in "
        "for its lead bands and the rest, so reuse adds no index rows)"
    )  # fmt: skip
    reuse_max_fingerprints: int = Field(
        default=24, ge=1, description="a text's smallest fingerprints it indexes (a bottom-k sample); at bands + "
        "lead_bands - reuse_min_bands no text writes more index keys than without reuse"
    )  # fmt: skip
    reuse_common_ids: int = Field(default=20, ge=2, description="a fingerprint this many articles carry is boilerplate")
    reuse_candidates: int = Field(default=5, ge=1, description="candidates verified for reuse per article")
    reuse_seed_words: int = Field(default=4, ge=1, le=10, description="word grams the reused share is measured on")
    reuse_min_run: int = Field(default=2, ge=1, description="shared shingles in a row that make a passage")
    reuse_max_gap: int = Field(default=5, ge=0, description="an edit this short inside a passage is reused too")
    reuse_align_gap: int = Field(
        default=2, ge=0, description="words edited between two aligned blocks of a passage (0: grams only)"
    )
    reuse_min_figures: int = Field(default=3, ge=1, description="numbers both texts need for the figures check")
    reuse_figure_share: float = Field(default=0.3, ge=0, le=1, description="share of figures a reuse join keeps")
    reuse_min_shingles: int = Field(default=40, ge=1, description="a text this short is too short to judge reuse of")
    reuse_slot_gap: int = Field(
        default=16, ge=0, description="gaps between passages this short hold a template's slots"
    )
    reuse_max_differing_slots: int = Field(
        default=0, ge=0, description="names and figures in those gaps only one text uses, that a reuse join allows"
    )
    # Time windows of the index, counted from receipt (articles' ids are UUIDv7: their time is their key).
    window_days: float = Field(default=30, gt=0)
    title_window_days: float = Field(default=1, gt=0)
    expiry_batch: int = Field(default=5_000, ge=1)
    expiry_interval_s: float = Field(default=3_600, gt=0)
    # Which member of a cluster is the canonical one.
    canonical_policy: CanonicalPolicy = CanonicalPolicy.earliest
    preferred_sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DedupSettings:
        if self.canonical_policy is CanonicalPolicy.preferred_source and not self.preferred_sources:
            raise ValueError("canonical_policy=preferred_source needs TIDINGS_DEDUP_PREFERRED_SOURCES")
        if self.reuse_link_threshold > self.reuse_join_threshold:
            raise ValueError("TIDINGS_DEDUP_REUSE_LINK_THRESHOLD must not exceed TIDINGS_DEDUP_REUSE_JOIN_THRESHOLD")
        if self.reuse_common_ids > self.bucket_cap:
            raise ValueError("TIDINGS_DEDUP_REUSE_COMMON_IDS must not exceed TIDINGS_DEDUP_BUCKET_CAP")
        return self

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    @property
    def passage_band(self) -> int:
        """The band number under which passage fingerprints share ``lsh_buckets`` with the LSH keys: one
        past the last LSH band, so a fingerprint never meets a band key."""
        return self.bands + self.lead_bands


get_dedup_settings = settings_getter(DedupSettings)


def engine_version(s: DedupSettings) -> str:
    """The engine and the parameters that shape its decisions, recorded on every article."""
    return (
        f"dedup-{ALGORITHM_VERSION}:w{s.shingle_words}c{s.shingle_chars}:b{s.bands}r{s.rows}"
        f"l{s.lead_bands}x{s.lead_shingles}:s{s.seed}"
        f":j{s.jaccard_threshold:g}c{s.containment_threshold:g}t{s.title_threshold:g}"
        f":r{s.reuse_window}g{s.reuse_seed_words}j{s.reuse_join_threshold:g}l{s.reuse_link_threshold:g}"
        f"d{s.reuse_max_differing_slots}x{s.reuse_slot_gap}b{s.reuse_min_bands}f{s.reuse_max_fingerprints}a{s.reuse_align_gap}"
    )
