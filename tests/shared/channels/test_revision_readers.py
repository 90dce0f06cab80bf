"""The wire readers give what orders an article's revisions (the format's version, its modification time)
and recognise a kill, so the same guid sent again is a revision or a withdrawal of the stored article."""

from __future__ import annotations

import json

from shared.channels.ninjs import ninjs_article
from shared.channels.wire import WITHDRAWN_BODY, parse_wire_xml
from shared.revisions import content_digest
from shared.schemas.articles import ArticleIn
from tests.support import fixture_bytes, fixture_text


def _newsml(name: str) -> ArticleIn:
    [item] = parse_wire_xml(fixture_bytes(f"revisions/{name}"), source="agency")
    assert item.data is not None, item.error
    return ArticleIn.model_validate(item.data)


def test_newsml_versions_share_the_guid_and_carry_their_version() -> None:
    v1, v2 = _newsml("warehouse-fire-v1.newsml.xml"), _newsml("warehouse-fire-v2.newsml.xml")
    assert v1.external_id == v2.external_id
    assert (v1.version, v2.version) == (1, 2)
    assert v1.version_created is not None and v2.version_created is not None
    assert v2.version_created > v1.version_created
    assert v2.title.startswith("CORRECTED:")
    assert not v1.withdrawn and not v2.withdrawn
    assert content_digest(v1.payload()) != content_digest(v2.payload())


def test_a_newsml_kill_without_text_is_a_withdrawal() -> None:
    kill = _newsml("warehouse-fire-kill.newsml.xml")
    assert kill.withdrawn is True
    assert kill.version == 3
    assert kill.body == WITHDRAWN_BODY
    assert kill.external_id == _newsml("warehouse-fire-v1.newsml.xml").external_id


def test_ninjs_version_and_pubstatus() -> None:
    v1 = ArticleIn.model_validate(
        ninjs_article(json.loads(fixture_text("revisions/ferry-delay-v1.ninjs.json")), source="agency")
    )
    kill = ArticleIn.model_validate(
        ninjs_article(json.loads(fixture_text("revisions/ferry-delay-kill.ninjs.json")), source="agency")
    )
    assert (v1.version, v1.withdrawn) == (1, None)
    assert (kill.version, kill.withdrawn, kill.external_id) == (4, True, v1.external_id)
    assert kill.version_created is not None


def test_the_same_text_under_a_new_version_number_is_the_same_content() -> None:
    v1 = _newsml("warehouse-fire-v1.newsml.xml")
    resent = v1.model_copy(update={"version": 7, "metadata": {**v1.metadata, "version": "7"}})
    assert content_digest(resent.payload()) == content_digest(v1.payload())
