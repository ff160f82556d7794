"""The sidecar JSON beside each original: what a force evidence portal needs to keep with a
file uploaded on its own (exhibit reference, capture time and where it came from, SHA-256)."""

import hashlib
import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.factories.evidence import PhotoClaims, jpeg_photo, text_note, upload_evidence
from tests.factories.exports import export
from tests.factories.records import log_incident, record_police_report
from tests.factories.sharing import signed_in_victim


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    client = signed_in_victim(make_client, display_name="Alice Hart")
    incident = log_incident(
        client, occurred_at="2026-08-03T22:15:00+01:00", description="Followed from the station."
    )
    record_police_report(client, crime_reference="CR/123456/26", incident_ids=[incident["id"]])
    upload_evidence(
        client,
        jpeg_photo(PhotoClaims(taken="2026:08:03 22:20:00", offset=None)),
        filename="car park.jpg",
        description="His car in the station car park.",
        incident_ids=[incident["id"]],
    )
    upload_evidence(client, text_note(), filename="notes.txt")
    return client


def test_each_original_has_a_sidecar_beside_it(victim: TestClient) -> None:
    pack = export(victim)
    assert len(pack.evidence_paths) == 2
    sums = pack.members["SHA256SUMS"].decode()
    for path, side in zip(pack.evidence_paths, pack.sidecar_paths, strict=True):
        assert side in pack.members
        card = json.loads(pack.members[side])
        assert card["file"] == path.rsplit("/", 1)[1]
        assert card["sha256"] == hashlib.sha256(pack.members[path]).hexdigest()
        assert card["size"] == len(pack.members[path])
        assert card["case"] == "Alice Hart"
        assert card["crime_references"] == ["CR/123456/26"]
        assert card["pack"] == pack.folder
        # Both the original and its sidecar are covered by the signed SHA256SUMS.
        assert f"  {path}\n" in sums and f"  {side}\n" in sums
    photo = json.loads(pack.members[pack.sidecar_paths[0]])
    assert photo["exhibit"] == "AH/1"
    assert photo["original_filename"] == "car park.jpg"
    assert photo["captured_at"] == "2026-08-03T21:20:00Z"
    assert photo["captured_uk_time"] == "03 Aug 2026 22:20 BST"
    assert "read as UK time" in photo["capture_time_source"]
    assert photo["source"] == "uploaded to Waymark by Alice Hart"
    assert photo["description"] == "His car in the station car park."
    assert photo["file_metadata"]["device_model"] == "Pixel 8"
    assert [i["uk_time"] for i in photo["incidents"]] == ["03 Aug 2026 22:15 BST"]
    notes = json.loads(pack.members[pack.sidecar_paths[1]])
    assert notes["exhibit"] == "AH/2"
    assert notes["captured_at"] is None
    assert notes["capture_time_source"] == "no capture time in the file"
    assert notes["incidents"] == []
