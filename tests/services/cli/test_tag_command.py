"""``tidings tag``: tags a plain-text article locally; a bad rule expression is shown with a caret."""

from __future__ import annotations

import json

import pytest

from services.cli.main import main
from tests.support import SEED_ARTICLE


def test_tag_prints_the_seed_article_tags_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", str(SEED_ARTICLE), "--json", "--rule", "title:troops AND aleppo"]) == 0
    tags = {(t["kind"], t["value"]) for t in json.loads(capsys.readouterr().out)}
    assert {("language", "en"), ("place", "Aleppo"), ("topic", "16000000"), ("rule", "rule 1")} <= tags


def test_a_bad_rule_points_at_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", str(SEED_ARTICLE), "--rule", "syria AND (iraq"]) == 2
    err = capsys.readouterr().err
    assert '"(" is never closed' in err and "\n            ^" in err
