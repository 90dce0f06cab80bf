"""A search: full-text query plus filters, and the SQL conditions it stands for.

``q`` follows web-search syntax (``websearch_to_tsquery``): words, ``"phrases"``, ``OR``, ``-term``. A word or
phrase may be scoped to one field with ``title:``, ``summary:`` or ``body:``; the article's ``search_vector``
weighs the title A, the summary B and the body C, so a scope is a weight restriction on the lexemes, which
the GIN index still serves (PostgreSQL rechecks the weights on the candidate rows).

Tag filters are repeatable and all must hold (AND): ``tag`` is ``kind:value`` (``place:Damascus``) or a bare
value of any kind; ``entity`` is a person, organisation, place or other entity by canonical name; ``place`` a
place by canonical name; ``topic`` an IPTC Media Topics code (``16000000``) or its subject's name (``politics``,
any case). Each is a semi-join on ``article_tags``, bounded by the same dates and canonical flag as the articles
(copied onto the tag rows).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, Text, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import TSQUERY

from shared.dates import WindowedDatetime
from shared.db.models import Article, ArticleTag
from shared.tagging.topic_lexicon import SUBJECTS
from shared.tagging.vocabulary import PLACE, TOPIC, vocabulary

SEARCH_CONFIG: ColumnElement[Any] = literal_column("'english'::regconfig")
SCOPE_WEIGHTS = {"title": "A", "summary": "B", "body": "C"}
MAX_VALUES = 20  # per repeatable filter

_SCOPED_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<scope>title|summary|body):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))', re.IGNORECASE
)
_HAS_SCOPE = re.compile(r'(?:^|[\s(-])(?:title|summary|body):(?=["\w])', re.IGNORECASE)
# A quoted lexeme in a tsquery's text form ('it''s' escapes a quote by doubling it).
_LEXEME = r"('(?:[^']|'')*')"


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


Value = Annotated[str, AfterValidator(_clean), Field(max_length=300)]
_TOPIC_CODES = {name.lower(): code for code, name in SUBJECTS.items()}


def _topic_code(value: str) -> str:
    """An IPTC Media Topics code (``11000000``) or its subject's name (``politics``, any case): the code."""
    value = value.strip()
    if value in SUBJECTS:
        return value
    code = _TOPIC_CODES.get(value.lower())
    if code is None:
        raise ValueError("must be an IPTC Media Topics code such as 11000000, or a subject such as politics")
    return code


class SearchFilters(BaseModel):
    """What to find. The same model is a request's query parameters and a saved search's definition."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    q: str | None = Field(default=None, max_length=500, description="Web-search syntax; `title:` scopes a term.")
    source: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    language: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] = Field(default_factory=list, max_length=MAX_VALUES)
    date_from: WindowedDatetime | None = Field(
        default=None, alias="from", description="Published at or after (ISO 8601)."
    )
    date_to: WindowedDatetime | None = Field(default=None, alias="to", description="Published before (ISO 8601).")
    tag: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    entity: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    place: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    topic: list[Annotated[str, AfterValidator(_topic_code)]] = Field(default_factory=list, max_length=MAX_VALUES)
    cluster: uuid.UUID | None = None
    event: uuid.UUID | None = Field(default=None, description="Only this event's articles.")
    include_duplicates: bool = False
    include_withdrawn: bool = Field(default=False, description="Show killed and withdrawn articles too.")
    revised: bool | None = Field(default=None, description="Only revised articles (true) or never revised (false).")
    revised_since: WindowedDatetime | None = Field(default=None, description="Only articles revised since then.")

    @field_validator("q")
    @classmethod
    def _q_text(cls, v: str | None) -> str | None:
        return None if v is None else _clean(v)

    @model_validator(mode="after")
    def _range(self) -> SearchFilters:
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise ValueError("`from` must be before `to`")
        return self

    def fingerprint(self) -> str:
        """A short stable digest, so a cursor can refuse to continue a different search."""
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def as_params(self) -> dict[str, Any]:
        """The non-default fields, by their query-parameter names."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def has_scope(q: str) -> bool:
    """Whether a term of ``q`` is scoped to a field (``title:``...); else ``q`` is plain web-search syntax."""
    return _HAS_SCOPE.search(q) is not None


def tsquery(q: str) -> ColumnElement[Any]:
    """The tsquery of ``q``; plain web-search syntax unless a term is scoped to a field."""
    if not has_scope(q):
        return func.websearch_to_tsquery(SEARCH_CONFIG, q, type_=TSQUERY)
    groups: list[list[ColumnElement[Any]]] = [[]]
    pending_or = False
    for m in _SCOPED_TOKEN.finditer(q):
        if m.group("word") and m.group("word").upper() == "OR" and not (m.group("neg") or m.group("scope")):
            pending_or = bool(groups[-1])
            continue
        text = f'"{m.group("phrase")}"' if m.group("phrase") is not None else m.group("word")
        part: ColumnElement[Any] = func.websearch_to_tsquery(SEARCH_CONFIG, text, type_=TSQUERY)
        scope = m.group("scope")
        if scope:
            # Label each lexeme with the field's weight: 'assad' → 'assad':A.
            weight = SCOPE_WEIGHTS[scope.lower()]
            part = cast(func.regexp_replace(cast(part, Text), _LEXEME, rf"\1:{weight}", "g"), TSQUERY)
        if m.group("neg"):
            part = func.tsquery_not(part, type_=TSQUERY)
        if pending_or:
            groups[-1].append(part)
        else:
            groups.append([part])
        pending_or = False
    clauses = []
    for group in (g for g in groups if g):
        expr = group[0]
        for alt in group[1:]:
            expr = func.tsquery_or(expr, alt, type_=TSQUERY)
        clauses.append(expr)
    if not clauses:
        return func.websearch_to_tsquery(SEARCH_CONFIG, q, type_=TSQUERY)
    combined = clauses[0]
    for clause in clauses[1:]:
        combined = func.tsquery_and(combined, clause, type_=TSQUERY)
    return combined


DateBounds = Callable[[Any], list[ColumnElement[bool]]]


def _has_tag(
    kinds: tuple[str, ...] | None, value: str, f: SearchFilters, dates: DateBounds | None
) -> ColumnElement[bool]:
    cond = [ArticleTag.value == value]
    if kinds is not None:
        cond.append(ArticleTag.kind == kinds[0] if len(kinds) == 1 else ArticleTag.kind.in_(kinds))
    else:
        # Every kind, spelled out so the (kind, value, ...) indexes still apply.
        cond.append(ArticleTag.kind.in_(vocabulary().kind_names))
    # Tag rows carry their article's date and canonical flag (migration 0007): the planner may read just
    # the dates asked for from the (kind, value, published_at) index, or probe each candidate article's tags
    # through the primary key, whichever is cheaper.
    if f.date_from:
        cond.append(ArticleTag.published_at >= f.date_from)
    if f.date_to:
        cond.append(ArticleTag.published_at < f.date_to)
    if not f.include_duplicates:
        cond.append(ArticleTag.is_canonical == true())
    if dates is not None:
        cond += dates(ArticleTag.published_at)
    return Article.id.in_(select(ArticleTag.article_id).where(*cond))


def split_tag(tag: str) -> tuple[str | None, str]:
    """``place:Damascus`` → (``place``, ``Damascus``); a value without a known kind prefix matches any kind."""
    kind, sep, value = tag.partition(":")
    if sep and kind in vocabulary().kinds and value.strip():
        return kind, value.strip()
    return None, tag


def live_conditions(*, include_withdrawn: bool) -> list[ColumnElement[bool]]:
    """Killed and withdrawn articles leave searches and story listings unless they are asked for."""
    return [] if include_withdrawn else [Article.withdrawn_at.is_(None)]


def index_conditions(f: SearchFilters) -> list[ColumnElement[bool]]:
    """The conditions B-tree indexes serve in ``published_at`` order: source, language, dates, cluster, event and
    the canonical flag; and the rarely false ones on revisions and withdrawal."""
    out: list[ColumnElement[bool]] = []
    if f.source:
        out.append(Article.source.in_(f.source))
    if f.language:
        out.append(Article.language.in_(f.language))
    if f.date_from:
        out.append(Article.published_at >= f.date_from)
    if f.date_to:
        out.append(Article.published_at < f.date_to)
    if f.cluster:
        out.append(Article.cluster_id == f.cluster)
    if f.event:
        out.append(Article.event_id == f.event)
    if not f.include_duplicates:
        out.append(Article.is_canonical.expression)
    out += live_conditions(include_withdrawn=f.include_withdrawn)
    if f.revised is not None:
        out.append(Article.revised_at.is_not(None) if f.revised else Article.revised_at.is_(None))
    if f.revised_since is not None:
        out.append(Article.revised_at >= f.revised_since)
    return out


def selective_conditions(
    f: SearchFilters,
    *,
    query: ColumnElement[Any] | None = None,
    dates: DateBounds | None = None,
) -> list[ColumnElement[bool]]:
    """The full-text query and the tag filters: served by the GIN and tag indexes, in no useful order, and
    so selective that the planner's estimate of them can be far off. ``dates`` adds bounds on the tag rows'
    copy of the article date (a listing's window or cursor), beyond the filters' own ``from``/``to``."""
    out: list[ColumnElement[bool]] = []
    if f.q:
        out.append(Article.search_vector.op("@@")(query if query is not None else tsquery(f.q)))
    for tag in f.tag:
        kind, value = split_tag(tag)
        out.append(_has_tag((kind,) if kind else None, value, f, dates))
    out += [_has_tag(vocabulary().entity_kinds, v, f, dates) for v in f.entity]
    out += [_has_tag((PLACE.name,), v, f, dates) for v in f.place]
    out += [_has_tag((TOPIC.name,), v, f, dates) for v in f.topic]
    return out


def conditions(f: SearchFilters, *, query: ColumnElement[Any] | None = None) -> list[ColumnElement[bool]]:
    """The WHERE conditions on ``articles`` (and ``article_tags`` through EXISTS) for these filters."""
    return [*selective_conditions(f, query=query), *index_conditions(f)] or [true()]
