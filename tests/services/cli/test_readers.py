"""The CLI's readers: Reuters SGML, folders of plain text, JSON Lines and XML files, each record in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.readers import units
from services.cli.reuters import count_documents, read_reuters
from shared.schemas.articles import ArticleIn
from tests.shared.channels.samples import NITF, RSS
from tests.support import fixture_path

REUTERS_FORMAT = fixture_path("wire/reuters-format.sgm")  # written for the project in the Reuters-21578 format


def test_reuters_documents_become_articles() -> None:
    docs = list(read_reuters(REUTERS_FORMAT))
    assert len(docs) == count_documents(REUTERS_FORMAT) == REUTERS_FORMAT.read_bytes().count(b"</REUTERS>") == 6
    first = docs[0]
    assert first["external_id"] == "1" and first["source"] == "reuters"
    assert first["title"] == "SANTOS COFFEE HARVEST REVIEW"
    assert first["body"].startswith("Dry weather in the south of Minas Gerais has slowed the development")
    assert (
        "\n\nEstimates of the harvest now range from 28 to 31 mln bags, against 33 mln forecast in January"
        in (first["body"])
    ), "indented lines start paragraphs; wrapped lines join"
    assert "Growers around São Paulo" in first["body"], "the file is latin-1"
    assert not first["body"].endswith("Reuter") and first["credit"] == "Reuters"
    assert first["published_at"] == "1987-03-03T09:12:40+00:00"
    assert first["metadata"]["topics"] == ["coffee"]
    assert first["metadata"]["places"] == ["brazil", "colombia"]
    assert first["metadata"]["dateline"] == "SANTOS, March 3"
    kinds = {d["metadata"]["type"] for d in docs}
    assert kinds == {"norm", "brief", "unproc"}
    brief = next(d for d in docs if d["metadata"]["type"] == "brief")
    assert brief["title"].startswith("MONEY MARKET FUND ASSETS") and brief["body"] == "Details to follow."
    table = next(d for d in docs if d["metadata"]["type"] == "unproc")
    assert table["title"].startswith("FEDERAL RESERVE") and "\x03" not in table["body"]
    assert "Reserve balances 31,204 30,877" in table["body"].split("\n\n"), "a table keeps one row per line"
    for doc in docs:
        ArticleIn.model_validate(doc)


def test_a_folder_of_plain_text_articles(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    (desk / "sport").mkdir(parents=True)
    (desk / "a.txt").write_text("Headline one\n\nStandfirst.\n\nBody paragraph.\n\nSource: Agencies\n")
    (desk / "sport" / "b.txt").write_text("Headline two\n\nThe only paragraph.\n")
    (desk / "sport" / "latin1.txt").write_bytes("Caf\xe9 society\n\nBody.\n".encode("latin-1"))
    (desk / "sport" / "empty.txt").write_text("   \n")
    (desk / "notes.md").write_text("not an article")
    [unit] = units([desk], source=None)
    records = list(unit.records())
    assert unit.count() == 4
    assert [r.key for r in records] == [
        "desk/a.txt",
        "desk/sport/b.txt",
        "desk/sport/empty.txt",
        "desk/sport/latin1.txt",
    ]
    a, b, empty, latin1 = records
    assert a.article == {
        "title": "Headline one",
        "body": "Body paragraph.",
        "summary": "Standfirst.",
        "credit": "Agencies",
        "source": "desk",
        "external_id": "a.txt",
    }
    assert b.article is not None and b.article["section"] == "sport" and b.article["external_id"] == "sport/b.txt"
    assert empty.error is not None and empty.error.startswith("title:")
    assert latin1.error == "not valid UTF-8 (byte 3)"
    assert [r.key for r in unit.records(skip=2)] == ["desk/sport/empty.txt", "desk/sport/latin1.txt"]


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_text(
        json.dumps({"title": "T", "body": "B"})
        + "\n\n"
        + "{not json\n"
        + "[1, 2]\n"
        + json.dumps({"title": "U"})
        + "\n"
    )
    [unit] = units([path], source="desk")
    records = list(unit.records())
    assert unit.count() == 4
    assert records[0].article == {"title": "T", "body": "B", "source": "desk"}
    assert records[1].error is not None and records[1].error.startswith("line is not JSON")
    assert records[2].error == "line is not a JSON object"
    assert records[3].key == "articles.jsonl:5"


def test_xml_files(tmp_path: Path) -> None:
    (tmp_path / "feed.rss").write_bytes(RSS)
    (tmp_path / "story.xml").write_bytes(NITF)
    feed, story = units([tmp_path / "feed.rss", tmp_path / "story.xml"], source=None)
    assert [r.article["source"] if r.article else r.error for r in feed.records()] == [
        "feed",
        "feed",
        "the entry has no text (no content and no summary)",
    ]
    [nitf] = story.records()
    assert nitf.article is not None and nitf.article["external_id"] == "NITF-2024-0042"


def test_unknown_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(ValueError, match="unknown kind of input"):
        units([tmp_path / "x.csv"], source=None)
    with pytest.raises(ValueError, match="no such file"):
        units([tmp_path / "missing.jsonl"], source=None)
