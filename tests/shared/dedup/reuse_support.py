"""The partial-reuse fixtures (``tests/fixtures/reuse``): a wire story, a local rewrite, a feature quoting it,
two earnings briefs sharing boilerplate."""

from __future__ import annotations

from functools import cache

from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "reuse"


@cache
def story(name: str) -> tuple[str, str]:
    """(title, body) of one fixture article."""
    title, body = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("\n", 1)
    return title.strip(), body.strip()


def payload(name: str, **extra: str) -> dict[str, str]:
    title, body = story(name)
    return {"title": title, "body": body, "source": extra.pop("source", name)} | extra
