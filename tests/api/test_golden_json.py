"""Golden outputs: the exact bytes every read of a record gives, for one fixed log.

A victim's log is kept through the API with fixed ids and a fixed clock: incidents (linked to
police reports with and without crime references, and to files), impact notes, police reports,
evidence with the claims its file makes, and two advocates' notes, with records amended and
withdrawn among them. Then every route that reads them is asked, and each response's body is
compared byte for byte with the file of the same name under tests/golden/read_model/: the
victim's timeline (filters, search, pages), each kind's list, single-item and revisions
routes, the responses to the writes themselves, the advocate's case timeline, incident and
evidence, and the packs' timeline.json and timeline.csv (a pack's zip holds its own time, so
those two members are compared, not the zip).

The files were made before the read path was rebuilt (one read model per kind), so any change
a refactor makes to what a client receives shows here, on SQLite and PostgreSQL alike. The
goldens are the same for both databases: every order the outputs show is fixed by the data
(distinct times, or ties broken by kind and id).

When a change to the output is intended, write the files again and review the diff:

    WAYMARK_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/api/test_golden_json.py

(the test then skips, saying so). Files no longer produced are removed.
"""

import difflib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.organisation import Organisation
from app.models.user import Role
from app.services import identities, passwords
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, login
from tests.factories.clock import FixedUtcNow, fix_utcnow
from tests.factories.evidence import (
    EVIDENCE,
    call_log_csv,
    send_evidence,
    text_note,
)
from tests.factories.exports import PACK, case_pack_url, open_pack
from tests.factories.records import (
    IMPACT_NOTES,
    INCIDENTS,
    POLICE_REPORTS,
    TIMELINE,
    at,
)
from tests.factories.sharing import SHARES, case_url, invite, write_note

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "read_model"
REGENERATE = os.environ.get("WAYMARK_REGENERATE_GOLDEN") == "1"

# The photo is kept as a file, not made at run time: an encoder's next version may write other
# bytes, which would change its hash in every output.
PHOTO = GOLDEN / "photo.jpg"

# The server's clock while the log is kept: each write gets its own minute.
WRITTEN_FROM = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)


def _id(kind: int, n: int) -> str:
    return str(uuid.UUID(f"{kind:08x}-0000-4000-8000-{n:012x}"))


VICTIM_ID, ADVOCATE_ID, OTHER_ADVOCATE_ID = _id(9, 1), _id(9, 2), _id(9, 3)
I_LIBRARY, I_MESSAGES, I_GIFTS, I_DUPLICATE = (_id(1, n) for n in range(1, 5))
N_SLEEP, N_WORK, N_WITHDRAWN = (_id(2, n) for n in range(1, 4))
R_FIRST, R_NO_REFERENCE, R_WITHDRAWN = (_id(3, n) for n in range(1, 4))
E_PHOTO, E_NOTE, E_CALL_LOG = (_id(4, n) for n in range(1, 4))
A_NOTE, A_OTHER_NOTE = _id(5, 1), _id(5, 2)


class Recorder:
    """The bodies of the responses, by golden file name, in the order they were asked for."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}

    def keep(self, name: str, response: Any, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, (name, response.text)
        assert name not in self.bodies, name
        self.bodies[name] = response.content
        body: dict[str, Any] = response.json() if response.content[:1] == b"{" else {}
        return body

    def get(self, name: str, client: TestClient, url: str, **params: Any) -> dict[str, Any]:
        return self.keep(name, client.get(url, params=params))

    def pages(self, name: str, client: TestClient, url: str, **params: Any) -> None:
        """Every page of a paged list, following next_cursor: name-page-1.json, …"""
        cursor: str | None = None
        for n in range(1, 50):
            page = self.get(
                f"{name}-page-{n}", client, url, **params, **({"cursor": cursor} if cursor else {})
            )
            cursor = page["next_cursor"]
            if cursor is None:
                return
        raise AssertionError("the cursor never ran out")

    def pack(self, name: str, client: TestClient, url: str, **params: str) -> None:
        response = client.get(url, params=params)
        assert response.status_code == 200, (name, response.text)
        members = open_pack(response.content).members
        self.bodies[f"{name}.timeline.json"] = members["timeline.json"]
        self.bodies[f"{name}.timeline.csv"] = members["timeline.csv"]


def _account(
    app: FastAPI,
    make_client: ClientFactory,
    user_id: str,
    role: Role,
    display_name: str,
    organisation_id: uuid.UUID | None = None,
) -> TestClient:
    """An account with a fixed id (its id shows in revisions and on advocates' notes), made as
    accounts.create makes one, then signed in through the API."""
    email = f"golden-{user_id[-4:]}@example.org"
    with Session(app.state.runtime.engine) as db:
        identities.new_user(
            db,
            user_id=uuid.UUID(user_id),
            email=email,
            display_name=display_name,
            password_hash=passwords.hash_password(STRONG_PASSWORD),
            role=role,
            organisation_id=organisation_id,
        )
        db.commit()
    client = make_client()
    login(client, email)
    return client


def _organisation(app: FastAPI) -> uuid.UUID:
    with Session(app.state.runtime.engine) as db:
        organisation = Organisation(name="Crossroads")
        db.add(organisation)
        db.commit()
        return organisation.id


def _share(victim: TestClient, advocate: TestClient, *, can_export: bool) -> str:
    response = victim.post(
        SHARES, json={"code": invite(advocate)["code"], "can_export": can_export}
    )
    assert response.status_code == 201, response.text
    share_id: str = response.json()["id"]
    return share_id


def _keep_log(
    app: FastAPI,
    make_client: ClientFactory,
    clock: FixedUtcNow,
    out: Recorder,
) -> tuple[TestClient, TestClient, str]:
    """The fixed log; every write's response is kept too (write/…). Returns the victim, the
    advocate and the advocate's case id."""
    minute = iter(range(1, 1000))

    def tick() -> None:
        clock.set(WRITTEN_FROM + timedelta(minutes=next(minute)))

    organisation = _organisation(app)
    victim = _account(app, make_client, VICTIM_ID, Role.victim, "Robin Hartley")
    advocate = _account(app, make_client, ADVOCATE_ID, Role.advocate, "Sam", organisation)
    other = _account(app, make_client, OTHER_ADVOCATE_ID, Role.advocate, "Jo", organisation)
    tick()
    case_id = _share(victim, advocate, can_export=True)
    other_case_id = _share(victim, other, can_export=False)

    def post(name: str, url: str, body: dict[str, Any]) -> None:
        tick()
        out.keep(f"write/{name}", victim.post(url, json=body), 201)

    def patch(name: str, url: str, body: dict[str, Any]) -> None:
        tick()
        out.keep(f"write/{name}", victim.patch(url, json=body))

    def withdraw(name: str, url: str, reason: str) -> None:
        tick()
        out.keep(f"write/{name}", victim.request("DELETE", url, json={"reason": reason}))

    def upload(name: str, content: bytes, **options: Any) -> None:
        tick()
        out.keep(f"write/{name}", send_evidence(victim, content, **options), 201)

    post(
        "incident-library",
        INCIDENTS,
        {
            "id": I_LIBRARY,
            "occurred_at": at(-48, offset_hours=1),
            "behaviours": ["threats", "turning_up"],
            "channel": "in_person",
            "location": "Outside the library on Mill Road",
            "description": "He was waiting by the bike racks when I came out. "
            "He said he would 'see me at home'. " * 3,
            "witnesses": "Priya from the front desk",
            "feelings": "Shaking all the way home.",
        },
    )
    post(
        "incident-messages",
        INCIDENTS,
        {
            "id": I_MESSAGES,
            "occurred_at": at(-24, offset_hours=-5),
            "occurred_until": at(-22, offset_hours=-5),
            "time_is_approximate": True,
            "behaviours": ["contacting"],
            "channel": "text_message",
            "description": "Forty texts from a new number.",
        },
    )
    post(
        "incident-gifts",
        INCIDENTS,
        {
            "id": I_GIFTS,
            "occurred_at": at(-12),
            "behaviours": ["gifts", "property"],
            "description": "Flowers left on the car.",
        },
    )
    post(
        "incident-duplicate",
        INCIDENTS,
        {"id": I_DUPLICATE, "occurred_at": at(-12), "behaviours": ["gifts"]},
    )
    # At the same instant as the messages began (in another offset): kinds break the tie.
    post(
        "impact-note-sleep",
        IMPACT_NOTES,
        {
            "id": N_SLEEP,
            "noted_at": at(-24, offset_hours=2),
            "areas": ["sleep", "fear_of_violence"],
            "description": "I wake at every car door.",
        },
    )
    post(
        "impact-note-work",
        IMPACT_NOTES,
        {
            "id": N_WORK,
            "noted_at": at(-6),
            "areas": ["work_or_study"],
            "description": "I asked to work from home.",
        },
    )
    post(
        "impact-note-withdrawn",
        IMPACT_NOTES,
        {"id": N_WITHDRAWN, "noted_at": at(-5), "areas": ["other"], "description": "Twice."},
    )
    post(
        "police-report-first",
        POLICE_REPORTS,
        {
            "id": R_FIRST,
            "crime_reference": "CR/123456/26",
            "reported_at": at(-20, offset_hours=1),
            "force": "Cambridgeshire Constabulary",
            "officer": "PC Patel",
            "method": "non_emergency_101",
            "notes": "Officer said to keep logging everything.",
            "incident_ids": [I_MESSAGES, I_LIBRARY],
        },
    )
    post(
        "police-report-no-reference",
        POLICE_REPORTS,
        {
            "id": R_NO_REFERENCE,
            "reported_at": at(-10),
            "method": "online",
            "incident_ids": [I_GIFTS],
        },
    )
    post(
        "police-report-withdrawn",
        POLICE_REPORTS,
        {
            "id": R_WITHDRAWN,
            "crime_reference": "CR/777/26",
            "reported_at": at(-9),
            "method": "in_person",
            "incident_ids": [I_LIBRARY],
        },
    )
    upload(
        "evidence-photo",
        PHOTO.read_bytes(),
        filename="door.jpg",
        content_type="image/jpeg",
        description="The flowers, and the note with them.",
        incident_ids=[I_GIFTS, I_LIBRARY],
        evidence_id=E_PHOTO,
    )
    upload(
        "evidence-note",
        text_note(),
        filename="what he said.txt",
        incident_ids=[I_LIBRARY],
        evidence_id=E_NOTE,
    )
    upload(
        "evidence-call-log",
        call_log_csv(),
        filename="calls.csv",
        incident_ids=[I_MESSAGES],
        evidence_id=E_CALL_LOG,
    )
    patch(
        "incident-gifts-amended",
        f"{INCIDENTS}/{I_GIFTS}",
        {"description": "Flowers left on the car, with a card.", "witnesses": "Next door"},
    )
    patch(
        "impact-note-work-amended",
        f"{IMPACT_NOTES}/{N_WORK}",
        {"areas": ["work_or_study", "finances"]},
    )
    patch(
        "police-report-no-reference-amended",
        f"{POLICE_REPORTS}/{R_NO_REFERENCE}",
        {"officer": "PC Moss", "incident_ids": [I_GIFTS, I_MESSAGES]},
    )
    patch(
        "evidence-note-amended", f"{EVIDENCE}/{E_NOTE}", {"description": "Written the same night."}
    )
    withdraw("incident-duplicate-withdrawn", f"{INCIDENTS}/{I_DUPLICATE}", "Logged twice")
    withdraw("impact-note-withdrawn-withdrawn", f"{IMPACT_NOTES}/{N_WITHDRAWN}", "Not needed")
    withdraw("police-report-withdrawn-withdrawn", f"{POLICE_REPORTS}/{R_WITHDRAWN}", "Wrong force")
    withdraw("evidence-call-log-withdrawn", f"{EVIDENCE}/{E_CALL_LOG}", "Wrong phone")
    tick()
    out.keep(
        "write/advocate-note",
        write_note(advocate, case_id, "Called Robin; safety plan next week.", A_NOTE),
        201,
    )
    tick()
    out.keep(
        "write/other-advocate-note",
        write_note(other, other_case_id, "Housing referral made.", A_OTHER_NOTE),
        201,
    )
    tick()
    return victim, advocate, case_id


def _read_everything(victim: TestClient, advocate: TestClient, case_id: str, out: Recorder) -> None:
    # The victim's timeline.
    out.get("timeline/all", victim, TIMELINE)
    out.get(
        "timeline/desc-with-withdrawn", victim, TIMELINE, order="desc", include_withdrawn="true"
    )
    out.get("timeline/search-library", victim, TIMELINE, q="library")
    out.get(
        "timeline/search-flowers-with-withdrawn",
        victim,
        TIMELINE,
        q="flowers",
        include_withdrawn="true",
    )
    out.get("timeline/crime-reference", victim, TIMELINE, crime_reference=" cr/123456/26 ")
    out.get("timeline/kinds", victim, TIMELINE, kinds="incident,evidence")
    out.get("timeline/behaviours", victim, TIMELINE, behaviours="gifts,threats")
    out.get("timeline/period", victim, TIMELINE, **{"from": at(-24), "to": at(-6)})
    out.pages("timeline/limit-3", victim, TIMELINE, limit=3)
    out.pages(
        "timeline/limit-2-desc-with-withdrawn",
        victim,
        TIMELINE,
        limit=2,
        order="desc",
        include_withdrawn="true",
    )

    # Each kind: its list, each record, its revisions.
    records = {
        "incidents": (INCIDENTS, [I_LIBRARY, I_MESSAGES, I_GIFTS, I_DUPLICATE]),
        "impact-notes": (IMPACT_NOTES, [N_SLEEP, N_WORK, N_WITHDRAWN]),
        "police-reports": (POLICE_REPORTS, [R_FIRST, R_NO_REFERENCE, R_WITHDRAWN]),
        "evidence": (EVIDENCE, [E_PHOTO, E_NOTE, E_CALL_LOG]),
    }
    for name, (url, ids) in records.items():
        out.get(f"{name}/list", victim, url)
        out.get(
            f"{name}/list-desc-with-withdrawn", victim, url, order="desc", include_withdrawn="true"
        )
        out.pages(f"{name}/list-limit-2", victim, url, limit=2)
        for record_id in ids:
            out.get(f"{name}/{record_id}", victim, f"{url}/{record_id}")
            out.get(f"{name}/{record_id}.revisions", victim, f"{url}/{record_id}/revisions")

    # The advocate's case.
    out.get("case/timeline", advocate, case_url(case_id, "/timeline"))
    out.get("case/timeline-search", advocate, case_url(case_id, "/timeline"), q="library")
    out.get(
        "case/timeline-kinds",
        advocate,
        case_url(case_id, "/timeline"),
        kinds="advocate_note,police_report",
    )
    out.get(
        "case/timeline-crime-reference",
        advocate,
        case_url(case_id, "/timeline"),
        crime_reference="CR/123456/26",
    )
    out.pages(
        "case/timeline-limit-4-desc",
        advocate,
        case_url(case_id, "/timeline"),
        limit=4,
        order="desc",
    )
    for incident_id in (I_LIBRARY, I_MESSAGES, I_GIFTS):
        out.get(
            f"case/incident-{incident_id}", advocate, case_url(case_id, f"/incidents/{incident_id}")
        )
    for evidence_id in (E_PHOTO, E_NOTE):
        out.get(
            f"case/evidence-{evidence_id}", advocate, case_url(case_id, f"/evidence/{evidence_id}")
        )
    out.get("case/notes", advocate, case_url(case_id, "/notes"))

    # The packs.
    # Advocate notes only when asked for: this pack asks, the others do not.
    out.pack("pack/victim", victim, PACK, include="impact_notes,evidence,advocate_notes")
    out.pack("pack/victim-crime-reference", victim, PACK, crime_reference="cr/123456/26")
    out.pack(
        "pack/victim-period-no-notes",
        victim,
        PACK,
        **{"from": at(-30), "to": at(-8), "include": "evidence"},
    )
    out.pack("pack/case", advocate, case_pack_url(case_id))


def _path(name: str) -> Path:
    suffix = "" if name.endswith((".json", ".csv")) else ".json"
    return GOLDEN / f"{name}{suffix}"


def _readable(data: bytes) -> list[str]:
    """For the failure message: JSON laid out a key a line; anything else as it is."""
    try:
        return json.dumps(json.loads(data), indent=1, ensure_ascii=False).splitlines()
    except ValueError:
        return data.decode("utf-8", "replace").splitlines()


def _write(bodies: dict[str, bytes]) -> None:
    wanted = {_path(name) for name in bodies}
    for stale in GOLDEN.rglob("*"):
        if stale.is_file() and stale != PHOTO and stale not in wanted:
            stale.unlink()
    for name, body in bodies.items():
        _path(name).parent.mkdir(parents=True, exist_ok=True)
        _path(name).write_bytes(body)


def _differences(bodies: dict[str, bytes]) -> list[str]:
    problems: list[str] = []
    kept = {p for p in GOLDEN.rglob("*") if p.is_file() and p != PHOTO}
    for missing in sorted(kept - {_path(name) for name in bodies}):
        problems.append(f"{missing.relative_to(GOLDEN)}: no longer produced")
    for name, body in bodies.items():
        path = _path(name)
        if not path.exists():
            problems.append(f"{name}: no golden file")
            continue
        expected = path.read_bytes()
        if expected != body:
            diff = difflib.unified_diff(
                _readable(expected), _readable(body), "golden", "now", lineterm="", n=2
            )
            problems.append(f"{name}: bytes differ\n" + "\n".join(list(diff)[:60]))
    return problems


def test_every_read_of_a_record_gives_the_golden_bytes(
    app: FastAPI, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = fix_utcnow(monkeypatch, WRITTEN_FROM)
    out = Recorder()
    victim, advocate, case_id = _keep_log(app, make_client, clock, out)
    _read_everything(victim, advocate, case_id, out)

    if REGENERATE:
        _write(out.bodies)
        pytest.skip(f"golden outputs written to {GOLDEN} ({len(out.bodies)} files)")
    problems = _differences(out.bodies)
    assert not problems, "\n\n".join(problems)


def test_the_golden_log_holds_every_kind_and_state() -> None:
    """The goldens are only as good as the log behind them: every kind, amended and withdrawn
    records, links both ways, a withdrawn report's reference and a withdrawn file."""
    timeline = json.loads(_path("timeline/desc-with-withdrawn").read_bytes())["items"]
    kinds = {item["kind"] for item in timeline}
    assert kinds == {"incident", "impact_note", "police_report", "evidence", "advocate_note"}

    def data(record_id: str) -> dict[str, Any]:
        found: dict[str, Any] = next(i["data"] for i in timeline if i["id"] == record_id)
        return found

    assert data(I_GIFTS)["revision"] == 2 and data(I_DUPLICATE)["withdrawn"] is True
    assert data(E_PHOTO)["metadata"] and data(E_PHOTO)["has_thumbnail"] is True
    assert data(E_CALL_LOG)["withdrawn"] is True
    # The withdrawn report's reference and the withdrawn file are not the incident's.
    assert data(I_LIBRARY)["crime_references"] == ["CR/123456/26"]
    assert data(I_MESSAGES)["evidence_ids"] == []
    assert data(I_LIBRARY)["evidence_ids"] == [E_PHOTO, E_NOTE]
    assert data(R_NO_REFERENCE)["incident_ids"] == sorted([I_GIFTS, I_MESSAGES])
