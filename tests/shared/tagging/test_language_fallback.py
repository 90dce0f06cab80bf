"""No article goes untagged because the language model was unsure: briefs, tables and two-line items get a
language (and a topic, and their organisations), other languages keep theirs."""

from __future__ import annotations

import pytest

from services.worker.stages.language import SourceLanguages
from shared.tagging.base import Document
from shared.tagging.language import (
    decide_language,
    detect_language,
    dominant_script,
    is_iso_639_1,
    stopword_language,
)
from shared.tagging.taggers import Taggers

EARNINGS_BRIEF = (
    "Harbour Freight Lines Inc <HFL> 3rd Qtr Net",
    "Shr 64 cts vs 52 cts\nNet 12,480,000 vs 10,110,000\nRevs 212.6 mln vs 190.4 mln\nNine mths\n"
    "Shr 1.71 dlrs vs 1.40 dlrs\nNet 33.2 mln vs 27.3 mln",
)
DIVIDEND_BRIEF = ("Calder Mills Corp <CMC> Sets Qtly Div", "Qtly div 22 cts vs 22 cts prior\nPay May 15\nRecord May 1")
RESULTS_TABLE = (
    "Soccer results",
    "Northfield Rovers 2 Castleton United 1\nAshby Town 0 Millbrook Athletic 0\nKingsport City 3 Elmwood 2",
)
# A price table with hardly a word: no language can be read from it, only its source's.
PRICE_TABLE = (
    "LONDON COCOA CLOSE 1602 - MAY 4",
    "Jul   1402  1398  ---  1400\n Sep   1420  1417  ---  1418\n Dec   1441  1436  ---  1439",
)
TWO_LINE_ITEM = ("Port strike ends", "Dock workers at Larkhaven returned to work on Tuesday after a pay deal.")


def _kinds(tags: list) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t in tags:
        out.setdefault(t.kind, set()).add(t.value)
    return out


def _tagged(tagging: Taggers, title: str, body: str, source_language: str | None = None) -> dict[str, set[str]]:
    # as the language stage decides it
    decided = decide_language(title=title, summary=None, body=body, source_language=source_language)
    doc = Document(id=title, title=title, body=body, language=decided.code, language_score=decided.score)
    return _kinds(tagging.tag([doc])[0])


def test_an_earnings_brief_gets_language_topic_and_its_company(tagging: Taggers) -> None:
    tags = _tagged(tagging, *EARNINGS_BRIEF)
    assert tags["language"] == {"en"}
    assert "04000000" in tags["topic"]
    assert any("Harbour Freight" in org for org in tags["organisation"])


def test_a_dividend_brief_gets_language_and_the_economy(tagging: Taggers) -> None:
    assert detect_language("\n".join(DIVIDEND_BRIEF)).code == "en"
    tags = _tagged(tagging, *DIVIDEND_BRIEF)
    assert tags["language"] == {"en"}
    assert "04000000" in tags["topic"]


def test_a_results_table_gets_language_and_sport(tagging: Taggers) -> None:
    tags = _tagged(tagging, *RESULTS_TABLE)
    assert tags["language"] == {"en"}
    assert "15000000" in tags["topic"]


def test_a_price_table_takes_its_sources_language_and_gets_a_topic(tagging: Taggers) -> None:
    assert detect_language("\n".join(PRICE_TABLE)).code is None  # the text alone says nothing
    sources = SourceLanguages()
    for _ in range(3):
        sources.learn("wire", "en", 0.99)
    tags = _tagged(tagging, *PRICE_TABLE, source_language=sources.known("wire"))
    assert tags["language"] == {"en"}
    assert "04000000" in tags["topic"]


def test_only_iso_639_1_codes_are_answers() -> None:
    # py3langid's "zxx" (no linguistic content) and "pcm" (Nigerian Pidgin, its answer for wire shorthand)
    # are not languages an article is stored under.
    assert [is_iso_639_1(c) for c in ("en", "de", "zxx", "pcm", "")] == [True, True, False, False, False]
    for title, body in (EARNINGS_BRIEF, DIVIDEND_BRIEF, PRICE_TABLE):
        code = detect_language(f"{title}\n{body}").code
        assert code is None or is_iso_639_1(code)


def test_a_two_line_item_gets_language_topic_and_its_place(tagging: Taggers) -> None:
    tags = _tagged(tagging, *TWO_LINE_ITEM)
    assert tags["language"] == {"en"}
    assert "09000000" in tags["topic"]
    assert "Larkhaven" in tags.get("place", set()) | tags.get("organisation", set())


def test_a_non_english_item_keeps_its_language_and_gets_no_english_taggers(tagging: Taggers) -> None:
    tags = _tagged(tagging, "Streik im Hafen beendet", "Die Hafenarbeiter kehrten am Dienstag an die Arbeit zurück.")
    assert tags["language"] == {"de"}
    assert "topic" not in tags and "person" not in tags


def test_fallbacks_in_order_source_then_stop_words_then_script() -> None:
    brief = "\n".join(DIVIDEND_BRIEF)
    assert detect_language(brief).method == "stopwords"
    assert detect_language(brief, source_language="en").method == "source"
    # A Latin-script brief is not taken for a source's non-Latin language.
    assert detect_language(brief, source_language="ru").code == "en"
    assert detect_language("Ψήφισμα").code in {"el", None}
    assert dominant_script("Ψήφισμα για το νερό") == "GREEK"
    assert stopword_language("Der Hafen und die Arbeiter sind wieder da") == "de"
    too_short = detect_language("Ok", source_language="fr")
    assert (too_short.code, too_short.method) == ("fr", "source")
    assert detect_language("12 34").code is None


def test_a_source_language_is_learnt_from_confident_articles_only() -> None:
    sources = SourceLanguages()
    for _ in range(2):
        sources.learn("wire", "en", 0.99)
    sources.learn("wire", "fr", 0.4)  # unsure: not evidence
    assert sources.known("wire") is None  # two articles are not enough
    sources.learn("wire", "en", 0.97)
    assert sources.known("wire") == "en"
    assert sources.known("elsewhere") is None


@pytest.mark.parametrize("text", ["Shr 64 cts vs 52 cts Net 12.4 mln vs 10.1 mln", "Qtly div 22 cts vs 22 cts prior"])
def test_wire_abbreviations_count_as_english(text: str) -> None:
    assert stopword_language(text) == "en"


def test_the_opening_decides_a_long_articles_language() -> None:
    # Only the opening is read: a German report with a long English annex is German, and reading stops early.
    german = "Die Regierung in Berlin hat am Dienstag einen neuen Haushalt für das kommende Jahr beschlossen. " * 30
    annex = "The following figures were supplied by the ministry and have not been independently checked. " * 200
    decided = decide_language(title="Haushalt beschlossen", summary=None, body=german + annex)
    assert decided.code == "de"
    assert decide_language(title="Budget", summary=None, body=annex + german).code == "en"
