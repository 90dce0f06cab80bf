"""SQLAlchemy 2 models: the schema of record, one module per noun. Alembic migrations create it.

Every model module is imported here so ``Base.metadata`` knows all tables, and so callers import any model
as ``from shared.db.models import X`` without knowing which module holds it.
"""

from shared.db.models.api_keys import ApiKey
from shared.db.models.article_revisions import ArticleRevision
from shared.db.models.articles import Article
from shared.db.models.backfills import BackfillJob, BackfillState, TaggerVersion
from shared.db.models.base import Base
from shared.db.models.clusters import Cluster
from shared.db.models.dead_letters import DeadLetter
from shared.db.models.dedup import DedupCorrection, DedupDecision, DedupKey, DedupReuse, LshBucket
from shared.db.models.deliveries import Delivery, DeliveryAttempt, DeliveryStatus
from shared.db.models.events import Event, EventCorrection, EventDecision, EventKey
from shared.db.models.feeds import Feed, FeedPoll, WebSubDelivery
from shared.db.models.ingestions import IdempotencyKey, Ingestion, IngestionState
from shared.db.models.saved_searches import SavedSearch, SavedSearchMatch
from shared.db.models.sources import Source
from shared.db.models.tag_rules import TagRule
from shared.db.models.tags import ArticleTag
from shared.db.models.webhook_secrets import WebhookSecret

__all__ = [
    "ApiKey",
    "Article",
    "ArticleRevision",
    "ArticleTag",
    "BackfillJob",
    "BackfillState",
    "Base",
    "Cluster",
    "DeadLetter",
    "DedupCorrection",
    "DedupDecision",
    "DedupKey",
    "DedupReuse",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Event",
    "EventCorrection",
    "EventDecision",
    "EventKey",
    "Feed",
    "FeedPoll",
    "IdempotencyKey",
    "Ingestion",
    "IngestionState",
    "LshBucket",
    "SavedSearch",
    "SavedSearchMatch",
    "Source",
    "TagRule",
    "TaggerVersion",
    "WebSubDelivery",
    "WebhookSecret",
]
