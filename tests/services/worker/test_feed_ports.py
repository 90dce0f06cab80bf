"""Every hop the poller follows is checked with its port: an allow-listed feed server cannot redirect the
poller to another port on the same host."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests.services.worker.feed_support import SETTINGS, Poller, register
from tests.shared.channels.feedserver import FeedServer, rss, story


def test_a_redirect_to_another_port_on_an_allowed_host_is_refused(
    ingest: httpx.Client,
    db: Engine,
    server: FeedServer,
    poll: Poller,
) -> None:
    with FeedServer().running() as other:
        other.serve("/feed.rss", rss([story(1)]))
        server.serve("/hop", b"", status=302, headers={"Location": other.url("/feed.rss")})
        server.serve("/feed.rss", rss([story(2)]))
        only_this_port = SETTINGS.model_copy(update={"feed_allowed_networks": [f"127.0.0.1/32:{server.port}"]})

        bounced = register(ingest, server.url("/hop"))
        outcome = poll(bounced, settings=only_this_port)
        assert outcome.outcome == "failed"
        assert f"not on port {other.port}" in (outcome.error or "")
        assert other.seen("/feed.rss") == []

        direct = register(ingest, server.url("/feed.rss"))
        assert poll(direct, settings=only_this_port).outcome == "fetched"
