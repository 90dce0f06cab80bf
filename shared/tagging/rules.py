"""User rules as a tagger: each enabled rule whose expression an article satisfies adds the rule's tag.

Tags are ``kind="rule"``, ``value`` the rule's tag, ``tagger`` ``"rule:<rule id>"`` and ``tagger_version`` the
rule's version (bumped on every change), so a backfill can replace exactly one rule's tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from shared.tagging.base import Document, Tag
from shared.tagging.rule_language import Matchable, Node, matches, parse
from shared.tagging.vocabulary import RULE


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    tag: str
    expression: str
    version: int


def rule_tagger_name(rule_id: object) -> str:
    return f"rule:{rule_id}"


@lru_cache(maxsize=4096)
def compile_rule(expression: str) -> Node:
    """The parsed expression, cached: the same rule is parsed once per process, not once per batch."""
    return parse(expression)


def matchable(doc: Document) -> Matchable:
    return Matchable(
        {
            "title": doc.title,
            "summary": doc.summary,
            "body": doc.body,
            "caption": doc.caption,
            "source": doc.source,
            "section": doc.section,
            "language": doc.language,
        }
    )


class RuleTagger:
    """All of the given rules, over any language. ``name`` covers the family; each tag names its rule."""

    name = "rules"
    version = "1"
    languages: frozenset[str] | None = None
    needs_mentions = False

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [(rule, compile_rule(rule.expression)) for rule in rules]

    def tag(self, docs: Sequence[Document]) -> list[list[Tag]]:
        if not self.rules:
            return [[] for _ in docs]
        out: list[list[Tag]] = []
        for doc in docs:
            fields = matchable(doc)
            out.append(
                [
                    Tag(
                        kind=RULE.name,
                        value=rule.tag,
                        name=rule.tag,
                        tagger=rule_tagger_name(rule.id),
                        tagger_version=str(rule.version),
                        attrs={"rule_id": rule.id, "rule_name": rule.name},
                    )
                    for rule, node in self.rules
                    if matches(node, fields)
                ]
            )
        return out
