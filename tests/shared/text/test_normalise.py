"""Normalisation: equal stories must compare equal whatever the sender's encoding habits."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from shared.text.normalise import clean_inline, content_hash, normalise_body, paragraphs


def test_nfc_control_characters_and_whitespace() -> None:
    decomposed = unicodedata.normalize("NFD", "Café\u200b  in\tBeirut\x07")
    assert clean_inline(decomposed) == "Café in Beirut"


def test_paragraphs_are_separated_by_one_blank_line_and_lines_are_joined() -> None:
    text = "First line\r\ncontinues here.\r\n\r\n\r\n   Second   paragraph.  \n\n"
    assert paragraphs(text) == ["First line continues here.", "Second paragraph."]


def test_trailing_credit_lines_leave_the_body() -> None:
    body = "The army advanced.\n\nRebels retreated.\n\n(Reporting by Jane Doe; Editing by John Roe)\n\nSource: Reuters"
    result = normalise_body(body)
    assert result.body == "The army advanced.\n\nRebels retreated."
    assert result.credits == ["(Reporting by Jane Doe; Editing by John Roe)", "Source: Reuters"]


def test_a_body_that_is_only_a_credit_line_keeps_it() -> None:
    assert normalise_body("Source: Reuters").body == "Source: Reuters"


def test_a_sentence_mentioning_a_source_mid_body_stays() -> None:
    body = "Source: the ministry said talks would resume.\n\nMore text follows."
    assert normalise_body(body).body.startswith("Source: the ministry")


def test_content_hash_ignores_case_whitespace_and_punctuation() -> None:
    a = "Syrian troops advance, officials say."
    b = "  syrian TROOPS advance officials say!!  "
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash("Syrian troops retreat, officials say.")


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_body(text)
    twice = normalise_body(once.body)
    assert twice.body == once.body


@given(st.text())
def test_normalised_text_has_no_control_characters(text: str) -> None:
    body = normalise_body(text).body
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in body)
    assert body == unicodedata.normalize("NFC", body)
