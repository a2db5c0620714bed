"""The CV upload gate (CVDM-2) and tolerant PDF text extraction, on real files."""

from __future__ import annotations

import io

import pytest

from mockserver.errors import ApiError
from mockserver.media.pdf import (
    MAX_CV_BYTES, check_pdf_upload, extract_pdf_text, has_pdf_magic, pdf_upload_problems,
)
from tests.support.pdf_fixtures import (
    DOCX_MIME, make_blank_pdf, make_cv_pdf, make_docx_like_zip, make_fake_pdf, make_pdf,
)


def refusal(filename, content_type, head) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check_pdf_upload(filename, content_type, head)
    return caught.value


@pytest.mark.parametrize("filename,content_type", [
    ("cv.pdf", "application/pdf"),
    ("CV.PDF", "application/pdf; name=cv.pdf"),
    ("candidate-cv.pdf", "application/x-pdf"),
])
def test_a_real_pdf_with_pdf_name_and_mime_passes(filename, content_type):
    assert check_pdf_upload(filename, content_type, make_cv_pdf("Jane Doe", ["Python"], 5)) is None


def test_a_docx_upload_is_invalid_input_on_cv_file():
    error = refusal("cv.docx", DOCX_MIME, make_docx_like_zip())
    assert (error.status, error.code) == (400, "INVALID_INPUT")
    messages = error.details["fields"]["cv_file"]
    assert len(messages) == 2  # both the extension and the MIME type are wrong
    assert any("DOCX" in m for m in messages)


@pytest.mark.parametrize("filename,content_type", [
    ("cv.docx", "application/pdf"),
    ("cv.pdf.docx", "application/pdf"),
    ("cv", "application/pdf"),
    (None, "application/pdf"),
    ("cv.pdf", DOCX_MIME),
    ("cv.pdf", "text/plain"),
    ("cv.pdf", "image/png"),
])
def test_a_non_pdf_extension_or_mime_type_is_invalid_input(filename, content_type):
    error = refusal(filename, content_type, make_pdf(["x"]))
    assert (error.status, error.code) == (400, "INVALID_INPUT")
    assert list(error.details["fields"]) == ["cv_file"]


@pytest.mark.parametrize("head", [make_fake_pdf(), make_docx_like_zip(), b"", b" %PDF-1.7", b"%PDF1.7", b"%pdf-1.7"])
def test_bytes_not_starting_with_the_pdf_magic_are_invalid_file_content(head):
    error = refusal("cv.pdf", "application/pdf", head)
    assert (error.status, error.code) == (400, "INVALID_FILE_CONTENT")
    assert error.details is None


def test_the_name_and_mime_gate_is_checked_before_the_magic_bytes():
    assert refusal("cv.docx", DOCX_MIME, b"PK\x03\x04").code == "INVALID_INPUT"


def test_the_size_cap_is_five_megabytes():
    assert MAX_CV_BYTES == 5 * 1024 * 1024


def test_the_two_gate_steps_apart_match_the_combined_check():
    assert pdf_upload_problems("cv.pdf", "application/pdf") == []
    assert len(pdf_upload_problems("cv.docx", DOCX_MIME)) == 2
    assert has_pdf_magic(b"%PDF-1.7") and not has_pdf_magic(b"PK\x03\x04")


def test_text_is_extracted_from_an_fpdf2_cv():
    pdf = make_cv_pdf("Jane Doe", ["Node.js", "PostgreSQL", "C++"], 7,
                      ["Senior Backend Engineer at Acme Payments, 2018 – 2023", "Languages: English, Spanish"])
    text = extract_pdf_text(io.BytesIO(pdf))
    assert text.splitlines()[0] == "Jane Doe"
    for expected in ("jane.doe@example.com", "7 years of experience", "Node.js, PostgreSQL, C++",
                     "Acme Payments, 2018 - 2023", "English, Spanish"):
        assert expected in text


def test_text_spanning_several_pages_is_all_extracted():
    lines = [f"Line number {n}" for n in range(120)]
    text = extract_pdf_text(make_pdf(lines))
    assert "Line number 0" in text and "Line number 119" in text


@pytest.mark.parametrize("data", [make_blank_pdf(), b"%PDF-1.7\nnot really a pdf", make_fake_pdf(),
                                  make_docx_like_zip(), b""])
def test_unreadable_or_textless_pdfs_give_empty_text_not_an_exception(data):
    assert extract_pdf_text(io.BytesIO(data)) == ""


def test_a_truncated_pdf_does_not_raise():
    pdf = make_cv_pdf("Jane Doe", ["Python"], 3)
    assert isinstance(extract_pdf_text(pdf[: len(pdf) // 2]), str)
