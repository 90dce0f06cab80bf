"""The rule language: boolean expressions over an article's words, for user-defined tags.

    expression := or
    or         := and ( "OR" and )*
    and        := unary ( ["AND"] unary )*          adjacent terms are joined by AND
    unary      := "NOT" unary | primary
    primary    := "(" or ")" | FIELD ":" primary | "\"a phrase\"" | word | prefix*

Operators are upper-case words (lower-case "and" is an ordinary word). Matching ignores case and accents and
works on whole words: ``assad`` matches "Assad's" but not "Assadi"; ``econom*`` matches "economy" and
"economic"; a phrase or a word with inner punctuation (``"bashar al-assad"``, ``al-assad``) matches those words
in a row. ``title:``, ``summary:``, ``body:``, ``caption:``, ``source:``, ``section:`` and ``language:`` scope a
term or a parenthesised group to one field; without a scope a term searches the title, summary, body and
caption. Errors are :class:`RuleSyntaxError` with the 0-based character ``position`` of the problem.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

from shared.tagging.base import fold

MAX_LENGTH = 2_000
MAX_DEPTH = 32
TEXT_FIELDS = ("title", "summary", "body", "caption")
FIELDS = (*TEXT_FIELDS, "source", "section", "language")
OPERATORS = ("AND", "OR", "NOT")
_WORD = re.compile(r"\w+", re.UNICODE)
_FIELD_GAP = "\x00"  # between fields, so a phrase never spans the end of the title and the start of the body


class RuleSyntaxError(ValueError):
    """An invalid expression; ``position`` is the 0-based offset of the offending character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False
    field: str | None = None


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    children: tuple[Node, ...]


Node = Union[Term, Not, All, Any_]  # noqa: UP007 - a runtime alias used by the dataclasses above


@dataclass(frozen=True)
class _Token:
    kind: str  # ( ) PHRASE WORD FIELD AND OR NOT END
    text: str
    position: int


def _lex(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif ch in '"“”':
            end = next((j for j in range(i + 1, n) if source[j] in '"“”'), -1)
            if end < 0:
                raise RuleSyntaxError("unterminated phrase: a closing quote is missing", i)
            tokens.append(_Token("PHRASE", source[i + 1 : end], i))
            i = end + 1
        else:
            j = i
            while j < n and not source[j].isspace() and source[j] not in '()"“”:':
                j += 1
            if j < n and source[j] == ":" and j > i:
                tokens.append(_Token("FIELD", source[i:j], i))
                i = j + 1
                continue
            if j == i:  # a lone colon
                raise RuleSyntaxError("a colon must follow a field name such as title:", i)
            word = source[i:j]
            tokens.append(_Token(word if word in OPERATORS else "WORD", word, i))
            i = j
    tokens.append(_Token("END", "", n))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _lex(source)
        self.i = 0
        self.scoped = False  # inside field:( ... ), where another field scope would be ambiguous

    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise RuleSyntaxError("the expression is empty", 0)
        node = self.or_(0)
        token = self.peek
        if token.kind == ")":
            raise RuleSyntaxError('unexpected ")" with no "(" to close', token.position)
        if token.kind != "END":
            raise RuleSyntaxError(f"unexpected {token.text!r}", token.position)
        return node

    def or_(self, depth: int) -> Node:
        children = [self.and_(depth)]
        while self.peek.kind == "OR":
            op = self.take()
            children.append(self.and_(depth, after=op))
        return children[0] if len(children) == 1 else Any_(tuple(children))

    def and_(self, depth: int, after: _Token | None = None) -> Node:
        children = [self.unary(depth, after)]
        while self.peek.kind in ("AND", "NOT", "(", "PHRASE", "WORD", "FIELD"):
            op = self.take() if self.peek.kind == "AND" else None
            children.append(self.unary(depth, op))
        return children[0] if len(children) == 1 else All(tuple(children))

    def unary(self, depth: int, after: _Token | None = None) -> Node:
        if self.peek.kind == "NOT":
            op = self.take()
            return Not(self.unary(depth, op))
        return self.primary(depth, after)

    def primary(self, depth: int, after: _Token | None, scope: str | None = None) -> Node:
        token = self.peek
        if depth > MAX_DEPTH:
            raise RuleSyntaxError(f"nested more than {MAX_DEPTH} deep", token.position)
        if token.kind == "(":
            self.take()
            if self.peek.kind == ")":
                raise RuleSyntaxError("empty parentheses", self.peek.position)
            outer, self.scoped = self.scoped, self.scoped or scope is not None
            node = self.or_(depth + 1)
            self.scoped = outer
            if self.peek.kind != ")":
                raise RuleSyntaxError('"(" is never closed', token.position)
            self.take()
            return _scoped(node, scope) if scope else node
        if token.kind == "FIELD":
            self.take()
            name = token.text.lower()
            if name not in FIELDS:
                raise RuleSyntaxError(f"unknown field {token.text!r}; fields are {', '.join(FIELDS)}", token.position)
            if scope is not None or self.scoped:
                raise RuleSyntaxError("a field scope cannot hold another field scope", token.position)
            if self.peek.kind not in ("(", "PHRASE", "WORD"):
                raise RuleSyntaxError(f"{token.text}: needs a word, a phrase or a group after it", self.peek.position)
            return self.primary(depth, token, scope=name)
        if token.kind in ("PHRASE", "WORD"):
            self.take()
            return _term(token, scope)
        if token.kind == "END":
            where = f"after {after.text}" if after else "here"
            raise RuleSyntaxError(f"the expression ends where a term is expected {where}", token.position)
        if token.kind == ")":
            raise RuleSyntaxError('a term is expected before ")"', token.position)
        if after is not None:
            raise RuleSyntaxError(f"expected a term after {after.text}, found {token.text}", token.position)
        raise RuleSyntaxError(f"{token.text} needs a term before it", token.position)


def _term(token: _Token, scope: str | None) -> Term:
    text = token.text
    prefix = token.kind == "WORD" and text.endswith("*")
    if prefix:
        text = text.rstrip("*")
    words = tuple(_WORD.findall(fold(text)))
    if not words:
        what = "the phrase is empty" if token.kind == "PHRASE" else f"{token.text!r} has no letter or digit"
        raise RuleSyntaxError(what, token.position)
    if "*" in text:
        raise RuleSyntaxError("* is allowed only at the end of a word", token.position + text.index("*"))
    return Term(words=words, prefix=prefix, field=scope)


def _scoped(node: Node, scope: str) -> Node:
    if isinstance(node, Term):
        return Term(node.words, node.prefix, scope)
    if isinstance(node, Not):
        return Not(_scoped(node.child, scope))
    if isinstance(node, All):
        return All(tuple(_scoped(c, scope) for c in node.children))
    return Any_(tuple(_scoped(c, scope) for c in node.children))


def parse(expression: str) -> Node:
    """Parse ``expression`` into a tree; raises :class:`RuleSyntaxError` naming the position of the problem."""
    if len(expression) > MAX_LENGTH:
        raise RuleSyntaxError(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(expression).parse()


@dataclass
class _FieldWords:
    words: list[str]
    positions: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(self.words):
            index[w].append(i)
        self.positions = dict(index)

    def has(self, term: Term) -> bool:
        first, rest = term.words[0], term.words[1:]
        if term.prefix and not rest:
            return any(w.startswith(first) for w in self.positions)
        starts = self.positions.get(first, ())
        last = len(rest)
        for start in starts:
            ok = True
            for k, word in enumerate(rest, 1):
                at = start + k
                if at >= len(self.words):
                    ok = False
                    break
                have = self.words[at]
                if not (have == word or (term.prefix and k == last and have.startswith(word))):
                    ok = False
                    break
            if ok:
                return True
        return False


class Matchable:
    """An article's fields, tokenised once, for evaluating many rules against it."""

    def __init__(self, fields: Mapping[str, str | None]) -> None:
        self._raw = fields
        self._cache: dict[str, _FieldWords] = {}

    def field(self, name: str | None) -> _FieldWords:
        key = name or "*"
        found = self._cache.get(key)
        if found is None:
            if name is None:
                words: list[str] = []
                for f in TEXT_FIELDS:
                    words += [*self.field(f).words, _FIELD_GAP]
            else:
                words = _WORD.findall(fold(self._raw.get(name) or ""))
            found = self._cache[key] = _FieldWords(words)
        return found


def matches(node: Node, doc: Matchable) -> bool:
    """Whether the article satisfies the expression."""
    if isinstance(node, Term):
        return doc.field(node.field).has(node)
    if isinstance(node, Not):
        return not matches(node.child, doc)
    if isinstance(node, All):
        return all(matches(c, doc) for c in node.children)
    return any(matches(c, doc) for c in node.children)
