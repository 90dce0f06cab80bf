"""SQLAlchemy 2 models: the schema of record, one module per area. Alembic migrations create it.

Every model module is imported here so ``Base.metadata`` knows all tables.
"""

from shared.db.models.articles import Article
from shared.db.models.base import Base
from shared.db.models.channels import Feed as Feed
from shared.db.models.channels import FeedPoll as FeedPoll
from shared.db.models.channels import Source as Source
from shared.db.models.channels import WebhookSecret as WebhookSecret
from shared.db.models.channels import WebSubDelivery as WebSubDelivery
from shared.db.models.dedup import DedupCorrection as DedupCorrection
from shared.db.models.dedup import DedupDecision as DedupDecision
from shared.db.models.dedup import DedupKey as DedupKey
from shared.db.models.dedup import DedupReuse as DedupReuse
from shared.db.models.dedup import LshBucket as LshBucket
from shared.db.models.events import Event, EventCorrection, EventDecision, EventKey
from shared.db.models.ingest import ArticleRevision, IdempotencyKey, Ingestion, IngestionState
from shared.db.models.query import Delivery as Delivery
from shared.db.models.query import DeliveryAttempt as DeliveryAttempt
from shared.db.models.query import DeliveryStatus as DeliveryStatus
from shared.db.models.query import SavedSearch as SavedSearch
from shared.db.models.query import SavedSearchMatch as SavedSearchMatch
from shared.db.models.reliability import ApiKey as ApiKey
from shared.db.models.reliability import DeadLetter as DeadLetter
from shared.db.models.stories import ArticleTag, Cluster, TagKind
from shared.db.models.tagging import BackfillJob as BackfillJob
from shared.db.models.tagging import TaggerVersion as TaggerVersion
from shared.db.models.tagging import TagRule as TagRule

__all__ = [
    "Article",
    "ArticleRevision",
    "ArticleTag",
    "Base",
    "Cluster",
    "Event",
    "EventCorrection",
    "EventDecision",
    "EventKey",
    "IdempotencyKey",
    "Ingestion",
    "IngestionState",
    "TagKind",
]
