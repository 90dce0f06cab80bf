"""Entity and place tags carry their mentions: what the text said, where, in which stored field."""

from __future__ import annotations

import pytest

from shared.tagging.base import Document
from shared.tagging.taggers import Taggers

ARTICLE = Document(
    id="mentions",
    title="UN envoy meets Turkish ministers in Ankara",
    summary="Maria Okafor said the United Nations wanted the border crossings reopened.",
    body=(
        "The United Nations envoy Maria Okafor flew to Ankara on Monday. On Tuesday, Okafor told reporters the "
        "UN would ask Turkey to reopen two crossings.\n\nTurkish officials did not comment."
    ),
    caption="Maria Okafor arrives in Ankara.",
    language="en",
)


@pytest.fixture(scope="module")
def tags(tagging: Taggers) -> dict[tuple[str, str], dict]:
    doc = Document(**{k: getattr(ARTICLE, k) for k in ("id", "title", "summary", "body", "caption", "language")})
    return {(t.kind, t.value): t.attrs for t in tagging.tag([doc])[0]}


def _field(name: str) -> str:
    return str(getattr(ARTICLE, name))


def test_every_mention_is_the_text_at_its_offsets_in_its_field(tags: dict[tuple[str, str], dict]) -> None:
    with_mentions = [(key, m) for key, attrs in tags.items() for m in attrs.get("mentions", [])]
    assert with_mentions
    for _, m in with_mentions:
        assert set(m) == {"text", "start", "end", "field"}
        assert _field(m["field"])[m["start"] : m["end"]] == m["text"]


def test_a_person_keeps_the_full_and_the_short_forms(tags: dict[tuple[str, str], dict]) -> None:
    mentions = tags[("person", "Maria Okafor")]["mentions"]
    assert {m["text"] for m in mentions} == {"Maria Okafor", "Okafor"}
    assert {m["field"] for m in mentions} >= {"summary", "body", "caption"}
    assert mentions == sorted(mentions, key=lambda m: (["title", "summary", "body", "caption"].index(m["field"]),
                                                      m["start"]))  # fmt: skip


def test_an_acronym_is_a_mention_of_the_spelled_out_name(tags: dict[tuple[str, str], dict]) -> None:
    texts = {m["text"] for m in tags[("organisation", "United Nations")]["mentions"]}
    assert "UN" in texts and "United Nations" in texts


def test_a_country_lists_its_name_and_its_demonyms(tags: dict[tuple[str, str], dict]) -> None:
    turkey = tags[("place", "Turkey")]
    assert {m["text"] for m in turkey["mentions"]} == {"Turkey", "Turkish"}
    assert {m["field"] for m in turkey["mentions"]} == {"title", "body"}
    ankara = tags[("place", "Ankara")]
    assert [m["field"] for m in ankara["mentions"]].count("caption") == 1


def test_locate_maps_offsets_of_the_joined_text_to_fields() -> None:
    doc = Document(id=1, title="Storm", body="Rain fell.", summary=None, caption="A wet street")
    start = doc.text.index("wet")
    assert doc.locate(start, start + 3) == {"text": "wet", "start": 2, "end": 5, "field": "caption"}
    assert doc.locate(0, 5) == {"text": "Storm", "start": 0, "end": 5, "field": "title"}
    with pytest.raises(ValueError, match="outside"):
        doc.locate(len(doc.text) + 1, len(doc.text) + 2)
