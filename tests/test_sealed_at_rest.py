"""What a copy of the server's database shows: nothing a victim wrote (docs/security.md, "What
the database holds").

Records of every kind are kept through the API with a marker word in every text field (and a
photo with GPS and a camera model in its EXIF); then the database's own files are read as bytes,
as someone holding a copy of the disk would: SQLite's file and its write-ahead log, or
PostgreSQL's `pg_dump`. No marker may appear. The same records must still read back, filter by
crime reference and be found by search.

Also here: an existing deployment's plain text is sealed in place by `waymark migrate`
(app/services/sealing_migration.py), resumably.
"""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlmodel import select

from app.db import normalise_database_url, transaction
from app.models import Evidence, ImpactNote, Incident, PoliceReport, RecordRevision
from app.models.advocate_note import AdvocateNote
from app.models.police_report import crime_reference_key
from app.models.upload import Upload
from app.models.user import User
from app.services import (
    advocate_notes,
    evidence,
    identities,
    impact_notes,
    incidents,
    police_reports,
    sealing,
    uploads,
)
from app.services.sealing_migration import seal_existing
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD
from tests.factories.evidence import PhotoClaims, jpeg_photo, start_upload, upload_by_tus
from tests.factories.records import IMPACT_NOTES, INCIDENTS, POLICE_REPORTS, TIMELINE, at
from tests.factories.sharing import case_url, shared_case, write_note


def _markers() -> dict[str, str]:
    """One word per field, unique to this run, so a hit can only come from this test."""
    run = uuid.uuid4().hex[:8]
    fields = [
        "location",
        "witnesses",
        "feelings",
        "description",
        "amended",
        "impactnote",
        "reference",
        "force",
        "officer",
        "reportnotes",
        "withdrawn",
        "filename",
        "filedescription",
        "pendingname",
        "pendingdescription",
        "advocatenote",
    ]
    return {field: f"zq{field}{run}" for field in fields}


# What the photo's EXIF says: a camera model and a place no one else's file carries.
PHOTO = PhotoClaims(make="Fairphone", model="Zqcamera5", latitude=(51, 28, 41, "N"))
PHOTO_SECRETS = ("Zqcamera5", "51.478")


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _keep_every_kind(
    victim: TestClient, advocate: TestClient, case_id: str, m: dict[str, str]
) -> dict[str, Any]:
    incident = _created(
        victim.post(
            INCIDENTS,
            json={
                "occurred_at": at(),
                "behaviours": ["turning_up", "threats"],
                "location": f"Outside {m['location']} station",
                "description": f"He was waiting {m['description']} by the gate.",
                "witnesses": f"Priya {m['witnesses']}",
                "feelings": f"Shaking {m['feelings']}",
            },
        )
    )
    amended = _created(
        victim.patch(
            f"{INCIDENTS}/{incident['id']}",
            json={"description": f"He was waiting by the gate, {m['amended']} again."},
        )
    )
    note = _created(
        victim.post(
            IMPACT_NOTES,
            json={"noted_at": at(1), "areas": ["sleep"], "description": m["impactnote"]},
        )
    )
    report = _created(
        victim.post(
            POLICE_REPORTS,
            json={
                "reported_at": at(2),
                "method": "non_emergency_101",
                "crime_reference": f"CR/{m['reference']}/26",
                "force": f"Cambridgeshire {m['force']}",
                "officer": f"PC {m['officer']}",
                "notes": f"Said they would call {m['reportnotes']}",
                "incident_ids": [incident["id"]],
            },
        )
    )
    withdrawn = _created(
        victim.post(
            IMPACT_NOTES, json={"noted_at": at(3), "areas": ["work_or_study"], "description": "x"}
        )
    )
    _created(
        victim.request(
            "DELETE", f"{IMPACT_NOTES}/{withdrawn['id']}", json={"reason": m["withdrawn"]}
        )
    )

    photo = upload_by_tus(
        victim,
        jpeg_photo(PHOTO),
        {"filename": f"{m['filename']}.jpg", "description": m["filedescription"]},
    )
    # An upload still arriving keeps what the client said about it.
    start_upload(
        victim,
        100_000,
        {"filename": f"{m['pendingname']}.mp4", "description": m["pendingdescription"]},
    )
    _created(write_note(advocate, case_id, f"Called her back {m['advocatenote']}"))
    return {"incident": amended, "note": note, "report": report, "photo": photo}


def _database_bytes(database_url: str, tmp_path: Path) -> bytes:
    """Everything a copy of the database shows, as bytes."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        parts = [path, path.with_name(path.name + "-wal")]
        return b"".join(part.read_bytes() for part in parts if part.exists())
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [
            "pg_dump",
            "--host",
            str(url.host),
            "--port",
            str(url.port or 5432),
            "--username",
            str(url.username),
            "--file",
            str(dump),
            str(url.database),
        ],
        check=True,
        timeout=120,
    )
    return dump.read_bytes()


def _assert_nothing_readable(raw: bytes, markers: Iterator[str] | list[str]) -> None:
    found = [marker for marker in markers if marker.encode() in raw]
    assert not found, f"readable in the database: {found}"


def test_no_marker_is_readable_in_the_database_and_every_record_reads_back(
    app: FastAPI, make_client: ClientFactory, database_url: str, tmp_path: Path
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    m = _markers()
    kept = _keep_every_kind(victim, advocate, case_id, m)

    email = victim.get("/api/v1/auth/me").json()["email"]
    _assert_nothing_readable(
        _database_bytes(database_url, tmp_path), [*m.values(), *PHOTO_SECRETS, email]
    )

    # The victim still reads every word back, on each record's own endpoint and the timeline.
    incident = victim.get(f"{INCIDENTS}/{kept['incident']['id']}").json()
    assert m["amended"] in incident["description"] and m["witnesses"] in incident["witnesses"]
    assert incident["crime_references"] == [f"CR/{m['reference']}/26"]
    revisions = victim.get(f"{INCIDENTS}/{kept['incident']['id']}/revisions").json()
    assert m["description"] in revisions[0]["description"]
    photo = victim.get(f"/api/v1/evidence/{kept['photo']['id']}").json()
    assert photo["original_filename"] == f"{m['filename']}.jpg"
    assert photo["metadata"]["device_model"] == "Zqcamera5"
    assert photo["metadata"]["gps"]["latitude"] == pytest.approx(51.478, abs=0.001)
    timeline = victim.get(TIMELINE, params={"include_withdrawn": "true"}).json()["items"]
    words = str([item["data"] for item in timeline])
    for field in ("location", "impactnote", "force", "officer", "withdrawn", "advocatenote"):
        assert m[field] in words, field

    # A filter by crime reference, in another spelling, finds the report and its incident.
    found = victim.get(TIMELINE, params={"crime_reference": f" cr/{m['reference']}/26 "}).json()
    assert {item["id"] for item in found["items"]} == {
        kept["incident"]["id"],
        kept["report"]["id"],
    }

    # Search finds each record by a word of it, by its stem and by its first letters.
    def search(q: str) -> set[str]:
        return {item["id"] for item in victim.get(TIMELINE, params={"q": q}).json()["items"]}

    assert search(m["amended"]) == {kept["incident"]["id"]}
    assert search(m["impactnote"][:9]) == {kept["note"]["id"]}
    assert search(m["reportnotes"] + " " + m["officer"]) == {kept["report"]["id"]}
    assert search(m["filedescription"]) == {kept["photo"]["id"]}
    assert search("waits gate") == {kept["incident"]["id"]}  # "waiting" by its stem
    assert search(m["description"]) == set()  # the amendment replaced it
    # The advocate reads the case as before.
    case = advocate.get(case_url(case_id, "/timeline")).json()["items"]
    assert m["officer"] in str([item["data"] for item in case])


def test_a_sealed_value_does_not_open_in_another_place(
    app: FastAPI, make_client: ClientFactory
) -> None:
    """Copying one record's sealed description onto another record makes it unreadable,
    rather than showing it there."""
    victim, _, _ = shared_case(app, make_client)
    first = _created(
        victim.post(
            INCIDENTS, json={"occurred_at": at(), "behaviours": ["threats"], "description": "one"}
        )
    )
    second = _created(
        victim.post(
            INCIDENTS, json={"occurred_at": at(1), "behaviours": ["threats"], "description": "two"}
        )
    )
    engine = app.state.runtime.engine
    with transaction(engine, writes=True) as db:
        rows = {row.id: row for row in db.exec(select(Incident)).all()}
        taken = rows[uuid.UUID(first["id"])].description
        rows[uuid.UUID(second["id"])].description = taken
        # Also the witness field of the same record: the field is bound too.
        rows[uuid.UUID(first["id"])].witnesses = taken
    with transaction(engine, writes=False) as db:
        moved = db.exec(select(Incident).where(Incident.id == uuid.UUID(second["id"]))).one()
        with pytest.raises(Exception, match="does not open"):
            incidents.read(db, moved)
        renamed = db.exec(select(Incident).where(Incident.id == uuid.UUID(first["id"]))).one()
        with pytest.raises(Exception, match="does not open"):
            incidents.read(db, renamed)


def _as_before_sealing(app: FastAPI) -> None:
    """Put every sealed value back as plain text, as a database from before sealing held it."""
    with transaction(app.state.runtime.engine, writes=True) as db:
        bodies = _plain_search_bodies(db)
        for user in db.exec(select(User)).all():
            user.email, user.display_name = (
                identities.email_of(db, user),
                identities.name_of(db, user),
            )
            user.email_lookup = None
            db.add(user)
        for incident in db.exec(select(Incident)).all():
            incident_fields = incidents.read(db, incident)
            for name in incidents.SEALED:
                setattr(incident, name, getattr(incident_fields, name))
            db.add(incident)
        for note in db.exec(select(ImpactNote)).all():
            note_public = impact_notes.to_public(db, [note])[0]
            note.description = note_public.description
            note.withdrawn_reason = note_public.withdrawn_reason
            db.add(note)
        for report in db.exec(select(PoliceReport)).all():
            report_fields = police_reports.read(db, report)
            for name in police_reports.SEALED:
                setattr(report, name, getattr(report_fields, name))
            if report_fields.crime_reference:
                report.crime_reference_key = crime_reference_key(report_fields.crime_reference)
            db.add(report)
        for item in db.exec(select(Evidence)).all():
            evidence_public = evidence.to_public(db, [item])[0]
            item.description = evidence_public.description
            item.original_filename = evidence_public.original_filename
            item.sha256 = evidence_public.sha256
            item.file_metadata = evidence_public.file_metadata
            db.add(item)
        for advocate_note in db.exec(select(AdvocateNote)).all():
            advocate_note.body = advocate_notes.body_of(
                sealing.sealer(db, advocate_note.owner_id), advocate_note
            )
            db.add(advocate_note)
        for revision in db.exec(select(RecordRevision)).all():
            revision.data = sealing.sealer(db, revision.owner_id).open_json(
                revision.data,
                table="record_revisions",
                row_id=revision.record_id,
                field=revision.record_kind,
                revision=revision.revision,
            )
            db.add(revision)
        for upload in db.exec(select(Upload)).all():
            key = sealing.sealer(db, upload.owner_id)._key()
            upload.upload_metadata = uploads.metadata_of(upload, key)  # type: ignore[assignment]
            db.add(upload)
        db.flush()
        # The search index as it was: the words themselves.
        for record_id, body in bodies.items():
            db.execute(
                text("UPDATE search_documents SET body = :body WHERE record_id = :id"),
                {"body": body, "id": record_id},
            )


def _plain_search_bodies(db: Any) -> dict[Any, str]:
    bodies: dict[Any, str] = {}
    for incident in db.exec(select(Incident)).all():
        bodies[incident.id] = incidents.search_text(incidents.read(db, incident))
    for note in db.exec(select(ImpactNote)).all():
        bodies[note.id] = impact_notes.read(db, note).description
    for report in db.exec(select(PoliceReport)).all():
        bodies[report.id] = police_reports.search_text(police_reports.read(db, report))
    for item in db.exec(select(Evidence)).all():
        bodies[item.id] = evidence.to_public(db, [item])[0].description
    for advocate_note in db.exec(select(AdvocateNote)).all():
        bodies[advocate_note.id] = advocate_notes.body_of(
            sealing.sealer(db, advocate_note.owner_id), advocate_note
        )
    raw_ids = db.execute(text("SELECT record_id FROM search_documents")).all()
    by_hex = {key.hex: body for key, body in bodies.items()}
    return {
        raw: by_hex.get(raw.hex if isinstance(raw, uuid.UUID) else str(raw).replace("-", ""), "")
        for (raw,) in raw_ids
    }


def test_an_existing_deployment_is_sealed_in_place_resumably(
    app: FastAPI, make_client: ClientFactory, database_url: str, tmp_path: Path
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    m = _markers()
    kept = _keep_every_kind(victim, advocate, case_id, m)
    before = victim.get(TIMELINE, params={"include_withdrawn": "true"}).json()
    email = victim.get("/api/v1/auth/me").json()["email"]
    _as_before_sealing(app)
    raw = _database_bytes(database_url, tmp_path)
    assert m["feelings"].encode() in raw and m["pendingname"].encode() in raw  # plain, as before
    assert email.encode() in raw

    engine, keys = app.state.runtime.engine, app.state.runtime.keys
    # Interrupted after two batches (accounts and incidents done), then run again to the end.
    first = seal_existing(engine, keys, stop_after_batches=2)
    assert sum(first.values()) > 0
    second = seal_existing(engine, keys)
    assert second["users"] == second["incidents"] == 0  # done by the first run, left as it is
    assert all(second[name] > 0 for name in ("evidence", "record_revisions", "uploads"))
    assert seal_existing(engine, keys) == dict.fromkeys(second, 0)  # nothing left to do

    _assert_nothing_readable(
        _database_bytes(database_url, tmp_path), [*m.values(), *PHOTO_SECRETS, email]
    )
    after = victim.get(TIMELINE, params={"include_withdrawn": "true"}).json()
    assert after == before
    assert victim.get("/api/v1/auth/me").json()["email"] == email
    fresh = TestClient(app)
    signed_in = fresh.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text  # found by its new lookup
    found = victim.get(TIMELINE, params={"crime_reference": f"CR/{m['reference']}/26"}).json()
    assert kept["report"]["id"] in {item["id"] for item in found["items"]}
    assert {i["id"] for i in victim.get(TIMELINE, params={"q": m["feelings"]}).json()["items"]} == {
        kept["incident"]["id"]
    }
