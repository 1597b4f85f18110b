"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from server.accounts.models import ApiToken, User, WebSession
from server.alerts.models import Alert, AlertOccurrence
from server.audit.models import AuditEvent
from server.card_keys.models import CardCheck
from server.cases.models import Case, CaseEvent
from server.checkouts.models import CabinetSession, Checkout
from server.db import Base
from server.evidence.models import ChainHead, ChainLink, ChainPending, ChainVerification
from server.grants.models import AccessReview, CabinetGrant, ClosedDay, GrantOneOff
from server.incidents.models import Incident, IncidentEvent, TimelineLine
from server.inspection.models import SelfInspection
from server.items.loan_rules import KindRule
from server.items.models import Item
from server.ledger.models import DeadLetter, ReaderEvent, ScanRecord
from server.lost.models import LostItem
from server.notify.models import Notice
from server.people.models import Card, Person, VisitorBadge
from server.readers.models import Reader
from server.stocktakes.models import Stocktake, StocktakeLine
from server.training.models import Attendance, PersonChange, TrainingSession
from server.visits.models import PresenceEvent, StaffInside, Visit

__all__ = [
    "AccessReview", "Alert", "AlertOccurrence", "ApiToken", "Attendance", "AuditEvent", "Base", "CabinetGrant", "CabinetSession", "Card", "CardCheck", "Case", "CaseEvent", "ChainHead", "ChainLink", "ChainPending", "ChainVerification", "Checkout", "ClosedDay", "DeadLetter", "GrantOneOff", "Incident", "IncidentEvent", "Item", "KindRule", "LostItem", "Notice", "Person", "PersonChange", "PresenceEvent", "Reader", "ReaderEvent", "ScanRecord", "SelfInspection", "StaffInside", "Stocktake", "StocktakeLine", "TimelineLine", "TrainingSession", "User", "Visit", "VisitorBadge", "WebSession",
]
