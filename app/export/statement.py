"""statement-draft.pdf: a draft statement producing the pack's exhibits, to be checked,
completed and signed by the person who exported it, or used by an officer taking their statement.

It follows the layout of a witness statement (the heading, the declaration, the signature line
on every page) so an officer can copy from it, but it is unsigned and says it is a draft on
every page: Waymark cannot know what the person will swear to. It lists each exhibit with what
it is, how and when it was obtained, its continuity, its SHA-256, and where the original is
kept, and then the chronology (timeline.pdf) as the exhibit after them.
"""

import uuid
from collections import defaultdict
from datetime import datetime

from app.export.content import PackContent
from app.export.pdf import (
    ACCENT,
    Document,
    Style,
    capture_words,
    case_header,
    freed,
    human_size,
)
from app.export.times import short_zone_time, zone_date
from app.models.user import Role

DRAFT = "DRAFT: not signed. To be checked, completed and signed before it is used."
DECLARATION = (
    "This statement (consisting of ___ page(s) each signed by me) is true to the best of my "
    "knowledge and belief and I make it knowing that, if it is tendered in evidence, I shall "
    "be liable to prosecution if I have wilfully stated in it anything which I know to be "
    "false, or do not believe to be true."
)


def render_statement(
    content: PackContent,
    generated_at: datetime,
    *,
    folder: str,
    paths: dict[uuid.UUID, str],
    chronology_sha256: str,
) -> bytes:
    return freed(
        lambda: _rendered(content, generated_at, folder, paths, chronology_sha256),
    )


def _rendered(
    content: PackContent,
    generated_at: datetime,
    folder: str,
    paths: dict[uuid.UUID, str],
    chronology_sha256: str,
) -> bytes:
    maker = content.exported_by.display_name or "the exporter"
    doc = Document(
        f"{DRAFT}  Signature: ____________",
        header_left=case_header(content),
        header_right=f"Draft statement of {maker}",
    )
    doc.add_page()
    doc.paragraph("WITNESS STATEMENT: DRAFT", Style(doc.bold, 18, ACCENT), 9)
    doc.paragraph(
        "Criminal Procedure Rules r 16.2; Criminal Justice Act 1967 s 9; Magistrates' Courts "
        "Act 1980 s 5B",
        Style(doc.regular, 8.5),
        4.5,
    )
    doc.ln(2)
    doc.paragraph(DRAFT, Style(doc.bold, 10), 5.5)
    doc.ln(3)
    doc.field("URN", "____________")
    doc.field("Statement of", maker)
    doc.field("Age if under 18", "____  (if over 18 insert 'over 18')")
    doc.field("Occupation", "____________")
    doc.ln(2)
    doc.paragraph(DECLARATION, doc.body, 5)
    doc.ln(2)
    doc.field("Signature", "____________________  (not signed: this is a draft)")
    doc.field("Date", "____________")
    doc.ln(4)
    for paragraph in _account(content, generated_at, folder):
        doc.paragraph(paragraph, doc.body, 5)
        doc.ln(2)
    _exhibits(doc, content, paths)
    doc.ln(2)
    doc.paragraph(
        f"{content.chronology_exhibit}: timeline.pdf, the chronology of the record, made by "
        "the Waymark service when the pack was exported.",
        Style(doc.bold, 10),
        5.5,
    )
    doc.field("SHA-256", chronology_sha256, _hash_style(doc))
    doc.field("Kept at", f"timeline.pdf in the folder {folder}")
    doc.ln(4)
    doc.field("Signature", "____________________  (not signed: this is a draft)")
    doc.number_pages()
    return bytes(doc.output())


def _hash_style(doc: Document) -> Style:
    """Small enough for 64 hex digits on one line, in the regular face: loading the monospaced
    one as well would cost every pack another font's reading and subsetting (~0.1 s)."""
    return Style(doc.regular, 8)


def _account(content: PackContent, generated_at: datetime, folder: str) -> list[str]:
    victim = content.victim.display_name or "the person who kept the record"
    maker = content.exported_by.display_name or "I"
    start, end = content.period()
    period = f"from {zone_date(start)} to {zone_date(end)}" if start and end else "no dated items"
    if content.exported_by.role == Role.victim:
        who = (
            f"I am {maker}. I keep a record of what has been happening to me in an app called "
            "Waymark: incidents as they happen, my reports to the police, how it is affecting "
            "me, and photos, recordings and other files."
        )
    else:
        who = (
            f"I am {maker}. I support {victim}, who keeps a record of incidents in an app "
            "called Waymark and has allowed me to see it and to export it."
        )
    made = (
        f"At {short_zone_time(generated_at)} I exported an evidence pack of that record from "
        f"the Waymark service. It is the folder {folder}, covering {period}. Each file in it "
        "is listed with its SHA-256 in the file SHA256SUMS, which the service signed; "
        "README.txt in the folder says how to check that nothing has changed."
    )
    produce = (
        f"I produce the following exhibits. Exhibits {content.exhibit_prefix}/1 onwards are "
        "the files as they were uploaded to Waymark, byte for byte; a file's capture time is "
        "what the file itself claims."
        if content.evidence
        else "The pack holds no files apart from the chronology, which I produce as follows."
    )
    return [who, made, produce]


def _exhibits(doc: Document, content: PackContent, paths: dict[uuid.UUID, str]) -> None:
    exhibits = content.exhibits
    incident_times = {i.id: short_zone_time(i.occurred_at) for i in content.incidents}
    uploaded_by = content.victim.display_name or "the person who kept the record"
    exporter = content.exported_by.display_name or "the exporter"
    hash_style = _hash_style(doc)
    linked: dict[uuid.UUID, list[str]] = defaultdict(list)
    for item in content.evidence:
        for incident_id in item.incident_ids:
            if incident_id in incident_times:
                linked[item.id].append(incident_times[incident_id])
    for item in content.evidence:
        if doc.get_y() > doc.h - 70:
            doc.add_page()
        doc.paragraph(f"{exhibits[item.id]}: {item.original_filename}", Style(doc.bold, 10), 5.5)
        what = f"{item.media_type}, {human_size(item.size)}"
        doc.field("What it is", f"{what}. {item.description}" if item.description else what)
        uploaded = short_zone_time(item.uploaded_at)
        doc.field("Obtained", f"uploaded to Waymark by {uploaded_by}, {uploaded}")
        doc.field("Captured", capture_words(item, content))
        doc.field("For incidents", "; ".join(linked[item.id]) or None)
        doc.field(
            "Continuity",
            "kept encrypted by the Waymark service from its upload; exported unchanged by "
            f"{exporter} into this pack (audit.json records every step)",
        )
        doc.field("SHA-256", item.sha256, hash_style)
        doc.field("Kept at", paths[item.id])
        doc.ln(2)
