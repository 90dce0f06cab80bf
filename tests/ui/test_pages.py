"""The web interface over plain HTTP: sign-in and its cookie, CSRF and scope refusals, escaping, the pages'
content (results, facets, copies, chart, article, stories, operations)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest

from tests.support import wait_for
from tests.ui.conftest import Corpus, csrf_of, sign_in


@pytest.fixture
def anonymous(ui_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(ui_url: str, admin_key: str, corpus: Corpus) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        assert sign_in(client, admin_key).status_code == 303
        yield client


@pytest.fixture
def reader(ui_url: str, query_key: str, corpus: Corpus) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        assert sign_in(client, query_key).status_code == 303
        yield client


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, as sent."""
    out = {}
    for header in response.headers.get_list("set-cookie"):
        out[next(iter(SimpleCookie(header).keys()))] = header
    return out


def test_pages_ask_for_sign_in_first(anonymous: httpx.Client) -> None:
    response = anonymous.get("/ui/search?q=rates")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/sign-in?next=%2Fui%2Fsearch%3Fq%3Drates"


def test_ui_root_leads_to_search(anonymous: httpx.Client, admin: httpx.Client) -> None:
    assert anonymous.get("/ui").headers["location"].endswith("/ui/")
    assert admin.get("/ui/").headers["location"] == "/ui/search"
    # The API beside it still wants its key in a header; the cookie is not one.
    assert admin.get("/v1/articles").status_code == 401


def test_sign_in_cookie_flags(anonymous: httpx.Client, query_key: str) -> None:
    csrf = _set_cookies(anonymous.get("/ui/sign-in"))["tidings_ui_csrf"].lower()
    assert "httponly" in csrf and "samesite=lax" in csrf and "path=/ui" in csrf
    response = sign_in(anonymous, query_key)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/search"
    cookie = _set_cookies(response)["tidings_ui_key"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/ui" in cookie
    assert "secure" not in cookie  # served over plain http here


def test_cookie_is_secure_behind_https(ui_url: str, query_key: str) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as from a TLS-terminating proxy in front of it. The
    # client talks plain http, so it would not send back a Secure cookie by itself: the test does.
    with httpx.Client(base_url=ui_url, timeout=30, headers={"X-Forwarded-Proto": "https"}) as client:
        form = client.get("/ui/sign-in")
        assert "secure" in _set_cookies(form)["tidings_ui_csrf"].lower()
        token = csrf_of(form)
        response = client.post(
            "/ui/sign-in",
            data={"api_key": query_key, "csrf_token": token},
            headers={"Cookie": f"tidings_ui_csrf={token}"},
        )
        assert response.status_code == 303
        assert "secure" in _set_cookies(response)["tidings_ui_key"].lower()


def test_sign_in_refuses_a_bad_key(anonymous: httpx.Client) -> None:
    response = sign_in(anonymous, "tdg_notarealkeyatall000000000000000000")
    assert response.status_code == 401
    assert "not valid" in response.text
    assert "tidings_ui_key" not in _set_cookies(response)


def test_sign_in_without_csrf_token_is_refused(anonymous: httpx.Client, query_key: str) -> None:
    anonymous.get("/ui/sign-in")
    response = anonymous.post("/ui/sign-in", data={"api_key": query_key})
    assert response.status_code == 403
    response = anonymous.post("/ui/sign-in", data={"api_key": query_key, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "tidings_ui_key" not in _set_cookies(response)


def test_next_never_leaves_the_interface(anonymous: httpx.Client, query_key: str) -> None:
    token = csrf_of(anonymous.get("/ui/sign-in"))
    for target in ("https://evil.example/", "//evil.example/ui/", "/v1/articles"):
        response = anonymous.post("/ui/sign-in", data={"api_key": query_key, "csrf_token": token, "next": target})
        assert response.headers["location"] == "/ui/search"


def test_search_shows_results_facets_copies_and_chart(admin: httpx.Client, corpus: Corpus) -> None:
    page = admin.get("/ui/search", params={"q": "inflation"})
    assert page.status_code == 200
    html = page.text
    # The canonical article, once, with its three copies collapsed under it.
    assert html.count(f'href="/ui/articles/{corpus.ids["rates"]}"') == 1
    assert "+3 copies" in html
    for key in ("rates-copy-headline", "rates-copy-credit", "rates-copy-trimmed"):
        assert f'/ui/articles/{corpus.ids[key]}"' in html
    assert "<mark>inflation</mark>" in html
    assert 'data-facet="source"' in html and "wire-desk" in html
    assert re.search(r"<svg[^>]*role=\"img\"", html) and 'class="bar"' in html


def test_facet_link_adds_the_filter(admin: httpx.Client, corpus: Corpus) -> None:
    everything = admin.get("/ui/search").text
    link = re.search(r'data-facet="place" href="([^"]+)"[^>]*>\s*Kenya', everything)
    assert link, "a Kenya place facet"
    narrowed = admin.get("/ui/search" + link.group(1).replace("&amp;", "&")).text
    assert f"/ui/articles/{corpus.ids['floods']}" in narrowed
    assert f"/ui/articles/{corpus.ids['strike']}" not in narrowed
    assert "Remove filter place" in narrowed


def test_cursor_paging_without_javascript(admin: httpx.Client, corpus: Corpus) -> None:
    seen: list[str] = []
    url = "/ui/search?sort=-published"
    pages = 0
    while url:
        pages += 1
        html = admin.get(url).text
        seen += re.findall(r'<h3><a href="/ui/articles/([0-9a-f-]+)">', html)
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = "/ui/search" + nxt.group(1).replace("&amp;", "&") if nxt else ""
    # Every canonical article exactly once (the three copies are under theirs), over several pages.
    assert len(seen) == len(set(seen)) == len(corpus.ids) - 3
    assert pages == 2


def test_article_fields_are_escaped(admin: httpx.Client, corpus: Corpus) -> None:
    for url in (f"/ui/articles/{corpus.ids['hostile']}", "/ui/search?q=harbour", "/ui/search", "/ui/stories"):
        html = admin.get(url).text
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert "<b>rise</b>" not in html, url
    article = admin.get(f"/ui/articles/{corpus.ids['hostile']}").text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Harbour council approves" in article
    assert "&lt;img src=x onerror=alert(&#39;body&#39;)&gt;" in article
    snippet = admin.get("/ui/search", params={"q": "mooring"}).text
    assert "<mark>mooring</mark>" in snippet
    assert "&lt;b&gt;rise&lt;/b&gt;" in snippet


def test_article_page(admin: httpx.Client, corpus: Corpus) -> None:
    html = admin.get(f"/ui/articles/{corpus.ids['rates']}").text
    assert "canonical article" in html
    assert "3 other articles in the story" in html
    for key in ("rates-copy-headline", "rates-copy-credit", "rates-copy-trimmed"):
        assert f"/ui/articles/{corpus.ids[key]}" in html
    assert 'id="kind-topic"' in html and 'id="kind-person"' in html
    assert "Christine Lagarde" in html
    copy = admin.get(f"/ui/articles/{corpus.ids['rates-copy-headline']}").text
    assert "Copy of" in copy and str(corpus.ids["rates"]) in copy
    floods = admin.get(f"/ui/articles/{corpus.ids['floods']}").text
    assert 'class="worldmap"' in floods and 'class="place"' in floods


def test_stories_page(admin: httpx.Client, corpus: Corpus) -> None:
    html = admin.get("/ui/stories").text
    assert "Central bank holds rates as inflation cools" in html
    assert "4 articles" in html
    assert "wire-desk, daily-ledger, city-post, metro-news" in html


def test_bad_input_is_a_page_naming_the_field(admin: httpx.Client) -> None:
    response = admin.get("/ui/search", params={"sort": "sideways"})
    assert response.status_code == 400
    assert "`sort` must be one of" in response.text
    response = admin.get("/ui/search", params={"from": "yesterday"})
    assert response.status_code == 400 and "`from`" in response.text
    assert admin.get("/ui/articles/not-an-id").status_code == 404


def test_operations_for_a_reader_offers_no_writes_and_refuses_them(
    reader: httpx.Client, admin: httpx.Client, corpus: Corpus
) -> None:
    page = reader.get("/ui/operations")
    assert page.status_code == 200
    assert "Queue depths" in page.text and "pipeline" in page.text
    # Backfills are read-only and open to readers; feeds need the ingest scope.
    assert "rule:" in page.text and "done" in page.text
    assert "lacks the <code>ingest</code> scope" in page.text
    assert "Replay" not in page.text
    assert "lacks the <code>admin</code> scope" in page.text
    response = reader.post(
        f"/ui/operations/dead-letters/{corpus.dead_letter_id}/replay", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 403
    assert "admin" in response.text
    # Still parked: nothing was replayed.
    assert f'data-dead-letter="{corpus.dead_letter_id}"' in admin.get("/ui/operations").text
    assert re.search(
        rf'data-dead-letter="{corpus.dead_letter_id}".*?class="status">parked<', admin.get("/ui/operations").text, re.S
    )


def test_operations_for_an_admin_show_feeds_with_health(admin: httpx.Client) -> None:
    html = admin.get("/ui/operations").text
    assert "Harbour Gazette: local news" in html
    assert re.search(r'class="health health-(new|failing|dead)"', html)


def test_replay_without_csrf_token_is_refused(admin: httpx.Client, corpus: Corpus) -> None:
    response = admin.post(f"/ui/operations/dead-letters/{corpus.dead_letter_id}/replay", data={})
    assert response.status_code == 403
    html = admin.get("/ui/operations").text
    assert re.search(rf'data-dead-letter="{corpus.dead_letter_id}".*?class="status">parked<', html, re.S)


def test_admin_replays_a_dead_letter(
    admin: httpx.Client, platform: dict[str, str], admin_key: str, corpus: Corpus
) -> None:
    page = admin.get("/ui/operations")
    assert "Replay" in page.text
    response = admin.post(
        f"/ui/operations/dead-letters/{corpus.dead_letter_id}/replay", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    assert admin.get(response.headers["location"]).text.count("was sent through the pipeline again") == 1
    with httpx.Client(base_url=platform["ingest"], headers={"Authorization": f"Bearer {admin_key}"}) as ingest:

        def replayed() -> bool:
            letter = ingest.get(f"/v1/dead-letters/{corpus.dead_letter_id}").json()
            # The poison article fails again and is parked a second time: either way, it was replayed.
            return letter["replayed_at"] is not None or letter["times_parked"] >= 2

        wait_for(replayed, timeout=60, what="the dead letter replayed")
