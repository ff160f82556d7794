"""The project explains itself in its own files: nothing in the code or the docs points at a
document outside the repository, and every relative link in the docs leads to a file that is
there (docs/architecture.md, docs/adr/, CONTRIBUTING.md)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "tests", "bench", "frontend/src", "docs")
TOP_LEVEL = ("README.md", "CONTRIBUTING.md", "Makefile", "pyproject.toml")
# The product contract and style guide the project started from live outside it; a reference to
# either (or to the folder beside the repository that holds them) means nothing to a reader of a
# public clone.
# The names are put together here, so that this file, too, holds none of them whole and a
# plain grep over the repository finds nothing.
_CONTRACT, _GUIDE, _BESIDE = "DESIGN", "STYLE", "shared"
OUTSIDE = re.compile(rf"{_CONTRACT} *§|{_CONTRACT}\.md|{_GUIDE}\.md|\.\./{_BESIDE}/")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _text_files() -> list[Path]:
    found = [ROOT / name for name in TOP_LEVEL]
    for folder in SOURCES:
        found += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
            and "node_modules" not in path.parts
            and path.suffix in {".py", ".ts", ".tsx", ".md", ".mjs", ".css", ".html", ".toml"}
        ]
    return found


def test_nothing_cites_a_document_outside_the_repository() -> None:
    citing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert citing == [], "cite docs/ instead: " + ", ".join(citing)


def test_the_pattern_would_catch_a_citation() -> None:
    # The check above passes trivially if the pattern matches nothing.
    assert OUTSIDE.search(f'"""Evidence ({_CONTRACT} §5)."""')
    assert OUTSIDE.search(f"see ../{_BESIDE}/{_GUIDE}.md")


@pytest.mark.parametrize(
    "document",
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs" / "adr").glob("*.md")),
    ],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_relative_link_leads_to_a_file_that_is_there(document: Path) -> None:
    broken = [
        target
        for target in MARKDOWN_LINK.findall(document.read_text(encoding="utf-8"))
        if "://" not in target
        and not target.startswith("mailto:")
        and not (document.parent / target).exists()
    ]
    assert broken == [], f"{document.relative_to(ROOT)} links to missing files: {broken}"
