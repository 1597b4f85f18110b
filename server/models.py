"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from server.accounts.models import ApiToken, User, WebSession
from server.alerts.models import Alert, AlertOccurrence
from server.audit.models import AuditEvent
from server.cases.models import Case, CaseEvent
from server.checkouts.models import CabinetSession, Checkout
from server.db import Base
from server.evidence.models import ChainHead, ChainLink, ChainPending, ChainVerification
from server.incidents.models import Incident, IncidentEvent, TimelineLine
from server.items.loan_rules import KindRule
from server.items.models import Item
from server.ledger.models import DeadLetter, ReaderEvent, ScanRecord
from server.lost.models import LostItem
from server.notify.models import Notice
from server.people.models import Card, Person, VisitorBadge
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine
from server.visits.models import PresenceEvent, Visit

__all__ = [
    "Alert", "AlertOccurrence", "ApiToken", "AuditEvent", "Base", "CabinetSession", "Card", "Case", "CaseEvent",
    "ChainHead", "ChainLink", "ChainPending", "ChainVerification", "Checkout", "DeadLetter", "Incident",
    "IncidentEvent", "Item", "KindRule",
    "LostItem", "Notice", "Person", "PresenceEvent", "Reader", "ReaderEvent", "ScanRecord", "Stocktake", "StocktakeLine",
    "TimelineLine", "User", "Visit", "VisitorBadge", "WebSession",
]
