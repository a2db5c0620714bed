"""SPCH-2: the container is identified by its bytes and the duration read from real headers."""

from __future__ import annotations

import io
import struct
import tempfile

import pytest

from mockserver.media.audio import (
    ACCEPTED_AUDIO_FORMATS,
    AudioDurationUnavailable,
    UnsupportedAudioFormat,
    probe_audio,
)
from tests.support.audio_fixtures import (
    AUDIO_FORMATS,
    audio_file,
    png_file,
    random_bytes,
    truncated_audio_file,
    wav_file,
    webm_opus_file,
)


def probe_bytes(data: bytes, **declared):
    return probe_audio(io.BytesIO(data), **declared)


def long_file(audio_format: str, seconds: float) -> bytes:
    """45-minute files stay well under 25 MB: WAV drops to 4 kHz, the others are compact."""
    if audio_format == "wav":
        return wav_file(seconds, sample_rate=4000)
    return audio_file(audio_format, seconds)


class _CountingReader(io.RawIOBase):
    """A seekable file that counts the bytes handed out by read()."""

    def __init__(self, data: bytes):
        self._inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()


def test_fixture_formats_are_exactly_the_accepted_formats():
    assert sorted(AUDIO_FORMATS) == sorted(ACCEPTED_AUDIO_FORMATS)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
@pytest.mark.parametrize("seconds", [179.0, 180.0, 600.0])
def test_duration_is_read_from_the_file_for_every_format(audio_format, seconds):
    probe = probe_bytes(audio_file(audio_format, seconds))
    assert probe.format == audio_format
    assert probe.duration_seconds == pytest.approx(seconds, abs=0.1)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_forty_five_minutes_and_one_second_reads_2701_seconds(audio_format):
    probe = probe_bytes(long_file(audio_format, 2701.0))
    assert probe.format == audio_format
    assert probe.duration_seconds == pytest.approx(2701.0, abs=0.1)


def test_format_comes_from_the_bytes_not_the_filename_or_mime_type():
    ogg = audio_file("ogg", 200.0)
    probe = probe_bytes(ogg, filename="interview.mp3", content_type="audio/mpeg")
    assert probe.format == "ogg"
    assert probe.duration_seconds == pytest.approx(200.0, abs=0.1)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_file_cut_inside_its_headers_has_no_readable_duration(audio_format):
    with pytest.raises(AudioDurationUnavailable) as caught:
        probe_bytes(truncated_audio_file(audio_format))
    assert caught.value.code == "AUDIO_DURATION_UNAVAILABLE"


def test_png_renamed_to_mp3_is_an_unsupported_format():
    with pytest.raises(UnsupportedAudioFormat) as caught:
        probe_bytes(png_file(), filename="interview.mp3", content_type="audio/mpeg")
    assert caught.value.code == "UNSUPPORTED_FORMAT"
    assert "interview.mp3" in str(caught.value)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_an_unsupported_format(seed):
    with pytest.raises(UnsupportedAudioFormat):
        probe_bytes(random_bytes(200_000, seed=seed))


def test_empty_file_is_an_unsupported_format():
    with pytest.raises(UnsupportedAudioFormat):
        probe_bytes(b"")


def test_wav_header_promising_more_audio_than_uploaded_is_capped_at_the_real_bytes():
    whole = wav_file(200.0)
    half = whole[: 44 + 8000 * 100]
    assert probe_bytes(half).duration_seconds == pytest.approx(100.0, abs=0.01)


def test_wav_header_with_no_samples_has_no_readable_duration():
    with pytest.raises(AudioDurationUnavailable):
        probe_bytes(wav_file(2701.0, header_only=True))


def test_wav_streaming_placeholder_size_reads_to_the_end_of_the_file():
    data = bytearray(wav_file(200.0))
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)  # the `data` chunk size
    assert probe_bytes(bytes(data)).duration_seconds == pytest.approx(200.0, abs=0.01)


def test_webm_without_segment_duration_has_no_readable_duration():
    with pytest.raises(AudioDurationUnavailable):
        probe_bytes(webm_opus_file(200.0, with_duration=False))


def test_matroska_that_is_not_webm_is_an_unsupported_format():
    with pytest.raises(UnsupportedAudioFormat):
        probe_bytes(webm_opus_file(200.0, doc_type="matroska"))


def test_webm_without_an_audio_track_is_an_unsupported_format():
    video_only = webm_opus_file(200.0).replace(b"\x83\x81\x02", b"\x83\x81\x01")  # TrackType video
    with pytest.raises(UnsupportedAudioFormat):
        probe_bytes(video_only)


def test_mp4_without_a_sound_track_is_an_unsupported_format():
    video_only = audio_file("m4a", 200.0).replace(b"soun", b"vide")
    with pytest.raises(UnsupportedAudioFormat):
        probe_bytes(video_only)


@pytest.mark.parametrize("audio_format", ["mp3", "flac"])
def test_a_leading_id3_tag_is_skipped(audio_format):
    frame = b"TIT2" + struct.pack(">I", 10) + b"\x00\x00" + b"\x03interview"
    tag = b"ID3\x04\x00\x00" + bytes((0, 0, 0, len(frame))) + frame
    probe = probe_bytes(tag + audio_file(audio_format, 240.0))
    assert probe.format == audio_format
    assert probe.duration_seconds == pytest.approx(240.0, abs=0.1)


def test_a_spooled_temporary_file_is_probed_and_left_rewound():
    with tempfile.SpooledTemporaryFile(max_size=1024) as upload:
        upload.write(audio_file("flac", 300.0))
        upload.seek(123)
        probe = probe_audio(upload, filename="a.flac", content_type="audio/flac")
        assert probe.duration_seconds == pytest.approx(300.0, abs=0.1)
        assert upload.tell() == 0


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_probing_reads_headers_not_the_whole_file(audio_format):
    data = long_file(audio_format, 2701.0)
    reader = _CountingReader(data)
    probe_audio(reader)
    assert reader.bytes_read < 200_000
    if len(data) > 1_000_000:
        assert reader.bytes_read < len(data) // 10
