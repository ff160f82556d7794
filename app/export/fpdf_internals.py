"""Every use of fpdf2 beyond its documented API, in one place
(docs/adr/0001-hand-laid-pdf-on-fpdf2-internals.md).

pdf.py lays its text out itself, because fpdf2's own text methods cost too much for a
chronology of thousands of incidents, and so it needs a few of fpdf2's internals:

- a font's advance widths and the width of a missing glyph (TTFFont.cw, TTFFont.desc),
- a character's two-byte code in the document's subset of a font (TTFFont.subset.pick),
- the font's resource number (TTFFont.i) and listing the font in a page's resources
  (FPDF._set_font_for_page),
- a page's size in points (FPDF.pages[n].dimensions()),
- raw operators on the current page's content stream (FPDF._out),
- the font object fpdf2 made from a file (FPDF.fonts[key]).

pyproject.toml pins fpdf2 to the minor version these were read from; `check` exercises each one
on a document of its own, and tests/export/test_fpdf_internals.py fails with its message if an
upgrade has changed any of them.
"""

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The version these internals were read from (pyproject.toml pins the same minor version).
KNOWN_VERSION = "2.8"


def _fpdf() -> Any:
    """fpdf's classes; imported by pdf.py first, which keeps numpy out (pdf.py says why)."""
    import fpdf
    import fpdf.fonts

    return fpdf


def font_class() -> type:
    font: type = _fpdf().fonts.TTFFont
    return font


def embedded_font(pdf: Any, family: str, style: str) -> Any:
    """The font object fpdf2 made for add_font(family, style, …)."""
    font = pdf.fonts[family.lower() + style]
    if not isinstance(font, font_class()):
        raise TypeError(f"fpdf2 made a {type(font).__name__} for {family}, not a TTFFont")
    return font


def advance_widths(font: Any) -> Mapping[int, int]:
    """Codepoint -> advance width in thousandths of the font size."""
    widths: Mapping[int, int] = font.cw
    return widths


def missing_width(font: Any) -> float:
    return float(font.desc.missing_width)


def subset_code(font: Any, codepoint: int) -> int | None:
    """The character's code in this document's subset of the font (added to the subset the
    first time, as fpdf2's text methods do); None when the font has no glyph for it."""
    code: int | None = font.subset.pick(codepoint)
    return code


def resource_number(font: Any) -> int:
    """n in the /Fn a content stream names the font by."""
    number: int = font.i
    return number


def use_font_on_page(pdf: Any, font: Any, size: float) -> None:
    """List the font in the current page's resources, as fpdf2's text methods do."""
    pdf._set_font_for_page(font, size, wrap_in_text_object=False)


def page_size(pdf: Any, number: int) -> tuple[float, float]:
    """The page's width and height in points."""
    width, height = pdf.pages[number].dimensions()
    return float(width), float(height)


def write_operators(pdf: Any, operators: str) -> None:
    """Append raw operators to the current page's content stream."""
    pdf._out(operators)


def check(font_file: Path) -> list[str]:
    """What no longer works as pdf.py expects, in words; empty when all is well."""
    problems: list[str] = []
    version = importlib.metadata.version("fpdf2")
    if not version.startswith(KNOWN_VERSION + "."):
        problems.append(
            f"fpdf2 {version} is installed; app/export/fpdf_internals.py was written for "
            f"{KNOWN_VERSION}.x: read its docstring's list again before changing KNOWN_VERSION"
        )
    fpdf = _fpdf()
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.add_font("Probe", "", str(font_file))
    steps: list[tuple[str, Any]] = [
        ("FPDF.fonts[key] is a TTFFont", lambda: embedded_font(pdf, "Probe", "")),
        ("TTFFont.cw maps codepoints to widths", lambda: advance_widths(font)[ord("A")] > 0),
        ("TTFFont.desc.missing_width is a number", lambda: missing_width(font) >= 0),
        ("TTFFont.subset.pick gives an int", lambda: isinstance(subset_code(font, 65), int)),
        ("TTFFont.i is an int", lambda: isinstance(resource_number(font), int)),
        (
            "FPDF._set_font_for_page(font, size, wrap_in_text_object=False)",
            lambda: use_font_on_page(pdf, font, 10),
        ),
        ("FPDF.pages[n].dimensions() gives two numbers", lambda: page_size(pdf, 1)[0] > 0),
        ("FPDF._out(operators)", lambda: write_operators(pdf, "q Q")),
        ("the document still writes", lambda: len(bytes(pdf.output())) > 0),
    ]
    font: Any = None
    for what, step in steps:
        try:
            result = step()
            if what.startswith("FPDF.fonts"):
                font = result
            elif result is False:
                problems.append(f"{what}: not any more")
        except Exception as error:
            problems.append(f"{what}: {type(error).__name__}: {error}")
            if font is None:
                break
    return problems
