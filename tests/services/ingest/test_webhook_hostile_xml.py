"""Signed webhooks carrying hostile XML get a 400 naming the problem; nothing is stored or expanded."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from tests.services.ingest.channel_support import count, deliver, make_source

ENTITY = b'<!ENTITY a "' + b"Storm warning for the coast. " * 370 + b'">'  # about 10 kB, as in the probe
ITEM = (
    b'<rss version="2.0"><channel><title>Coast News</title><item><guid>storm-1</guid><title>Storm warning</title>'
    b"<description>" + b"&a;" * 100 + b"</description></item></channel></rss>"
)
PROBE = b'junk\n<!DOCTYPE rss SYSTEM "a>b" [' + ENTITY + b"]>" + ITEM
NITF_DEEP = (
    b"<nitf><head><title>Deep</title></head><body><body.content>"
    + b"<block>" * 2000
    + b"<p>The council met.</p>"
    + b"</block>" * 2000
    + b"</body.content></body></nitf>"
)
CASES = {
    "probe: junk, > in SYSTEM, internal subset": (PROBE, "application/rss+xml", "unsafe_xml", "body"),
    "bogus encoding": (
        b'<?xml version="1.0" encoding="x-bogus"?>' + ITEM.replace(b"&a;", b""),
        "application/xml",
        "malformed_payload",
        "encoding",
    ),
    "2,000 nested NITF elements": (NITF_DEEP, "application/xml", "malformed_payload", "body"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_xml_is_a_400_naming_the_payload(name: str, ingest: httpx.Client, db: Engine) -> None:
    body, content_type, code, field = CASES[name]
    secret = make_source(ingest, "coast")
    r = deliver(ingest, "coast", secret, body, content_type=content_type, msg_id="msg_hostile")
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == field
    assert count(db, "ingestions") == 0 and count(db, "idempotency_keys") == 0


def test_an_html_article_declaring_entities_is_a_400_naming_html(ingest: httpx.Client, db: Engine) -> None:
    page = (
        "<!DOCTYPE html [<!ENTITY a 'Storm warning for the coast. '>]><html><body><article><h1>Storm</h1>"
        "<p>&a;&a;&a;&a;</p></article></body></html>"
    )
    r = ingest.post("/v1/articles", json={"title": "Storm warning", "html": page, "source": "coast-desk"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "unsafe_xml" and error["details"][0]["field"] == "html"
    assert count(db, "ingestions") == 0
