from fastapi.testclient import TestClient


def test_health_reports_database_and_storage(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["storage"] == "ok"
    assert body["version"]
    assert response.headers["cache-control"] == "no-store"
