"""Evidence documents in content-addressed storage."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import Response

from api.answers.documents import DOCUMENT_FILE, DocumentOut, document_out
from api.deps import Services, allow, get_services
from api.schemas import ORGANISATION_ROLES, Sha256, checked_text
from registry.errors import InvalidInput
from registry.principals import Principal
from registry.services import documents as service

router = APIRouter(prefix="/documents", tags=["documents"])
UPLOADERS = ORGANISATION_ROLES


@router.post("", status_code=201, response_model=DocumentOut)
def upload_document(file: UploadFile = File(...), principal: Principal = Depends(allow(*UPLOADERS)),
                    services: Services = Depends(get_services)) -> DocumentOut:
    """Upload evidence (PDF, PNG, JPEG, CSV, text, XLSX, DOCX); the answer names it by SHA-256."""
    limit = services.settings.max_document_bytes
    data = file.file.read(limit + 1)
    # The part's name and type come from its own headers, not from a pydantic field: the same text rule.
    filename = checked_text(file.filename or "upload", ("body", "file", "filename"))
    media_type = checked_text(file.content_type or "", ("body", "file", "content_type")).split(";")[0].strip().lower()
    if not media_type:
        raise InvalidInput("The upload has no media type.", "上传文件缺少媒体类型。")
    with services.registry.uow(principal) as uow:
        doc, grant = service.upload(uow, services.registry.documents, principal,
                                    filename=filename, media_type=media_type, data=data,
                                    max_bytes=limit)
        return document_out(doc, grant)


@router.get("/{sha256}/meta", response_model=DocumentOut)
def document_meta(sha256: Sha256, principal: Principal = Depends(allow(*UPLOADERS)),
                  services: Services = Depends(get_services)) -> DocumentOut:
    with services.registry.uow(principal) as uow:
        return document_out(*service.get_visible(uow, principal, sha256))


@router.get("/{sha256}", response_class=Response, responses=DOCUMENT_FILE)
def download_document(sha256: Sha256, principal: Principal = Depends(allow(*UPLOADERS)),
                      services: Services = Depends(get_services)) -> Response:
    """The bytes, to the uploader's organisation and the reviewers."""
    with services.registry.uow(principal) as uow:
        doc, _ = service.get_visible(uow, principal, sha256)
        digest, media_type = doc.sha256, doc.media_type
    data = services.registry.documents.get(digest)
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{digest}"',
        "X-Content-Type-Options": "nosniff",
    })
