"""The web interface in headless Chromium (Debian's package, driven by Playwright): sign in, search, click a
facet, see an article's copies, open it, replay a dead letter. Each step leaves a screenshot under
``tests/artifacts/``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.ui.conftest import ARTIFACTS, Corpus

CHROMIUM = "/usr/bin/chromium"
# Nothing but the pages under test: no network of its own, no updates, no sync.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, ui_url: str, key: str) -> None:
    page.goto(f"{ui_url}/ui/search")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/search$"))


@pytest.fixture(scope="module")
def context(browser: Browser, ui_url: str, admin_key: str, corpus: Corpus) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    _sign_in(ctx.new_page(), ui_url, admin_key)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    p = context.new_page()
    try:
        yield p
    finally:
        p.close()


def test_sign_in(browser: Browser, ui_url: str, query_key: str, corpus: Corpus) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{ui_url}/ui/sign-in")
        _shot(page, "sign-in")
        _sign_in(page, ui_url, query_key)
        expect(page.get_by_text("ui reader")).to_be_visible()
        key_cookie = next(c for c in ctx.cookies() if c["name"] == "tidings_ui_key")
        assert key_cookie["httpOnly"] and key_cookie["path"] == "/ui" and key_cookie["sameSite"] == "Lax"
        # The page's scripts cannot read the key.
        assert "tidings_ui_key" not in page.evaluate("document.cookie")
    finally:
        ctx.close()


def test_search_page_with_results_facets_and_chart(page: Page, ui_url: str, corpus: Corpus) -> None:
    page.goto(f"{ui_url}/ui/search")
    expect(page.locator("figure.chart svg rect.bar").first).to_be_attached()
    expect(page.locator(".results-list > li")).to_have_count(4)
    _shot(page, "search")
    page.get_by_role("searchbox", name="Search").fill("inflation")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=inflation"))
    expect(page.locator(".results-list > li")).to_have_count(1)
    expect(page.locator(".snippet mark").first).to_have_text(re.compile("inflation", re.I))
    _shot(page, "search-inflation")


def test_click_a_facet(page: Page, ui_url: str, corpus: Corpus) -> None:
    page.goto(f"{ui_url}/ui/search")
    page.locator("a.chip[data-facet=place]", has_text="Kenya").click()
    expect(page).to_have_url(re.compile(r"place=Kenya"))
    expect(page.get_by_role("link", name="Remove filter place: Kenya")).to_be_visible()
    expect(page.locator(".results-list > li")).to_have_count(1)
    expect(page.locator(".results-list h3")).to_have_text("Flooding forces thousands from their homes in Nairobi")
    _shot(page, "search-facet")


def test_see_copies_and_open_the_article(page: Page, ui_url: str, corpus: Corpus) -> None:
    page.goto(f"{ui_url}/ui/search?q=inflation")
    copies = page.locator("details.copies")
    copies.locator("summary").click()
    expect(copies.locator("summary")).to_have_text("+3 copies")
    expect(copies.locator("li a")).to_have_count(3)
    _shot(page, "search-copies")
    page.get_by_role("link", name="Central bank holds rates as inflation cools").click()
    expect(page).to_have_url(re.compile(rf"/ui/articles/{corpus.ids['rates']}$"))
    expect(page.get_by_role("heading", name="3 other articles in the story")).to_be_visible()
    expect(page.locator(".copies-table tbody tr")).to_have_count(3)
    expect(page.get_by_role("heading", name="Topic")).to_be_visible()
    _shot(page, "article")
    page.goto(f"{ui_url}/ui/articles/{corpus.ids['floods']}")
    expect(page.locator("svg.worldmap circle.place").first).to_be_attached()
    _shot(page, "article-map")


def test_hostile_article_does_not_run(page: Page, ui_url: str, corpus: Corpus) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{ui_url}/ui/articles/{corpus.ids['hostile']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>alert('title')</script>")
    page.goto(f"{ui_url}/ui/search?q=harbour")
    expect(page.locator(".results-list > li")).to_have_count(1)
    assert dialogs == []
    assert page.locator(".results img").count() == 0


def test_stories(page: Page, ui_url: str, corpus: Corpus) -> None:
    page.goto(f"{ui_url}/ui/stories")
    largest = page.locator('ol[aria-labelledby="largest-title"] > li').first
    expect(largest.locator("h3")).to_have_text("Central bank holds rates as inflation cools")
    expect(largest.locator("svg.timeline circle")).to_have_count(4)
    _shot(page, "stories")


def test_replay_a_dead_letter(page: Page, ui_url: str, corpus: Corpus) -> None:
    page.goto(f"{ui_url}/ui/operations")
    row = page.locator(f'tr[data-dead-letter="{corpus.dead_letter_id}"]')
    expect(row.locator(".status")).to_have_text("parked")
    _shot(page, "operations")
    row.get_by_role("button", name=re.compile("Replay")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Dead letter {corpus.dead_letter_id} was sent through")
    _shot(page, "operations-replayed")
