"""Audio probing for Speech submits: which container a file really is, and how long it lasts (SPCH-2).

The platform accepts MP3, WAV, M4A, WebM, OGG and FLAC and reads the duration from the
file itself. `probe_audio` does the same: it identifies the container from the file's
bytes (magic numbers; the filename and the declared MIME type are never trusted) and reads
the duration from the container/codec headers:

- mp3, m4a, ogg (Vorbis, Opus, FLAC-in-Ogg, Speex) and flac through mutagen;
- wav from its `fmt ` and `data` chunks (a dozen lines; a stated size larger than the
  file, or a recorder's streaming placeholder, needs a rule of its own);
- webm through a small EBML reader (mutagen has no Matroska support): the Segment Info
  `Duration` scaled by `TimecodeScale`.

Two failures, matching the two documented 400 codes:

- `UnsupportedAudioFormat` (UNSUPPORTED_FORMAT): the bytes are none of the six formats, or
  the container holds no audio track.
- `AudioDurationUnavailable` (AUDIO_DURATION_UNAVAILABLE): the container is recognised but
  the duration cannot be read — truncated or corrupt headers, or a container that does not
  state its duration (a WebM written live without `Duration`, a fragmented MP4 with an empty
  `mdhd`), as a header-based prober such as ffprobe reports "N/A" for those.

The input is any seekable binary file object (a SpooledTemporaryFile from the multipart
parser is fine); only headers are read, never the whole file. The file position is left at 0.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from mutagen import MutagenError
from mutagen._util import BitReaderError
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import AtomError, Atoms, MP4Info
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

ACCEPTED_AUDIO_FORMATS: tuple[str, ...] = ("mp3", "wav", "m4a", "webm", "ogg", "flac")

# How far past an ID3v2 tag (or the file start) MPEG frame sync is searched for.
_MP3_SYNC_WINDOW = 4096
# Level-1 Matroska elements read before giving up on finding Segment Info.
_EBML_MAX_TOP_LEVEL_ELEMENTS = 256

# Parse failures of the underlying readers on damaged input; anything else is a bug.
_PARSE_ERRORS = (MutagenError, AtomError, BitReaderError, OSError, EOFError, ValueError,
                 struct.error, IndexError, KeyError, OverflowError, ZeroDivisionError)


@dataclass(frozen=True)
class AudioProbe:
    """What the probe learnt: the container format and the duration it states."""

    format: str  # one of ACCEPTED_AUDIO_FORMATS
    duration_seconds: float


class AudioProbeError(Exception):
    """A file the Speech submit must reject; `code` is the documented 400 error code."""

    code = "UNSUPPORTED_FORMAT"


class UnsupportedAudioFormat(AudioProbeError):
    """The bytes are not MP3/WAV/M4A/WebM/OGG/FLAC audio."""

    code = "UNSUPPORTED_FORMAT"


class AudioDurationUnavailable(AudioProbeError):
    """The format is accepted, but its duration cannot be read from the headers."""

    code = "AUDIO_DURATION_UNAVAILABLE"


def probe_audio(fileobj: BinaryIO, filename: str | None = None,
                content_type: str | None = None) -> AudioProbe:
    """Identify the container of `fileobj` by its bytes and read its duration.

    `filename` and `content_type` are only used to word the error message: a file is what
    its bytes say it is. Raises `UnsupportedAudioFormat` or `AudioDurationUnavailable`.
    """
    declared = _declared(filename, content_type)
    try:
        fileobj.seek(0)
        audio_format = _sniff_format(fileobj)
        if audio_format is None:
            raise UnsupportedAudioFormat(
                f"The file{declared} is not a valid MP3, WAV, M4A, WebM, OGG or FLAC audio file.")
        fileobj.seek(0)
        try:
            duration = _DURATION_READERS[audio_format](fileobj)
        except AudioProbeError:
            raise
        except _PARSE_ERRORS as exc:
            raise AudioDurationUnavailable(
                f"The {audio_format.upper()} file{declared} is corrupted or truncated; "
                f"its duration could not be read.") from exc
        if duration is None or not math.isfinite(duration) or duration <= 0:
            raise AudioDurationUnavailable(
                f"The {audio_format.upper()} file{declared} does not state a readable duration.")
        return AudioProbe(format=audio_format, duration_seconds=round(duration, 3))
    finally:
        fileobj.seek(0)


def _declared(filename: str | None, content_type: str | None) -> str:
    parts = [repr(filename)] if filename else []
    if content_type:
        parts.append(f"declared as {content_type}")
    return f" ({', '.join(parts)})" if parts else ""


# --------------------------------------------------------------------------- sniffing

def _sniff_format(fileobj: BinaryIO) -> str | None:
    """The accepted format the leading bytes prove, or None."""
    head = fileobj.read(64)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg" if _ogg_codec_class(fileobj) is not None else None
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if _ebml_doctype(fileobj) == "webm" else None
    if head[:3] == b"ID3":
        return _format_after_id3(fileobj, head)
    return "mp3" if _find_mpeg_audio(fileobj, 0) else None


def _format_after_id3(fileobj: BinaryIO, head: bytes) -> str:
    """A file opening with an ID3v2 tag: FLAC or MP3 after it, else a damaged MP3."""
    tag_end = _id3v2_end(head)
    fileobj.seek(tag_end)
    if fileobj.read(4) == b"fLaC":
        return "flac"
    if _find_mpeg_audio(fileobj, tag_end):
        return "mp3"
    # An ID3v2 tag announces an MP3 (its only common carrier here); with no readable frames
    # after it — typically an upload cut short inside the tag — the duration is unreadable.
    raise AudioDurationUnavailable(
        "The MP3 file holds an ID3 tag but no readable audio frames; its duration could not be read.")


def _id3v2_end(head: bytes) -> int:
    if len(head) < 10:
        return len(head)
    flags = head[5]
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if flags & 0x10 else 0
    return 10 + size + footer


_MPEG_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_LAYER3_KBPS_MPEG1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_LAYER3_KBPS_MPEG2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _mpeg_layer3_frame_length(header: bytes) -> int | None:
    """Length in bytes of the MPEG-1/2/2.5 Layer III frame `header` opens, or None."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version = (header[1] >> 3) & 0x3
    layer = (header[1] >> 1) & 0x3
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x3
    padding = (header[2] >> 1) & 0x1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    if (header[3] & 0x3) == 2:  # reserved emphasis
        return None
    sample_rate = _MPEG_SAMPLE_RATES[version][rate_index]
    if version == 3:
        return 144 * _LAYER3_KBPS_MPEG1[bitrate_index] * 1000 // sample_rate + padding
    return 72 * _LAYER3_KBPS_MPEG2[bitrate_index] * 1000 // sample_rate + padding


def _find_mpeg_audio(fileobj: BinaryIO, start: int) -> bool:
    """True when two consecutive Layer III frames (or one ending the file) begin near `start`."""
    fileobj.seek(start)
    window = fileobj.read(_MP3_SYNC_WINDOW + 4)
    for offset in range(max(0, len(window) - 3)):
        if window[offset] != 0xFF:
            continue
        length = _mpeg_layer3_frame_length(window[offset:offset + 4])
        if length is None:
            continue
        fileobj.seek(start + offset + length)
        following = fileobj.read(4)
        if not following or _mpeg_layer3_frame_length(following) is not None:
            return True
    return False


def _ogg_codec_class(fileobj: BinaryIO):
    """The mutagen class for the first audio stream among the Ogg BOS packets, or None."""
    fileobj.seek(0)
    for _ in range(8):  # a handful of beginning-of-stream pages precede the data
        header = fileobj.read(27)
        if len(header) < 27 or header[:4] != b"OggS":
            return None
        segment_count = header[26]
        lacing = fileobj.read(segment_count)
        if len(lacing) < segment_count:
            return None
        body = fileobj.read(sum(lacing))
        for prefix, codec_class in _OGG_AUDIO_CODECS:
            if body.startswith(prefix):
                return codec_class
        if not header[5] & 0x02:  # past the BOS pages: no audio stream was announced
            return None
    return None


_OGG_AUDIO_CODECS = (
    (b"\x01vorbis", OggVorbis),
    (b"OpusHead", OggOpus),
    (b"\x7fFLAC", OggFLAC),
    (b"Speex   ", OggSpeex),
)


# --------------------------------------------------------------------------- durations

def _mp3_duration(fileobj: BinaryIO) -> float:
    return MP3(fileobj).info.length


def _flac_duration(fileobj: BinaryIO) -> float:
    return FLAC(fileobj).info.length


def _ogg_duration(fileobj: BinaryIO) -> float:
    codec_class = _ogg_codec_class(fileobj)
    fileobj.seek(0)
    return codec_class(fileobj).info.length


def _wav_duration(fileobj: BinaryIO) -> float:
    """Sample frames in the `data` chunk over the sample rate.

    The stated chunk size is capped at the bytes the file really holds (as ffprobe does), so
    a header that promises more audio than was uploaded is not believed; the streaming
    placeholders 0 and 0xFFFFFFFF, left by recorders that never patch the header, likewise
    mean "to the end of the file".
    """
    data_offset, data_size, block_align, sample_rate = _wav_layout(fileobj)
    fileobj.seek(0, 2)
    available = max(0, fileobj.tell() - data_offset)
    if data_size == 0 or data_size > available:
        data_size = available
    return data_size // block_align / sample_rate


def _wav_layout(fileobj: BinaryIO) -> tuple[int, int, int, int]:
    """(data offset, data size, block align, sample rate) from a walk of the RIFF chunks."""
    fileobj.seek(12)
    block_align = sample_rate = 0
    for _ in range(64):  # WAV files carry a handful of chunks before `data`
        header = fileobj.read(8)
        if len(header) < 8:
            break
        chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
        if chunk_id == b"fmt ":
            fmt = fileobj.read(16)
            if len(fmt) < 16:
                break
            _, _, sample_rate, _, block_align, _ = struct.unpack("<HHIIHH", fmt)
            fileobj.seek(chunk_size - 16 + (chunk_size & 1), 1)
        elif chunk_id == b"data":
            if not block_align or not sample_rate:
                break
            return fileobj.tell(), chunk_size, block_align, sample_rate
        else:
            fileobj.seek(chunk_size + (chunk_size & 1), 1)
    raise AudioDurationUnavailable("The WAV file has no readable `fmt ` and `data` chunks.")


def _m4a_duration(fileobj: BinaryIO) -> float:
    atoms = Atoms(fileobj)
    moov = atoms[b"moov"]  # KeyError: cut before the movie header → unreadable
    if not any(_is_sound_track(trak, fileobj) for trak in moov.findall(b"trak")):
        raise UnsupportedAudioFormat("The MP4 container holds no audio track.")
    return MP4Info(atoms, fileobj).length


def _is_sound_track(trak, fileobj: BinaryIO) -> bool:
    ok, data = trak[b"mdia", b"hdlr"].read(fileobj)
    return ok and data[8:12] == b"soun"


# --------------------------------------------------------------------------- WebM (EBML)

_EBML_HEADER = 0x1A45DFA3
_EBML_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_SEGMENT_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83
_TRACK_TYPE_AUDIO = 2
_CLUSTER = 0x1F43B675


def _read_vint(fileobj: BinaryIO, keep_marker: bool) -> tuple[int, int, bool]:
    """One EBML variable-length integer: (value, byte length, all-ones i.e. "unknown size")."""
    first = fileobj.read(1)
    if not first:
        raise EOFError("end of EBML data")
    lead = first[0]
    length = 1
    while length <= 8 and not lead & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("invalid EBML variable-length integer")
    rest = fileobj.read(length - 1)
    if len(rest) < length - 1:
        raise EOFError("truncated EBML variable-length integer")
    value = lead if keep_marker else lead & (0xFF >> length)
    for byte in rest:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _read_element_header(fileobj: BinaryIO) -> tuple[int, int | None]:
    """(element id, payload size or None when the size is "unknown")."""
    element_id, _, _ = _read_vint(fileobj, keep_marker=True)
    size, _, unknown = _read_vint(fileobj, keep_marker=False)
    return element_id, None if unknown else size


def _read_payload(fileobj: BinaryIO, size: int | None) -> bytes:
    if size is None:
        raise ValueError("unknown-size element where a sized one is required")
    payload = fileobj.read(size)
    if len(payload) < size:
        raise EOFError("truncated EBML element")
    return payload


def _iter_children(payload: bytes):
    """(id, payload) of each child element inside an in-memory master element."""
    stream = BytesIO(payload)
    while stream.tell() < len(payload):
        element_id, size = _read_element_header(stream)
        yield element_id, _read_payload(stream, size)


def _ebml_doctype(fileobj: BinaryIO) -> str | None:
    """The EBML header's DocType ("webm", "matroska", …), or None if unreadable."""
    fileobj.seek(0)
    try:
        element_id, size = _read_element_header(fileobj)
        if element_id != _EBML_HEADER or size is None or size > 4096:
            return None
        for child_id, child in _iter_children(_read_payload(fileobj, size)):
            if child_id == _EBML_DOCTYPE:
                return child.rstrip(b"\x00").decode("ascii", "replace")
    except (EOFError, ValueError):
        return None
    return None


def _webm_duration(fileobj: BinaryIO) -> float | None:
    """Segment Info Duration × TimecodeScale; None when the Segment states no duration."""
    fileobj.seek(0)
    _, header_size = _read_element_header(fileobj)
    _read_payload(fileobj, header_size)
    segment_id, _ = _read_element_header(fileobj)
    if segment_id != _SEGMENT:
        raise ValueError("no Segment after the EBML header")
    duration: float | None = None
    saw_tracks = False
    for _ in range(_EBML_MAX_TOP_LEVEL_ELEMENTS):
        try:
            element_id, size = _read_element_header(fileobj)
        except EOFError:
            break
        if element_id == _CLUSTER:
            break  # media data begins: Info and Tracks come before it
        if element_id == _SEGMENT_INFO:
            duration = _info_duration(_read_payload(fileobj, size))
        elif element_id == _TRACKS:
            saw_tracks = True
            if not _has_audio_track(_read_payload(fileobj, size)):
                raise UnsupportedAudioFormat("The WebM file holds no audio track.")
        elif size is None:
            break
        else:
            fileobj.seek(size, 1)
        if duration is not None and saw_tracks:
            break
    return duration


def _info_duration(info: bytes) -> float | None:
    timecode_scale = 1_000_000
    duration_ticks: float | None = None
    for child_id, child in _iter_children(info):
        if child_id == _TIMECODE_SCALE:
            timecode_scale = int.from_bytes(child, "big") or timecode_scale
        elif child_id == _DURATION:
            if len(child) == 4:
                duration_ticks = struct.unpack(">f", child)[0]
            elif len(child) == 8:
                duration_ticks = struct.unpack(">d", child)[0]
            else:
                raise ValueError("Duration must be a 4- or 8-byte float")
    if duration_ticks is None:
        return None
    return duration_ticks * timecode_scale / 1e9


def _has_audio_track(tracks: bytes) -> bool:
    for child_id, entry in _iter_children(tracks):
        if child_id != _TRACK_ENTRY:
            continue
        for field_id, value in _iter_children(entry):
            if field_id == _TRACK_TYPE and int.from_bytes(value, "big") == _TRACK_TYPE_AUDIO:
                return True
    return False


_DURATION_READERS = {
    "mp3": _mp3_duration,
    "wav": _wav_duration,
    "m4a": _m4a_duration,
    "webm": _webm_duration,
    "ogg": _ogg_duration,
    "flac": _flac_duration,
}
