"""All ORM models. Import from here so that every table is registered on Base.metadata."""
from core.db import Base
from core.models.orgs import Organization, User
from core.models.listings import LISTING_MODELS, Achievement, Attachment, TechProblem
from core.models.audit import AuditLog
from core.models.matching import Match, MatchReview, Notification
from core.models.contracts import *  # noqa: F401,F403  (contracts issue)
from core.models.crawl import *  # noqa: F401,F403  (crawler issue)

__all__ = [
    "Base", "LISTING_MODELS", "Organization", "User", "TechProblem", "Achievement", "Attachment",
    "AuditLog", "Match", "MatchReview", "Notification",
]
