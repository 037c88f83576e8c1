"""Typed SQLAlchemy models, one module per aggregate."""

from pro_app.models.audit import AuditChainHead, AuditEvent
from pro_app.models.base import Base
from pro_app.models.documents import Job, JobStatus, PdfDocument
from pro_app.models.links import VisitLink
from pro_app.models.participants import Participant, ParticipantStatus, Sex, Visit
from pro_app.models.responses import DraftAnswer, EnteredBy, ImmutableRecordError, Response
from pro_app.models.review import DataQuery, QueryEvent, QueryStatus, SdvMark
from pro_app.models.sites import Site
from pro_app.models.staff import Role, SigninGuard, StaffSession, StaffUser, staff_site

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "DataQuery",
    "DraftAnswer",
    "EnteredBy",
    "ImmutableRecordError",
    "Job",
    "JobStatus",
    "Participant",
    "ParticipantStatus",
    "PdfDocument",
    "QueryEvent",
    "QueryStatus",
    "Response",
    "Role",
    "SdvMark",
    "Sex",
    "SigninGuard",
    "Site",
    "StaffSession",
    "StaffUser",
    "Visit",
    "VisitLink",
    "staff_site",
]
