"""app/export/pdf.py: timeline.pdf lays its text out itself, so these check what a reader gets.

The person's words come back exactly (brackets and backslashes, which PDF strings escape;
tabs and line breaks; names in other scripts; a word longer than a line), a long chronology
runs over many pages with every page numbered, and the server loads the PDF library only once
a pack is made.
"""

import logging
import re
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.factories.exports import export, pdf_pages, words
from tests.factories.records import at, log_incident
from tests.factories.sharing import signed_in_victim

TRICKY = (
    "He wrote (twice) on the door: \\ no way out \\ and left a note :-) "
    "in Polish „Gdzie ona teraz mieszka?”, Greek Καλησπέρα and Russian Привет."
)
URL = "https://example.org/" + "a-very-long-path-segment-without-spaces-" * 8


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    return signed_in_victim(make_client, display_name="Zoë (Zosia) Ní Bhriain")


def test_the_persons_words_come_back_exactly(victim: TestClient) -> None:
    log_incident(victim, description=TRICKY, location="Back lane\tbehind (the) shops")
    log_incident(victim, occurred_at=at(1), description=f"He sent this link:\r\n{URL}")
    pdf = export(victim).members["timeline.pdf"]
    text = words(" ".join(pdf_pages(pdf)))
    assert words(TRICKY) in text
    assert "Back lane behind (the) shops" in text
    assert "Kept by Zoë (Zosia) Ní Bhriain" in text
    assert "He sent this link:" in text
    # The link is longer than a line, so it is broken across lines, but every character is
    # there, in order.
    assert URL in re.sub(r"\s+", "", " ".join(pdf_pages(pdf)))


def test_a_long_chronology_runs_over_pages_each_numbered(victim: TestClient) -> None:
    # Long enough that descriptions are cut by page breaks.
    story = " ".join(f"Sentence {n} of what happened that evening." for n in range(120))
    for hour in range(12):
        log_incident(victim, occurred_at=at(hour), description=f"Evening {hour}. {story}")
    pages = pdf_pages(export(victim).members["timeline.pdf"])
    assert len(pages) > 12
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    text = words(" ".join(pages))
    for hour in range(12):
        assert f"Evening {hour}. Sentence 0 of" in text
    assert text.count("Sentence 119 of what happened that evening.") == 12


def test_the_server_loads_the_pdf_library_only_when_a_pack_is_made() -> None:
    """fpdf2 and fontTools cost a server process about 20 MiB: not before the first pack.
    And numpy, which fpdf2 would load if it could, not even then."""
    script = textwrap.dedent(
        """
        import sys
        import app.cli, app.main
        assert not {"fpdf", "fontTools"} & set(sys.modules), "loaded at start"
        import app.export.pdf
        assert "fpdf" in sys.modules
        assert "numpy" not in sys.modules, "numpy loaded"
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


class _KeptRecords(logging.Handler):
    """Keeps every record it is given, for reading back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_characters_the_font_lacks_are_not_named_in_the_log(victim: TestClient) -> None:
    """fpdf2 warns of missing glyphs by printing them: the person's words would be in the
    server's log."""
    log_incident(victim, description="他在门口等我 🙂 then he left")
    handler = _KeptRecords()
    fpdf_log = logging.getLogger("fpdf.output")
    level = fpdf_log.level
    fpdf_log.addHandler(handler)
    fpdf_log.setLevel(logging.DEBUG)
    try:
        export(victim)
    finally:
        fpdf_log.removeHandler(handler)
        fpdf_log.setLevel(level)
    messages = " ".join(record.getMessage() for record in handler.records)
    assert "lacks glyphs for some characters" in messages
    for character in "他在门口等我🙂":
        assert character not in messages
        assert character.encode("unicode-escape").decode() not in messages
