"""The tag vocabulary and the tagger registry: which kinds of tag exist, which tagger emits them, and the facets
and filters each kind feeds. Everything that names a kind (the taggers, the search filters, the facets, the
query service's parameters, the events engine) reads it from here, so a kind is either known everywhere or
nowhere: a kind missing from one list would be stored and then silently left out of searches.

Adding a tagger: write its module (a class with ``name``, ``version``, ``languages``, ``needs_mentions`` and
``tag(docs)``), then add one :class:`TaggerEntry` line to :data:`TAGGERS` naming the kinds it emits (a new
kind is one :class:`Kind` line here too). A tagger kept outside this package (a newsroom's own, a test's)
lives in a module with its own ``TAGGERS`` tuple of entries, named in ``TIDINGS_TAGGING_PLUGINS``: every
process (worker, query service, CLI) reads the same setting, so its kinds are searchable where it runs.

Stored kind values are plain text (``article_tags.kind``) with no database constraint: a plug-in's new kind
needs no migration.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.tagging.base import Tagger
    from shared.tagging.settings import TaggingSettings


@dataclass(frozen=True)
class Kind:
    """One kind of tag. ``facets`` names the facets that count it (its own, and a group such as ``entity``);
    an ``entity`` is a named thing (``entity=`` filters match it, the events engine compares articles by it)."""

    name: str
    facets: tuple[str, ...] = ()
    entity: bool = False


# The language facet counts the article's own column, not its tags: the language kind has no tag facet.
LANGUAGE = Kind("language")
PERSON = Kind("person", facets=("person", "entity"), entity=True)
ORGANISATION = Kind("organisation", facets=("organisation", "entity"), entity=True)
# Places have their own facet among the defaults, so the entity facet leaves them out to count nothing twice.
PLACE = Kind("place", facets=("place",), entity=True)
MISC = Kind("misc", facets=("entity",), entity=True)  # other named entities (CoNLL's MISC)
TOPIC = Kind("topic", facets=("topic",))  # IPTC Media Topics; value is the code, e.g. "16000000"
KEYWORD = Kind("keyword", facets=("keyword",))
TONE = Kind("tone", facets=("tone",))
RULE = Kind("rule", facets=("rule",))  # from user rules; tagger is "rule:<rule id>"


@dataclass(frozen=True)
class TaggerEntry:
    """A registered tagger: its name (as ``TIDINGS_TAGGING_ENABLED`` spells it), the kinds it may emit, and
    where its class is (``module:Class``; built with ``Class.from_settings(settings)`` when it has one, else
    ``Class()``). Only the processes that tag import it: the query service reads the kinds alone."""

    name: str
    kinds: tuple[Kind, ...]
    factory: str | None  # None: built per batch by the caller (the rules change while the worker runs)

    def build(self, settings: TaggingSettings) -> Tagger:
        if self.factory is None:
            raise ValueError(f"tagger {self.name!r} is built per batch, not from the registry")
        module, _, attr = self.factory.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        tagger: Tagger = cls.from_settings(settings) if hasattr(cls, "from_settings") else cls()
        return tagger


# The order is the order taggers run in (a later tagger's equal tag does not replace an earlier one's).
TAGGERS: tuple[TaggerEntry, ...] = (
    TaggerEntry("language", (LANGUAGE,), "shared.tagging.language:LanguageTagger"),
    TaggerEntry("entities", (PERSON, ORGANISATION, MISC), "shared.tagging.entities:EntityTagger"),
    TaggerEntry("places", (PLACE,), "shared.tagging.places:PlaceTagger"),
    TaggerEntry("topics", (TOPIC,), "shared.tagging.topics:TopicTagger"),
    TaggerEntry("keywords", (KEYWORD,), "shared.tagging.keywords:KeywordTagger"),
    TaggerEntry("tone", (TONE,), "shared.tagging.tone:ToneTagger"),
    TaggerEntry("rules", (RULE,), None),
)
RULES = "rules"


class Vocabulary:
    """The registered taggers (built-in and plug-ins) and the kinds, facets and filters they add up to."""

    def __init__(self, entries: tuple[TaggerEntry, ...]) -> None:
        names = [e.name for e in entries]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"tagger {repeated[0]!r} is registered twice")
        self.taggers: dict[str, TaggerEntry] = {e.name: e for e in entries}
        kinds: dict[str, Kind] = {}
        for entry in entries:
            for kind in entry.kinds:
                if kinds.setdefault(kind.name, kind) != kind:
                    raise ValueError(f"kind {kind.name!r} is defined twice, differently ({entry.name})")
        self.kinds: dict[str, Kind] = kinds

    @cached_property
    def kind_names(self) -> tuple[str, ...]:
        """Every kind a tag may have: what a bare ``tag=`` value is looked up among."""
        return tuple(self.kinds)

    @cached_property
    def entity_kinds(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds.values() if k.entity)

    @cached_property
    def facets(self) -> dict[str, tuple[str, ...] | None]:
        """Facet name → the tag kinds it counts; ``None`` for the two that count an article column."""
        out: dict[str, tuple[str, ...] | None] = {"source": None, "language": None}
        for kind in self.kinds.values():
            for facet in kind.facets:
                counted = out.get(facet) or ()
                out[facet] = (*counted, kind.name)
        return out


def load_plugins(modules: tuple[str, ...]) -> tuple[TaggerEntry, ...]:
    """The entries of the plug-in modules (each a module with a ``TAGGERS`` tuple), in the order named."""
    out: list[TaggerEntry] = []
    for name in modules:
        entries = getattr(importlib.import_module(name), "TAGGERS", None)
        if not isinstance(entries, tuple) or not all(isinstance(e, TaggerEntry) for e in entries):
            raise ValueError(f"tagging plug-in {name!r} has no TAGGERS tuple of TaggerEntry")
        out += entries
    return tuple(out)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The process's vocabulary: the built-in taggers and those of ``TIDINGS_TAGGING_PLUGINS``."""
    from shared.tagging.settings import get_tagging_settings  # settings import nothing of tagging

    return Vocabulary((*TAGGERS, *load_plugins(get_tagging_settings().plugins)))
