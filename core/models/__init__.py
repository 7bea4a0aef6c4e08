"""All ORM models, one module per aggregate. Import from here so that every table is registered on
Base.metadata."""
from core.db import Base
from core.models.audit import AuditLog
from core.models.contracts import Contract, ContractAmendment
from core.models.crawl import *  # noqa: F401,F403  (crawler issue)
from core.models.events import Event
from core.models.listings import LISTING_MODELS, Achievement, Attachment, TechProblem
from core.models.matching import Match, MatchReview, Notification
from core.models.orgs import Organization, User
from core.models.qualification import EnterpriseProfile, ProfileYear, QualificationNeed
from core.models.registration import ExpertReview, RegistrationApplication, RegistrationCost, RegistrationEvent
from core.models.sessions import AuthSession
from core.models.targets import IndicatorTarget

__all__ = [
    "Base", "LISTING_MODELS", "Organization", "User", "TechProblem", "Achievement", "Attachment",
    "AuditLog", "Match", "MatchReview", "Notification", "Contract", "ContractAmendment", "Event",
    "IndicatorTarget", "EnterpriseProfile", "ProfileYear", "QualificationNeed", "AuthSession",
    "RegistrationApplication", "RegistrationCost", "RegistrationEvent", "ExpertReview",
]
