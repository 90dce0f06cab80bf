"""``GET /v1/articles`` over a real corpus: full text, field scopes, filters, sorts, keyset pagination, errors."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.services.query.corpus import Corpus, Doc

pytestmark = pytest.mark.e2e


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def _all(qc: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every result, following the cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        r = qc.get("/v1/articles", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def _words(d: Doc) -> list[str]:
    return re.findall(r"[a-z]+", f"{d.title} {d.summary or ''} {d.body}".lower())


def _has_stem(d: Doc, stem: str) -> bool:
    """What the English stemmer folds together here: wage, wages → wage."""
    return any(w.startswith(stem) for w in _words(d))


def _newest_first(docs: list[Doc]) -> list[str]:
    return [str(d.id) for d in sorted(docs, key=lambda d: (d.published_at, d.id), reverse=True)]


def test_default_listing_is_newest_first_and_hides_duplicates(qc: httpx.Client, corpus: Corpus) -> None:
    items = _all(qc, limit=7)
    assert [i["id"] for i in items] == _newest_first(corpus.canonical())
    assert all(i["is_canonical"] for i in items)
    with_copies = _all(qc, limit=50, include_duplicates="true")
    assert [i["id"] for i in with_copies] == _newest_first(corpus.docs)


@pytest.mark.parametrize("sort", ["-published", "published", "relevance"])
def test_keyset_pages_cover_every_match_once_for_each_sort(qc: httpx.Client, corpus: Corpus, sort: str) -> None:
    everything = qc.get("/v1/articles", params={"q": "government OR minister OR market", "sort": sort, "limit": 100})
    assert everything.status_code == 200
    expected = _ids(everything.json())
    assert len(expected) > 8, "the query must match enough articles to span pages"
    paged = _all(qc, q="government OR minister OR market", sort=sort, limit=3)
    assert [i["id"] for i in paged] == expected
    if sort == "relevance":
        ranks = [i["rank"] for i in paged]
        assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]
    elif sort == "published":
        assert [i["published_at"] for i in paged] == sorted(i["published_at"] for i in paged)


def test_full_text_phrases_or_and_negation(qc: httpx.Client, corpus: Corpus) -> None:
    seed = corpus.by_key("seed")
    found = qc.get("/v1/articles", params={"q": "Omdurman"}).json()
    assert _ids(found) == [str(seed.id)]
    assert "<mark>Omdurman</mark>" in found["items"][0]["snippet"]

    phrase = qc.get("/v1/articles", params={"q": '"minimum wage"', "limit": 100}).json()
    expected = {str(d.id) for d in corpus.canonical() if re.search(r"\bminimum wage", " ".join(_words(d)))}
    assert expected and set(_ids(phrase)) == expected

    either = set(_ids(qc.get("/v1/articles", params={"q": "Omdurman OR wage", "limit": 100}).json()))
    assert str(seed.id) in either and expected <= either

    without = set(_ids(qc.get("/v1/articles", params={"q": "wage -Bauer", "limit": 100}).json()))
    assert without == {str(d.id) for d in corpus.canonical() if _has_stem(d, "wage") and not _has_stem(d, "bauer")}
    assert without < {str(d.id) for d in corpus.canonical() if _has_stem(d, "wage")}


def test_title_scope_matches_the_title_only(qc: httpx.Client, corpus: Corpus) -> None:
    word = "offensive"  # in the seed's title; find the articles with it in the body only
    in_title = {str(d.id) for d in corpus.canonical() if word in d.title.lower()}
    anywhere = set(_ids(qc.get("/v1/articles", params={"q": word, "limit": 100}).json()))
    scoped = set(_ids(qc.get("/v1/articles", params={"q": f"title:{word}", "limit": 100}).json()))
    assert scoped == in_title and in_title
    assert scoped <= anywhere
    phrase = _ids(qc.get("/v1/articles", params={"q": 'title:"presses offensive" -body:mirghani'}).json())
    assert phrase == [], "the seed's body names Mirghani, so the negated body scope removes it"
    kept = _ids(qc.get("/v1/articles", params={"q": 'title:"presses offensive" khartoum'}).json())
    assert kept == [str(corpus.by_key("seed").id)]


def test_filters_source_language_dates_and_cluster(qc: httpx.Client, corpus: Corpus) -> None:
    canonical = corpus.canonical()
    got = {i["id"] for i in _all(qc, source=["coastal-news", "northern-wire"], limit=100)}
    assert got == {str(d.id) for d in canonical if d.source in ("coastal-news", "northern-wire")}

    german = {i["id"] for i in _all(qc, language="de", limit=100)}
    assert german == {str(d.id) for d in canonical if d.language == "de"} and german

    lo, hi = "2025-03-10T00:00:00Z", "2025-03-20T00:00:00Z"
    window = {i["id"] for i in _all(qc, **{"from": lo, "to": hi, "limit": 100})}
    assert window == {
        str(d.id) for d in canonical if "2025-03-10" <= d.published_at.strftime("%Y-%m-%d") < "2025-03-20"
    }

    story = corpus.by_key("copy-exact").cluster_key
    assert story is not None
    members = {i["id"] for i in _all(qc, cluster=str(corpus.clusters[story]), include_duplicates="true")}
    assert members == {str(d.id) for d in corpus.docs if (d.cluster_key or d.key) == story} and len(members) == 4


def test_tag_filters_are_anded_and_items_carry_tags_by_kind(qc: httpx.Client, corpus: Corpus) -> None:
    canonical = corpus.canonical()

    def expect(pred: Any) -> set[str]:
        return {str(d.id) for d in canonical if pred(d)}

    place = {i["id"] for i in _all(qc, place="Glasgow", limit=100)}
    assert place == expect(lambda d: d.has("place", "Glasgow")) and len(place) >= 3

    # A place and a person that occur together in some articles, while the place alone is in more.
    pairs = Counter(
        (p, n)
        for d in canonical
        for p in d.tag_values("place")
        for n in d.tag_values("person") | d.tag_values("organisation")
    )
    (where, who), _ = next(
        (pair, n) for pair, n in pairs.most_common() if n < sum(d.has("place", pair[0]) for d in canonical)
    )
    both = {i["id"] for i in _all(qc, place=where, entity=who, limit=100)}
    assert both == expect(lambda d: d.has("place", where) and (d.has("person", who) or d.has("organisation", who)))
    assert both and both < {i["id"] for i in _all(qc, place=where, limit=100)}

    topic = {i["id"] for i in _all(qc, topic="11000000", limit=100)}
    assert topic == expect(lambda d: d.has("topic", "11000000"))
    assert {i["id"] for i in _all(qc, topic="Politics", limit=100)} == topic, "a subject's name works as its code"

    tagged = {i["id"] for i in _all(qc, tag=["organisation:National Alliance", "topic:11000000"], limit=100)}
    assert tagged == expect(lambda d: d.has("organisation", "National Alliance") and d.has("topic", "11000000"))
    assert tagged

    bare = {i["id"] for i in _all(qc, tag="Rapid Support Forces", limit=100)}
    assert bare == {str(corpus.by_key("seed").id)}

    item = qc.get("/v1/articles", params={"entity": "Hassan Mirghani"}).json()["items"][0]
    assert set(item["tags"]) >= {"topic", "place", "person", "organisation", "keyword", "tone"}
    places = item["tags"]["place"]
    assert {p["value"] for p in places} >= {"Khartoum", "Omdurman"}
    assert [p["score"] for p in places] == sorted((p["score"] for p in places), reverse=True)
    assert places[0].keys() == {"value", "name", "score"}, "lists carry the brief form"
    assert item["tags"]["topic"][0] == {"value": "16000000", "name": "conflict, war and peace", "score": 0.95}

    detail = qc.get(f"/v1/articles/{item['id']}").json()
    khartoum = next(p for p in detail["tags"]["place"] if p["value"] == "Khartoum")
    assert khartoum["attrs"]["country_code"] == "SD" and khartoum["tagger"] == "fixture"
    assert detail["tags"]["topic"][0] == {
        "value": "16000000", "name": "conflict, war and peace", "score": 0.95, "mentions": 1,
        "tagger": "fixture", "tagger_version": "1", "attrs": {},
    }  # fmt: skip


def test_article_detail_duplicates_and_similar(qc: httpx.Client, corpus: Corpus) -> None:
    copy = corpus.by_key("copy-headline")
    original = corpus.by_key(copy.cluster_key or "")
    detail = qc.get(f"/v1/articles/{copy.id}").json()
    assert detail["dedup"] == {
        "cluster_id": str(corpus.clusters[original.key]), "duplicate_of": str(original.id), "is_canonical": False,
        "similarity": 0.93, "method": "near:minhash", "version": "fixture-1",
    }  # fmt: skip
    assert detail["tags"]["topic"][0]["value"] == "11000000"

    dups = qc.get(f"/v1/articles/{original.id}/duplicates").json()
    assert dups["cluster_id"] == str(corpus.clusters[original.key])
    assert {m["id"]: m["method"] for m in dups["items"]} == {
        str(d.id): d.method for d in corpus.docs if d.cluster_key == original.key and d.method
    }

    similar = qc.get(f"/v1/articles/{original.id}/similar", params={"limit": 5}).json()["items"]
    assert similar, "politics articles share people, organisations and topics"
    ids = {s["id"] for s in similar}
    assert not ids & {str(d.id) for d in corpus.docs if d.cluster_key == original.key}, "copies are not 'similar'"
    top = similar[0]
    shared = {tuple(s.split(":", 1)) for s in top["shared"]}
    top_doc = next(d for d in corpus.docs if str(d.id) == top["id"])
    assert shared and all(top_doc.has(k, v) and original.has(k, v) for k, v in shared)

    assert qc.get("/v1/articles/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'{"s":"-published"}').decode()}, "cursor"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-45"}, "to"),
        ({"sort": "popularity"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"from": "2025-03-20", "to": "2025-03-10"}, "from"),
        ({"topic": "war"}, "topic.0"),
        ({"language": "english"}, "language.0"),
        ({"cluster": "42"}, "cluster"),
        ({"q": "   "}, "q"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    qc: httpx.Client, corpus: Corpus, params: dict[str, str], field: str
) -> None:
    r = qc.get("/v1/articles", params=params)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "bad_request"
    assert error["details"][0]["field"] == field


def test_a_cursor_only_continues_its_own_search_and_sort(qc: httpx.Client, corpus: Corpus) -> None:
    first = qc.get("/v1/articles", params={"q": "government", "sort": "-published", "limit": 2}).json()
    cursor = first["next_cursor"]
    assert cursor
    other_sort = qc.get("/v1/articles", params={"q": "government", "sort": "published", "cursor": cursor})
    other_query = qc.get("/v1/articles", params={"q": "minister", "sort": "-published", "cursor": cursor})
    for r in (other_sort, other_query):
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"
    tampered = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    tampered["k"] = ["not a date", "x"]
    forged = base64.urlsafe_b64encode(json.dumps(tampered).encode()).decode()
    r = qc.get("/v1/articles", params={"q": "government", "sort": "-published", "cursor": forged})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"
