"""Tables and API schemas, one module per domain noun. Importing this package registers every
table on SQLModel.metadata (Alembic and the schema test rely on that)."""

from sqlmodel import SQLModel

from app.models.advocate_note import AdvocateNote
from app.models.audit import AuditChain, AuditEvent
from app.models.auth_session import AuthSession
from app.models.data_key import DataKey
from app.models.evidence import Evidence, EvidenceIncident
from app.models.impact_note import ImpactNote
from app.models.incident import Incident
from app.models.organisation import Organisation
from app.models.police_report import PoliceReport, PoliceReportIncident
from app.models.record import RecordRevision
from app.models.share import Invitation, Share
from app.models.upload import Upload
from app.models.user import User

# Every table's metadata, for Alembic, the schema test and test clean-up.
ALL_TABLES = SQLModel.metadata

__all__ = [
    "ALL_TABLES",
    "AdvocateNote",
    "AuditChain",
    "AuditEvent",
    "AuthSession",
    "DataKey",
    "Evidence",
    "EvidenceIncident",
    "ImpactNote",
    "Incident",
    "Invitation",
    "Organisation",
    "PoliceReport",
    "PoliceReportIncident",
    "RecordRevision",
    "Share",
    "Upload",
    "User",
]
