"""The pure parts of the web interface: snippets, mention highlighting, the charts' geometry, safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.query.schemas import TimeBucket, TimeSeriesOut
from services.query.ui.charts import project, volume_chart, world_map
from services.query.ui.signin import safe_next
from services.query.ui.text import highlight, mention_spans, safe_snippet


def test_snippet_keeps_only_its_own_marks() -> None:
    # As PostgreSQL returns it: the article's markup escaped, the matches in <mark>.
    raw = "the &lt;script&gt;alert(1)&lt;/script&gt; and <mark>harbour</mark> &amp; &lt;mark&gt;fake&lt;/mark&gt;"
    out = str(safe_snippet(raw))
    assert out == (
        "the &lt;script&gt;alert(1)&lt;/script&gt; and <mark>harbour</mark> &amp; &lt;mark&gt;fake&lt;/mark&gt;"
    )
    assert str(safe_snippet("<mark><img src=x onerror=alert(1)></mark>")) == (
        "<mark>&lt;img src=x onerror=alert(1)&gt;</mark>"
    )
    assert str(safe_snippet(None)) == ""


BODY = "President Christine Lagarde spoke in Frankfurt. Lagarde said <b>no</b>."


def test_mentions_are_highlighted_and_escaped() -> None:
    tags = {
        "person": [{"name": "Christine Lagarde", "mentions": [
            {"text": "Christine Lagarde", "start": 10, "end": 27, "field": "body"},
            {"text": "Lagarde", "start": 48, "end": 55, "field": "body"},
            {"text": "Lagarde", "start": 0, "end": 7, "field": "title"},
        ]}],
        "place": [{"name": "Frankfurt am Main", "attrs": {"mentions": [
            {"text": "Frankfurt", "start": 37, "end": 46, "field": "body"},
        ]}}],
    }  # fmt: skip
    spans = mention_spans(tags, "body", BODY)
    assert [(s.start, s.end, s.kind) for s in spans] == [(10, 27, "person"), (37, 46, "place"), (48, 55, "person")]
    out = str(highlight(BODY, spans))
    assert '<mark class="mention kind-person" title="person: Christine Lagarde">Christine Lagarde</mark>' in out
    assert '<mark class="mention kind-place" title="place: Frankfurt am Main">Frankfurt</mark>' in out
    assert "&lt;b&gt;no&lt;/b&gt;" in out and "<b>" not in out


def test_mentions_absent_or_wrong_highlight_nothing() -> None:
    # Older tags carry only a count; a mention whose text is nowhere is dropped, a shifted one is found nearby.
    assert mention_spans({"person": [{"name": "X", "mentions": 2}]}, "body", BODY) == []
    assert (
        mention_spans({"person": [{"name": "X", "mentions": [{"text": "Draghi", "start": 0, "end": 6}]}]}, "body", BODY)
        == []
    )
    shifted = mention_spans(
        {"place": [{"name": "F", "mentions": [{"text": "Frankfurt", "start": 30, "end": 39}]}]}, "body", BODY
    )
    assert [(s.start, s.end) for s in shifted] == [(37, 46)]
    assert str(highlight(BODY, [])) == BODY.replace("<", "&lt;").replace(">", "&gt;")


def test_overlapping_mentions_keep_the_longer_first() -> None:
    tags = {
        "person": [{"name": "Christine Lagarde", "mentions": [{"text": "Christine Lagarde", "start": 10, "end": 27}]}],
        "misc": [{"name": "Lagarde", "mentions": [{"text": "Lagarde", "start": 20, "end": 27}]}],
    }
    assert [(s.start, s.end) for s in mention_spans(tags, "body", BODY)] == [(10, 27)]


def test_volume_chart_scales_to_the_busiest_bucket() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    counts = [2, 0, 4, 1]
    series = TimeSeriesOut(
        interval="day",
        tz="UTC",
        total=sum(counts),
        buckets=[TimeBucket(start=start + timedelta(days=i), count=n) for i, n in enumerate(counts)],
    )
    chart = volume_chart(series)
    assert chart.max_count == 4 and chart.total == 7
    heights = [b.height for b in chart.bars]
    assert heights[1] == 0 and heights[2] == max(heights) and heights[0] == heights[2] / 2
    assert all(b.y + b.height == chart.baseline for b in chart.bars)
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs) and xs[0] >= chart.left and xs[-1] + chart.bars[-1].width <= chart.width
    empty = volume_chart(TimeSeriesOut(interval="day", tz="UTC", total=0, buckets=[]))
    assert empty.bars == [] and empty.first is None


def test_world_map_projection() -> None:
    assert project(0, 0) == (180, 90)
    assert project(-180, 90) == (0, 0)
    assert project(180, -90) == (360, 180)
    m = world_map([("Nairobi", -1.29, 36.82), ("Nowhere", 120.0, 0.0)])
    assert [(d.name, d.x, d.y) for d in m.dots] == [("Nairobi", 216.82, 91.29)]
    assert len(m.outlines) >= 6 and len(m.meridians) == 11 and len(m.parallels) == 5


def test_sign_in_redirects_only_within_the_interface() -> None:
    assert safe_next("/ui/articles/1?x=2") == "/ui/articles/1?x=2"
    for target in (None, "", "https://evil.example/ui/", "//evil.example", "/ui/\\evil", "/v1/articles"):
        assert safe_next(target) == "/ui/search"
