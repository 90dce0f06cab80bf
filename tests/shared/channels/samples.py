"""Small but realistic documents in each format the channels read, shared by the channel tests."""

from __future__ import annotations

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Example World News</title>
  <link>https://news.example.com/</link>
  <language>en-gb</language>
  <item>
    <title>Floods close roads across the north &amp; west</title>
    <link>https://news.example.com/floods?utm_source=rss</link>
    <guid isPermaLink="false">floods-2024-03-05</guid>
    <pubDate>Tue, 05 Mar 2024 10:00:00 +0100</pubDate>
    <dc:creator>Jane Doe</dc:creator>
    <category>UK</category>
    <description>Heavy rain &lt;b&gt;closed&lt;/b&gt; dozens of roads.</description>
    <content:encoded><![CDATA[<p>Heavy rain closed dozens of roads across the north and west on Tuesday.</p>
      <p>Forecasters warned that more rain was on the way.</p><script>track()</script>]]></content:encoded>
  </item>
  <item>
    <title>Summary-only item</title>
    <link>https://news.example.com/summary-only</link>
    <description>Only a summary here, but it is the text we have.</description>
  </item>
  <item>
    <title>Headline without any text</title>
    <link>https://news.example.com/bare</link>
  </item>
</channel>
</rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Exemple</title>
  <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
  <updated>2024-03-05T10:00:00Z</updated>
  <link href="https://exemple.fr/"/>
  <entry>
    <title type="html">Le &lt;i&gt;conseil&lt;/i&gt; vote le budget</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <link href="/articles/budget"/>
    <updated>2024-03-05T09:30:00Z</updated>
    <author><name>Marie Curie</name></author>
    <author><name>Pierre Curie</name></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Le conseil municipal a vote le budget.</p><p>Deuxieme paragraphe.</p></div></content>
  </entry>
</feed>"""

NINJS_2 = {
    "uri": "urn:newsml:dpa.com:20090101:190510-99-167362",
    "version": "2",
    "versioncreated": "2019-05-10T16:02:28+02:00",
    "firstcreated": "2019-05-10T15:00:00+02:00",
    "urgency": 4,
    "copyrightholder": "dpa",
    "language": "de",
    "headlines": [{"role": "main", "value": "Faktencheck Derby-Elfmeter"}],
    "descriptions": [{"role": "summary", "value": "Hat Schiedsrichter Zwayer recht?"}],
    "bodies": [
        {
            "role": "html",
            "contenttype": "text/html",
            "value": "<section><p>Fuer Lucien Favre war es der groesste Skandal.</p><p>Zweiter Absatz.</p></section>",
        }
    ],
    "by": "Christian Hollmann",
    "subjects": [{"name": "Fussball", "uri": "http://cv.iptc.org/newscodes/mediatopic/20000822"}],
}

NINJS_1 = {
    "uri": "http://example.com/item/1",
    "type": "text",
    "headline": "Storm hits the coast",
    "body_text": "The storm reached the coast overnight.\n\nThousands lost power.",
    "description_text": "A storm reached the coast.",
    "versioncreated": "2024-03-05T10:00:00Z",
    "byline": "Jane Doe",
    "language": "en",
    "slugline": "WEATHER-STORM",
}

NEWSML_ITEM = b"""<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.com:20240305:econ-1" version="3"
          standard="NewsML-G2" standardversion="2.29" xml:lang="en-GB">
  <catalogRef href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml"/>
  <rightsInfo><copyrightHolder uri="http://example.com"><name>Example Agency</name></copyrightHolder></rightsInfo>
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <versionCreated>2024-03-05T11:00:00Z</versionCreated>
    <firstCreated>2024-03-05T09:00:00Z</firstCreated>
    <pubStatus qcode="stat:usable"/>
  </itemMeta>
  <contentMeta>
    <contentCreated>2024-03-05T08:55:00+01:00</contentCreated>
    <located><name>Lisbon</name></located>
    <creator><name>Ana Silva</name></creator>
    <subject type="cpnat:abstract" qcode="medtop:04000000"><name>economy, business and finance</name></subject>
    <slugline>PORTUGAL-ECONOMY</slugline>
    <headline>Portugal's economy grows faster than expected</headline>
    <description role="drol:summary">Growth reached 2.1 percent.</description>
    <language tag="en-GB"/>
  </contentMeta>
  <contentSet>
    <inlineXML contenttype="application/xhtml+xml">
      <html xmlns="http://www.w3.org/1999/xhtml"><head><title>ignored</title></head>
        <body><p>Portugal's economy grew 2.1 percent in the fourth quarter.</p><p>Exports led the way.</p></body>
      </html>
    </inlineXML>
  </contentSet>
</newsItem>"""

NITF = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nitf PUBLIC "-//IPTC//DTD NITF 3.6//EN" "http://www.iptc.org/std/NITF/3.6/specification/dtd/nitf-3-6.dtd">
<nitf lang="en">
  <head>
    <title>Council approves new budget</title>
    <docdata>
      <doc-id id-string="NITF-2024-0042"/>
      <urgency ed-urg="3"/>
      <date.issue norm="20240305T101500Z"/>
      <doc.copyright holder="Example Wire" year="2024"/>
      <key-list><keyword key="budget"/><keyword key="council"/></key-list>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1>Council approves new budget</hl1><hl2>Spending rises 4 percent</hl2></hedline>
      <byline>By <person>John Roe</person></byline>
      <abstract><p>The council approved the budget on Tuesday.</p></abstract>
    </body.head>
    <body.content>
      <p>The city council approved a new budget on Tuesday after a long debate.</p>
      <block><p>Spending rises by 4 percent.</p></block>
    </body.content>
  </body>
</nitf>"""

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
