"""Real upload files for CV DeepMatch tests: text PDFs built with fpdf2, and look-alikes.

`make_pdf` lays out given lines on A4 pages; `make_cv_pdf` writes a plausible CV from a
name, skills and years of experience. `make_docx_like_zip` is a minimal Office Open XML
package (what a DOCX upload really is); `make_fake_pdf` has a PDF's name but not its bytes.
"""

from __future__ import annotations

import io
import zipfile
from typing import Iterable, Sequence

from fpdf import FPDF

_LATIN1_REPLACEMENTS = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                        "\u201d": '"', "\u2026": "...", "\u2022": "*"}


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1 only: replace typographic punctuation, drop the rest."""
    for char, plain in _LATIN1_REPLACEMENTS.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def make_pdf(lines: Iterable[str]) -> bytes:
    """A real, text-bearing PDF with one line of Helvetica per entry (new pages as needed)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, _latin1(line) or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_blank_pdf() -> bytes:
    """A valid PDF with one empty page: nothing to extract."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    return bytes(pdf.output())


def make_cv_pdf(name: str, skills: Sequence[str], years: int,
                extra_lines: Sequence[str] = ()) -> bytes:
    """A CV: name and e-mail, a summary with the years, a skills line, then ``extra_lines``."""
    handle = name.lower().replace(" ", ".")
    lines = [name, f"{handle}@example.com", "",
             f"Summary: software engineer with {years} years of experience."]
    if skills:
        lines.append("Skills: " + ", ".join(skills))
    lines.extend(extra_lines)
    return make_pdf(lines)


def make_docx_like_zip() -> bytes:
    """A minimal Office Open XML word-processing package (zip magic `PK`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml",
                         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
                         '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr("word/document.xml",
                         '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                         'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Jane Doe</w:t></w:r></w:p></w:body></w:document>')
    return buffer.getvalue()


def make_fake_pdf() -> bytes:
    """Bytes that pass an extension/MIME gate by name only: HTML, not `%PDF-`."""
    return b"<!doctype html><html><body>Jane Doe - not really a PDF</body></html>\n"


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
