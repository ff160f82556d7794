"""The few fpdf2 internals the PDF chronology relies on still work as it expects
(app/export/fpdf_internals.py; docs/adr/0001-hand-laid-pdf-on-fpdf2-internals.md). After an fpdf2
upgrade this test names what changed, before any pack comes out wrong."""

import pytest

from app.export import (
    fpdf_internals,
    pdf,  # imports fpdf2 the way the app does (without numpy)
)


def test_every_fpdf2_internal_the_pdf_uses_still_works() -> None:
    font_file = pdf.FONT_DIR / pdf.FONT_FILES["DejaVu", ""]
    problems = fpdf_internals.check(font_file)
    assert not problems, "fpdf2's internals changed:\n" + "\n".join(problems)


def test_the_check_reports_a_missing_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: with one internal gone it says which."""
    monkeypatch.delattr(pdf.Document.__mro__[1], "_set_font_for_page")  # fpdf2's FPDF
    problems = fpdf_internals.check(pdf.FONT_DIR / pdf.FONT_FILES["DejaVu", ""])
    assert any("_set_font_for_page" in problem for problem in problems), problems
