"""``tidings tag FILE``: tag an article locally (the newsroom plain-text format) and print its tags; with
``--rule EXPRESSION`` also say whether a rule expression matches it. For trying taggers and rules offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shared.tagging.base import Document
from shared.tagging.language import settle_language
from shared.tagging.rule_language import RuleSyntaxError
from shared.tagging.rules import Rule, compile_rule
from shared.tagging.settings import get_tagging_settings
from shared.tagging.taggers import Taggers
from shared.text.plaintext import PlainTextError, parse_plain_article


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tag", help="tag a plain-text article locally and print its tags")
    parser.add_argument("file", help="an article in the newsroom plain-text format; - reads standard input")
    parser.add_argument("--rule", action="append", default=[], help="a rule expression to try (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8", errors="replace")
    try:
        article = parse_plain_article(raw)
    except PlainTextError as exc:
        print(f"cannot read the article: {exc}", file=sys.stderr)
        return 2
    rules = []
    for i, expression in enumerate(args.rule, 1):
        try:
            compile_rule(expression)
        except RuleSyntaxError as exc:
            print(f"rule {i}: {exc.message}\n  {expression}\n  {' ' * exc.position}^", file=sys.stderr)
            return 2
        rules.append(Rule(id=str(i), name=f"rule {i}", tag=f"rule {i}", expression=expression, version=1))
    doc = Document(id="cli", title=article.title, summary=article.summary, caption=article.caption, body=article.body)
    settle_language([doc])
    [tags] = Taggers(get_tagging_settings()).tag([doc], rules)
    if args.json:
        print(json.dumps([t.__dict__ for t in tags], ensure_ascii=False, indent=2))
        return 0
    table = Table(title=article.title, title_justify="left")
    for column in ("kind", "value", "name", "score", "mentions", "tagger", "where"):
        table.add_column(column)
    for t in tags:
        attrs = _place(t.attrs) if t.kind == "place" else ""
        table.add_row(
            t.kind, t.value, t.name if t.name != t.value else "", f"{t.score:.2f}", str(t.mentions), t.tagger, attrs
        )
    Console().print(table)
    return 0


def _place(attrs: dict[str, object]) -> str:
    if attrs.get("geonames_id") is None:
        return "not in the gazetteer"
    return (
        f"{attrs['country_code'] or ''} {attrs['lat']:.2f},{attrs['lon']:.2f} geonames {attrs['geonames_id']}".strip()
    )
