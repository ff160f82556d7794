"""The timeline's items are typed in the OpenAPI document (one schema per kind, told apart by
`kind`), and real pages, the victim's and the advocate's, match those schemas."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.models.timeline import TimelinePagePublic
from tests.conftest import ClientFactory
from tests.factories.evidence import jpeg_photo, upload_evidence
from tests.factories.records import IMPACT_NOTES, INCIDENTS, POLICE_REPORTS, TIMELINE, at
from tests.factories.sharing import case_url, shared_case, write_note

KINDS = {"incident", "impact_note", "police_report", "evidence", "advocate_note"}


def _items_schema(client: TestClient, path: str) -> dict[str, Any]:
    document = client.get("/api/v1/openapi.json").json()
    response = document["paths"][path]["get"]["responses"]["200"]
    reference = response["content"]["application/json"]["schema"]["$ref"]
    page = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    items: dict[str, Any] = page["properties"]["items"]["items"]
    return items


def test_the_openapi_document_types_every_kind_of_item(client: TestClient) -> None:
    for path in ("/api/v1/timeline", "/api/v1/cases/{case_id}/timeline"):
        items = _items_schema(client, path)
        assert items["discriminator"]["propertyName"] == "kind"
        assert set(items["discriminator"]["mapping"]) == KINDS
        assert len(items["oneOf"]) == len(KINDS)


def test_real_pages_match_the_documented_schemas(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    incident = victim.post(
        INCIDENTS, json={"occurred_at": at(), "behaviours": ["threats"], "description": "He came."}
    ).json()
    victim.post(
        IMPACT_NOTES, json={"noted_at": at(1), "areas": ["sleep"], "description": "No sleep."}
    )
    victim.post(
        POLICE_REPORTS,
        json={
            "reported_at": at(2),
            "method": "online",
            "crime_reference": "CR/1/26",
            "incident_ids": [incident["id"]],
        },
    )
    upload_evidence(victim, jpeg_photo(), filename="door.jpg", description="At the door")
    assert write_note(advocate, case_id, "Called back.").status_code == 201
    adapter = TypeAdapter(TimelinePagePublic)
    for client, url in ((victim, TIMELINE), (advocate, case_url(case_id, "/timeline"))):
        body = client.get(url).json()
        page = adapter.validate_python(body)
        assert {item.kind for item in page.items} == KINDS
        # Nothing the schema does not describe, and nothing it describes left out.
        assert adapter.dump_python(page, mode="json", by_alias=True) == body
