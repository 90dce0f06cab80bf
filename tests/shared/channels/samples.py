"""Small but realistic documents in each format the channels read, shared by the channel tests: the feeds,
ninjs, NewsML-G2 and NITF items live in ``tests/fixtures/channels/``; the hostile XML is built here."""

from __future__ import annotations

import json

from tests.support import fixture_bytes, fixture_text

RSS = fixture_bytes("channels/world.rss")
ATOM = fixture_bytes("channels/exemple.atom")
NINJS_2 = json.loads(fixture_text("channels/ninjs-2.json"))
NINJS_1 = json.loads(fixture_text("channels/ninjs-1.json"))
NEWSML_ITEM = fixture_bytes("channels/newsml-item.xml")
NITF = fixture_bytes("channels/council-budget.nitf.xml")
NINJS_3 = json.loads(fixture_text("channels/ninjs-3.json"))
NINJS_SUPERDESK = json.loads(fixture_text("channels/ninjs-superdesk.json"))
NEWSML_XHTML_HEADER = fixture_bytes("channels/newsml-xhtml-header.xml")
NEWSML_INLINE_DATA_HTML = fixture_bytes("channels/newsml-inlinedata-html.xml")
NEWSML_EMBEDDED_NITF = fixture_bytes("channels/newsml-embedded-nitf.xml")
ENTITIES_RSS = fixture_bytes("channels/entities.rss")
FURNITURE_ONLY_PAGE = fixture_text("channels/furniture-only.html")
# ninjs 2.x as IPTC's examples write it: with the optional ``title`` (the item's short name).
NINJS_WITH_TITLE = {
    "uri": "urn:x",
    "type": "text",
    "title": "port-strike",
    "headlines": [{"role": "main", "value": "Port strike enters second day"}],
    "bodies": [{"role": "main", "value": "Dock workers stayed away for a second day."}],
}

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}><title>&lol9;</title></{root}>"""

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><{root}>' + b"&a;" * 1000 + b"</{root}>"
)

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<{root}><title>&xxe;</title></{root}>"""

EXTERNAL_PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<{root}/>"""

UNSAFE_XML = {
    "billion-laughs": BILLION_LAUGHS,
    "quadratic-blowup": QUADRATIC_BLOWUP,
    "external-entity": EXTERNAL_ENTITY,
    "external-parameter-entity": EXTERNAL_PARAMETER_ENTITY,
}


def unsafe(kind: str, root: str) -> bytes:
    return UNSAFE_XML[kind].replace(b"{root}", root.encode())


def html_page(title: str = "Quake hits city") -> str:
    return f"""<html><head><title>{title} | Daily News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:15:00+02:00">
<meta name="description" content="A strong earthquake struck the city early on Tuesday.">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>
<p>A strong earthquake struck the city early on Tuesday, damaging buildings and cutting power to thousands of
homes, officials said.</p>
<p>Rescue teams were searching collapsed buildings for survivors as aftershocks continued throughout the
morning, the fire service said.</p>
<h2>Power cut</h2>
<p>The electricity company said it expected to restore supplies by the evening in most districts.</p>
</article>
<footer>Copyright 2024 Daily News. All rights reserved. <a href="/privacy">Privacy policy</a></footer>
</body></html>"""
