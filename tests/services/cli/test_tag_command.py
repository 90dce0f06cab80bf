"""``tidings tag``: tags a plain-text article locally; a bad rule expression is shown with a caret."""

from __future__ import annotations

import json

import pytest

from services.cli.main import main
from tests.support import NEWSROOM_ARTICLE


def test_tag_prints_the_newsroom_article_tags_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", str(NEWSROOM_ARTICLE), "--json", "--rule", "title:offensive AND omdurman"]) == 0
    tags = {(t["kind"], t["value"]) for t in json.loads(capsys.readouterr().out)}
    assert {("language", "en"), ("place", "Omdurman"), ("topic", "16000000"), ("rule", "rule 1")} <= tags


def test_a_bad_rule_points_at_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", str(NEWSROOM_ARTICLE), "--rule", "sudan AND (egypt"]) == 2
    err = capsys.readouterr().err
    assert '"(" is never closed' in err and "\n            ^" in err
