"""Every kind of record that is evidence: one `chained(...)` line each (docs/evidence.md).

`immutable=True`: the row is written once and never changed (PostgreSQL refuses UPDATE and DELETE,
and the verifier names a change). The others may change or go (a return, a rewind re-deriving a
cabinet's stretch, retention anonymising a visit): each change is chained as a new fact.
"""

from server.alerts.models import Alert, AlertOccurrence
from server.audit.models import AuditEvent
from server.card_keys.models import CardCheck
from server.cases.models import Case, CaseEvent
from server.checkouts.models import CabinetSession, Checkout
from server.evidence.chain import chained
from server.grants.models import AccessReview, CabinetGrant, ClosedDay, GrantOneOff
from server.incidents.models import Incident, IncidentEvent, TimelineLine
from server.inspection.models import SelfInspection
from server.ledger.models import ReaderEvent, ScanRecord
from server.lost.models import LostItem
from server.stocktakes.models import Stocktake, StocktakeLine
from server.training.models import Attendance, PersonChange, TrainingSession
from server.visits.models import PresenceEvent, Visit

chained(ScanRecord, immutable=True)
chained(ReaderEvent, immutable=True)
chained(AuditEvent, immutable=True)
chained(CaseEvent, immutable=True)
chained(CabinetSession)
chained(Checkout)
chained(Visit)
chained(PresenceEvent)
chained(Alert)  # its notes, acknowledgement and resolution are changes of the row
chained(AlertOccurrence)
chained(LostItem)
chained(Stocktake)
chained(StocktakeLine)
chained(Case)  # destructions are its `destroyed_*` columns and a `destroy` case event
chained(Incident)  # its reports, cause, prevention and closing change the row, each with its event
chained(IncidentEvent, immutable=True)
chained(TimelineLine, immutable=True)
chained(TrainingSession)
chained(Attendance, immutable=True)  # a withdrawal is a new row naming the one it withdraws
chained(PersonChange, immutable=True)  # the 名簿's 変更 history
chained(SelfInspection, immutable=True)  # a month answered again is a new row
chained(AccessReview, immutable=True)  # a quarter's sign-off
chained(CabinetGrant)  # who may open what: hours changed, a grant removed (withdrawn)
chained(GrantOneOff)  # removed with its grant
chained(ClosedDay)  # removed when the office opens after all
chained(CardCheck, immutable=True)  # each proof judged once, when its scan first arrived
