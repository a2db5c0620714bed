"""Real upload files for generated requests, and the Hypothesis settings profiles.

- ``wav_bytes(seconds)``: a genuine 8 kHz 8-bit mono PCM WAV (stdlib ``wave``) carrying a
  tone, so a server that reads the duration from the container gets the real one.
- ``pdf_bytes(lines)``: a small, valid, text-bearing PDF written by hand (correct xref
  offsets), so a server that checks ``%PDF-`` and extracts text gets both.
- ``register_media_strategies()``: tells Schemathesis to use these for multipart parts whose
  ``encoding.contentType`` is an audio type or ``application/pdf`` (file fields stay
  ``format: binary``). Audio durations are drawn inside the documented 3–45 min window,
  biased to the short end to keep uploads small (3 min ≈ 1.4 MB).
- ``register_profiles()``: ``contract-ci`` (few examples, derandomized so CI runs repeat —
  the default), ``contract-quick`` (the defects harness) and ``contract-thorough`` (many
  random examples, for exploring).

Self-contained on purpose: the suite never imports the mock or the project's tests.
"""

from __future__ import annotations

import io
import math
import wave
from functools import lru_cache

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

MIN_AUDIO_SECONDS = 180
MAX_AUDIO_SECONDS = 45 * 60
AUDIO_MEDIA_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
PDF_MEDIA_TYPE = "application/pdf"


@lru_cache(maxsize=8)
def _tone_second(sample_rate: int, frequency: int) -> bytes:
    return bytes(128 + round(60 * math.sin(2 * math.pi * frequency * n / sample_rate)) for n in range(sample_rate))


def wav_bytes(seconds: float, *, sample_rate: int = 8000, frequency: int = 440) -> bytes:
    """A real PCM WAV of ``seconds`` (8-bit mono)."""
    frames = round(seconds * sample_rate)
    second = _tone_second(sample_rate, frequency)
    whole, rest = divmod(frames, sample_rate)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(sample_rate)
        out.writeframes(second * whole + second[:rest])
    return buf.getvalue()


def _pdf_text(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(lines: list[str] | tuple[str, ...] = ("Curriculum Vitae",)) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` in Helvetica; a valid file with a correct xref."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 790 Td"]
    for line in lines:
        ops.append(f"({_pdf_text(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


CV_LINES = (
    ("Jane Example", "Senior Backend Engineer", "Experience: 7 years Node.js, TypeScript, PostgreSQL",
     "Industries: SaaS, Fintech", "Education: BSc Computer Science", "Languages: English, Spanish"),
    ("John Sample", "Data Engineer", "Experience: 4 years Python, Spark, SQL", "Industry: Retail",
     "Education: MSc Statistics", "Languages: English"),
    ("Ana Probe", "Frontend Developer", "Experience: 3 years React, CSS, accessibility",
     "Industry: Media", "Education: Bootcamp", "Languages: Portuguese, English"),
)


def audio_durations() -> st.SearchStrategy[int]:
    """Durations inside the accepted window, mostly short (upload size), edges included."""
    return st.one_of(st.integers(MIN_AUDIO_SECONDS, 240), st.sampled_from([MIN_AUDIO_SECONDS, 600]))


def audio_files() -> st.SearchStrategy[bytes]:
    return st.builds(lambda s, f: wav_bytes(s, frequency=f), audio_durations(), st.sampled_from([220, 440, 660]))


def pdf_files() -> st.SearchStrategy[bytes]:
    return st.sampled_from(CV_LINES).map(pdf_bytes)


_registered = False


def register_media_strategies() -> None:
    """Make Schemathesis send real WAVs and PDFs for multipart parts with those content types."""
    global _registered
    if _registered:
        return
    import schemathesis
    schemathesis.openapi.media_type(AUDIO_MEDIA_TYPES[0], audio_files(), aliases=AUDIO_MEDIA_TYPES[1:])
    schemathesis.openapi.media_type(PDF_MEDIA_TYPE, pdf_files())
    _registered = True


PROFILES = {
    "contract-ci": dict(max_examples=12, derandomize=True),
    "contract-quick": dict(max_examples=4, derandomize=True),
    "contract-thorough": dict(max_examples=100, derandomize=False),
}


def register_profiles() -> None:
    for name, values in PROFILES.items():
        settings.register_profile(
            name, deadline=None, print_blob=True, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
            **values)
