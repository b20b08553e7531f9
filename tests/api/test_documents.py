"""Evidence documents: content-addressed, type-checked by their bytes, size-limited, visible to the
uploader's organisation and the reviewers only."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from registry.context import Registry
from tests.support import People, make_user

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n"


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    return People(client, {name: make_user(registry, name, [role]) for name, role in
                           (("owner", "owner"), ("other", "owner"), ("center", "center"))})


def _upload(client: TestClient, headers: dict[str, str], content: bytes, media_type: str = "application/pdf",
            name: str = "report.pdf") -> object:
    return client.post("/documents", headers=headers, files={"file": (name, content, media_type)})


def test_upload_names_the_document_by_its_digest(client: TestClient, people: People) -> None:
    response = _upload(client, people["owner"], PDF)
    assert response.status_code == 201  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size_bytes"] == len(PDF)
    again = _upload(client, people["owner"], PDF, name="copy.pdf").json()  # type: ignore[attr-defined]
    assert again["sha256"] == body["sha256"]
    download = client.get(f"/documents/{body['sha256']}", headers=people["owner"])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["x-content-type-options"] == "nosniff"


def test_only_the_uploader_and_reviewers_see_it(client: TestClient, people: People) -> None:
    digest = _upload(client, people["owner"], PDF).json()["sha256"]  # type: ignore[attr-defined]
    assert client.get(f"/documents/{digest}", headers=people["other"]).status_code == 404
    assert client.get(f"/documents/{digest}", headers=people["center"]).status_code == 200
    assert client.get(f"/documents/{digest}").status_code == 401


@pytest.mark.parametrize("content,media_type", [
    (b"MZ\x90\x00 not a pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n....", "image/jpeg"),
    (b"<html></html>", "text/html"),
    (b"a,b\n1,\x00", "text/csv"),
])
def test_content_must_match_an_allowed_type(client: TestClient, people: People, content: bytes,
                                            media_type: str) -> None:
    response = _upload(client, people["owner"], content, media_type)
    assert response.status_code == 422  # type: ignore[attr-defined]


def test_allowed_images_and_csv(client: TestClient, people: People) -> None:
    assert _upload(client, people["owner"], b"\x89PNG\r\n\x1a\nrest", "image/png").status_code == 201  # type: ignore[attr-defined]
    assert _upload(client, people["owner"], b"meter,kwh\nA,1\n", "text/csv").status_code == 201  # type: ignore[attr-defined]


def test_size_limit_both_sides(client: TestClient, people: People) -> None:
    limit = client.app.state.services.settings.max_document_bytes  # type: ignore[attr-defined]
    at_limit = PDF + b"0" * (limit - len(PDF))
    assert _upload(client, people["owner"], at_limit).status_code == 201  # type: ignore[attr-defined]
    over = _upload(client, people["owner"], at_limit + b"0").status_code  # type: ignore[attr-defined]
    assert over in (413, 422)


def test_empty_file_and_bad_digest(client: TestClient, people: People) -> None:
    assert _upload(client, people["owner"], b"").status_code == 422  # type: ignore[attr-defined]
    assert client.get("/documents/not-a-digest", headers=people["owner"]).status_code == 422


def test_the_same_bytes_uploaded_twice_reveal_nothing(client: TestClient, people: People) -> None:
    first = _upload(client, people["owner"], PDF, name="secret-plan.pdf").json()  # type: ignore[attr-defined]
    second = _upload(client, people["other"], PDF, name="mine.pdf").json()  # type: ignore[attr-defined]
    assert second["sha256"] == first["sha256"] and second["filename"] == "mine.pdf"
    meta = client.get(f"/documents/{first['sha256']}/meta", headers=people["other"])
    assert meta.status_code == 200 and meta.json()["filename"] == "mine.pdf"
