"""``tidings search "..."``: search processed articles through the query service and print a table."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shared.client import SearchPage, TidingsClient, TidingsError, get_client_settings

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def snippet_text(snippet: str | None) -> Text:
    """The query service marks matches with ``<mark>``; show them bold instead."""
    out = Text()
    if not snippet:
        return out
    position = 0
    for match in _MARK.finditer(snippet):
        out.append(snippet[position : match.start()])
        out.append(match.group(1), style="bold yellow")
        position = match.end()
    out.append(snippet[position:])
    return out


def results_table(query: str | None, page: SearchPage) -> Table:
    table = Table(title=f"search: {query}" if query else "latest articles", title_justify="left", show_lines=False)
    table.add_column("published", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("title", ratio=2)
    table.add_column("snippet", ratio=3)
    table.add_column("id", no_wrap=True, style="dim")
    for hit in page.items:
        table.add_row(
            hit.published_at.strftime("%Y-%m-%d %H:%M"),
            hit.source,
            hit.title,
            snippet_text(hit.snippet or hit.summary),
            str(hit.id),
        )
    return table


def command(args: argparse.Namespace) -> int:
    settings = get_client_settings()
    with TidingsClient(query_url=args.query_url or settings.query_url, api_key=args.api_key) as client:
        try:
            page = client.search(
                args.query or None,
                source=args.source,
                language=args.language,
                date_from=args.date_from,
                date_to=args.date_to,
                limit=args.limit,
            )
        except TidingsError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}")
            return 1
    if args.json:
        print(json.dumps(page.model_dump(mode="json")))
        return 0
    console = Console()
    if not page.items:
        console.print("no articles found")
        return 0
    console.print(results_table(args.query, page))
    if page.next_cursor:
        console.print(f"[dim]more results: --limit {args.limit * 2} or the API's cursor {page.next_cursor}[/dim]")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="search processed articles; results as a table")
    p.add_argument("query", nargs="?", default="", help='web-search syntax: words, "phrases", OR, -term')
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--language", action="append", help="ISO 639-1 (repeatable)")
    p.add_argument("--from", dest="date_from", type=datetime.fromisoformat, help="published at or after (ISO 8601)")
    p.add_argument("--to", dest="date_to", type=datetime.fromisoformat, help="published before (ISO 8601)")
    p.add_argument("--limit", type=int, default=20, help="results (at most 100)")
    p.add_argument("--query-url", help="the query service (default: TIDINGS_CLIENT_QUERY_URL or :8001)")
    p.add_argument("--api-key", help="an API key with the query scope (default: TIDINGS_API_KEY)")
    p.add_argument("--json", action="store_true", help="print the raw page as JSON")
    p.set_defaults(func=command)
