"""Wire schema of the answer to a signed partner webhook delivery."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.schemas.ingestions import BatchItemAccepted, BatchItemRejected


class WebhookAccepted(BaseModel):
    delivery_id: str = Field(description="The `webhook-id` (or, for WebSub, a hash of the body).")
    format: str = Field(examples=["tidings", "ninjs", "rss20", "atom10", "newsml-g2", "nitf"])
    accepted: list[BatchItemAccepted]
    rejected: list[BatchItemRejected]
