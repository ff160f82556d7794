"""Small typed helpers that keep records through the API, as the PWA would, and look at what the
database holds afterwards."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select

from app.models import (
    AuditChain,
    AuditEvent,
    ImpactNote,
    Incident,
    PoliceReport,
    PoliceReportIncident,
    RecordRevision,
)

API = "/api/v1"
INCIDENTS = f"{API}/incidents"
IMPACT_NOTES = f"{API}/impact-notes"
POLICE_REPORTS = f"{API}/police-reports"
TIMELINE = f"{API}/timeline"
AUDIT = f"{API}/audit"

# A fixed evening in the past, so nothing depends on when the tests run.
BASE = datetime(2026, 10, 1, 21, 30, tzinfo=UTC)


def at(hours: float = 0, *, offset_hours: float = 0) -> str:
    """BASE moved by `hours`, written as ISO 8601 with the given UTC offset."""
    zone = timezone(timedelta(hours=offset_hours))
    return (BASE + timedelta(hours=hours)).astimezone(zone).isoformat()


def instant(value: str) -> datetime:
    """An ISO 8601 string from the API as an aware datetime, to compare instants."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def incident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_at": at(),
        "behaviours": ["turning_up"],
        "location": "Outside the library on Mill Road",
        "description": "He was waiting by the bike racks when I came out.",
    }
    return body | overrides


def log_incident(client: TestClient, **overrides: Any) -> dict[str, Any]:
    return _created(client.post(INCIDENTS, json=incident_body(**overrides)))


def impact_note_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "noted_at": at(),
        "areas": ["sleep", "changed_routine"],
        "description": "I now take a different bus every day and sleep badly.",
    }
    return body | overrides


def write_impact_note(client: TestClient, **overrides: Any) -> dict[str, Any]:
    return _created(client.post(IMPACT_NOTES, json=impact_note_body(**overrides)))


def police_report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "crime_reference": "CR/123456/26",
        "reported_at": at(),
        "force": "Cambridgeshire Constabulary",
        "officer": "PC Patel",
        "method": "non_emergency_101",
        "notes": "Officer said to keep logging everything.",
    }
    return body | overrides


def record_police_report(client: TestClient, **overrides: Any) -> dict[str, Any]:
    return _created(client.post(POLICE_REPORTS, json=police_report_body(**overrides)))


def withdraw(client: TestClient, url: str, reason: str | None = "Logged twice by mistake") -> Any:
    """DELETE (withdraw) a record; the test inspects the response."""
    body = None if reason is None else {"reason": reason}
    return client.request("DELETE", url, json=body)


def read(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def revisions(client: TestClient, url: str) -> list[dict[str, Any]]:
    response = client.get(f"{url}/revisions")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def timeline(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """One page of the timeline."""
    items: list[dict[str, Any]] = read(client, TIMELINE, **params)["items"]
    return items


def walk(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        page = read(client, url, **params, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ran out")


# What the database holds, for checking that nothing (or everything) was stored.

_OWNED: dict[str, tuple[type[Any], Any]] = {
    "incidents": (Incident, Incident.owner_id),
    "impact_notes": (ImpactNote, ImpactNote.owner_id),
    "police_reports": (PoliceReport, PoliceReport.owner_id),
    "record_revisions": (RecordRevision, RecordRevision.owner_id),
    "audit_events": (AuditEvent, AuditEvent.victim_id),
    "audit_chains": (AuditChain, AuditChain.victim_id),
}


def stored_counts(engine: Engine, owner_id: uuid.UUID | str) -> dict[str, int]:
    """How many rows of each kind the database holds for one victim, search documents included."""
    owner = uuid.UUID(str(owner_id))
    counts: dict[str, int] = {}
    with Session(engine) as db:
        for name, (model, column) in _OWNED.items():
            counts[name] = db.exec(
                select(func.count()).select_from(model).where(col(column) == owner)
            ).one()
        counts["police_report_incidents"] = db.exec(
            select(func.count())
            .select_from(PoliceReportIncident)
            .join(Incident, col(Incident.id) == col(PoliceReportIncident.incident_id))
            .where(col(Incident.owner_id) == owner)
        ).one()
        # SQLite keeps ids as the record tables do, as 32 hex digits.
        key: uuid.UUID | str = owner.hex if engine.dialect.name == "sqlite" else owner
        search = text("SELECT count(*) FROM search_documents WHERE owner_id = :o")
        counts["search_documents"] = db.execute(search, {"o": key}).scalar_one()
    return counts
