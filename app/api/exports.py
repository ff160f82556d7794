"""Evidence packs for the police: a streamed zip with its exact size
(docs/adr/0006-pack-format.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field

from app.api.deps import CurrentVictim, RuntimeDep, SessionDep, writes_on_read
from app.api.pages import comma_separated
from app.errors import InvalidInput
from app.export.content import DEFAULT_INCLUDE, Include, PackFilters
from app.export.exports import export_pack
from app.export.pack import Pack, grouped
from app.services.downloads import content_disposition
from app.storage.crypto import key_fingerprint, public_key_pem

router = APIRouter(tags=["exports"])

ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "The evidence pack."}
}


def pack_filters(
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    crime_reference: Annotated[str | None, Query(max_length=64)] = None,
    include: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Any of impact_notes,evidence,advocate_notes; impact_notes,evidence "
            "if not given (advocate notes only when asked for).",
        ),
    ] = None,
    exhibit_prefix: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{1,6}$",
            description="The letters of the exhibit references (AH gives AH/1, AH/2…); "
            "the exporter's initials by default.",
        ),
    ] = None,
    case_label: Annotated[
        str | None,
        Query(
            max_length=100,
            description="How every page of the PDF names the case; the name of the person "
            "who kept the log by default.",
        ),
    ] = None,
) -> PackFilters:
    if start and end and end <= start:
        raise InvalidInput("'to' must be after 'from'.", field="to", where="query")
    chosen = (
        frozenset(comma_separated(include, Include, "include"))
        if include is not None
        else DEFAULT_INCLUDE
    )
    return PackFilters(
        start=start,
        end=end,
        crime_reference=(crime_reference or "").strip() or None,
        include=chosen,
        exhibit_prefix=exhibit_prefix.upper() if exhibit_prefix else None,
        case_label=" ".join((case_label or "").split()) or None,
    )


PackFiltersDep = Annotated[PackFilters, Depends(pack_filters)]


def pack_response(pack: Pack) -> StreamingResponse:
    return StreamingResponse(
        pack.chunks,
        media_type="application/zip",
        headers={
            "Content-Length": str(pack.size),
            "Content-Disposition": content_disposition(pack.filename),
        },
    )


@router.get(
    "/exports/pack",
    response_class=StreamingResponse,
    responses=ZIP_RESPONSES,
    dependencies=[Depends(writes_on_read)],
)
def export_own_pack(
    victim: CurrentVictim, filters: PackFiltersDep, db: SessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    """Your evidence pack: PDF chronology, originals, hashes and a signature."""
    pack = export_pack(db, victim, victim, filters, store=runtime.blob_store, keys=runtime.keys)
    return pack_response(pack)


class SigningKey(BaseModel):
    pem: str = Field(description="The Ed25519 public key, PEM (SubjectPublicKeyInfo).")
    fingerprint: str = Field(
        description="SHA-256 of the key's DER SubjectPublicKeyInfo, lower-case hex in 16 "
        "groups of four: what `openssl pkey -pubin -in signing-key.pub -outform DER | "
        "sha256sum` prints, with spaces."
    )


@router.get("/signing-key")
def signing_key(runtime: RuntimeDep) -> SigningKey:
    """The public key evidence packs are signed with, and its fingerprint, for an officer to
    compare with the signing-key.pub in a pack."""
    public = runtime.keys.signing_key.public_key()
    return SigningKey(
        pem=public_key_pem(public).decode(), fingerprint=grouped(key_fingerprint(public))
    )
