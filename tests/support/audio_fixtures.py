"""Real audio files of a chosen duration in all six accepted formats, built in memory for tests.

Every file is a genuine, decodable stream, written from the formats' specifications so the
tests need no encoder and run offline in milliseconds:

- wav  — 8-bit mono PCM (8 kHz unless told) carrying a sine tone (`header_only=True` gives
  a header that promises the duration with no samples after it);
- mp3  — MPEG-2 Layer III, 16 kHz mono 8 kbit/s silent frames behind a LAME-style "Info"
  frame that states the frame count;
- flac — 8 kHz 16-bit mono, CONSTANT subframes (silence, or a DC level per variant), with
  frame CRCs and the STREAMINFO MD5 of the decoded samples;
- ogg  — Ogg Opus, 120 ms CELT silence packets, granule positions trimmed to the exact end;
- webm — the same Opus packets in Matroska SimpleBlocks with Segment Info Duration
  (`with_duration=False` gives a live-recorder style file that omits it; `doc_type` can
  make it plain Matroska);
- m4a  — AAC-LC 16 kHz mono silent frames in an MP4 (`ftyp`, `moov` before `mdat`).

`variant` makes files of the same duration differ in content (tone pitch, DC level, tags,
ancillary bytes) so determinism tests can tell inputs apart. `truncated_audio_file` cuts a
file inside its headers; `png_file` and `random_bytes` give non-audio input.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
import zlib

AUDIO_FORMATS: tuple[str, ...] = ("mp3", "wav", "m4a", "webm", "ogg", "flac")


def audio_file(audio_format: str, seconds: float, *, variant: int = 0) -> bytes:
    """A real file of `audio_format` lasting `seconds` (to the format's frame granularity)."""
    return _BUILDERS[audio_format](seconds, variant=variant)


def distinct_audio_files(audio_format: str, seconds: float, count: int) -> list[bytes]:
    """`count` files of the same format and duration whose bytes all differ."""
    return [audio_file(audio_format, seconds, variant=variant) for variant in range(count)]


# --------------------------------------------------------------------------- WAV

def wav_file(seconds: float, *, variant: int = 0, sample_rate: int = 8000,
             header_only: bool = False) -> bytes:
    """8-bit mono PCM; a (220 + 10·variant) Hz tone. `header_only`: the samples are left out."""
    sample_count = round(seconds * sample_rate)
    header = (
        b"RIFF" + struct.pack("<I", 36 + sample_count) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate, 1, 8)
        + b"data" + struct.pack("<I", sample_count)
    )
    if header_only:
        return header
    frequency = 220 + 10 * variant
    one_second = bytes(128 + round(40 * math.sin(2 * math.pi * frequency * n / sample_rate))
                       for n in range(sample_rate))
    whole, rest = divmod(sample_count, sample_rate)
    return header + one_second * whole + one_second[:rest]


# --------------------------------------------------------------------------- MP3

_MP3_HEADER = bytes((0xFF, 0xF3, 0x18, 0xC4))  # MPEG-2 Layer III, 8 kbit/s, 16 kHz, mono
_MP3_FRAME_BYTES = 36  # 72 * 8000 / 16000
_MP3_SIDE_INFO_BYTES = 9  # MPEG-2 mono
_MP3_FRAME_SECONDS = 576 / 16000


def mp3_file(seconds: float, *, variant: int = 0) -> bytes:
    """Silent Layer III frames (zero side info) after an "Info" frame holding the frame count."""
    frame_count = max(1, round(seconds / _MP3_FRAME_SECONDS))
    info_body = b"Info" + struct.pack(">II", 0x1, frame_count)
    info_frame = (_MP3_HEADER + bytes(_MP3_SIDE_INFO_BYTES) + info_body).ljust(_MP3_FRAME_BYTES, b"\x00")
    ancillary = bytes([variant % 256]) * (_MP3_FRAME_BYTES - 4 - _MP3_SIDE_INFO_BYTES)
    audio_frame = _MP3_HEADER + bytes(_MP3_SIDE_INFO_BYTES) + ancillary
    return info_frame + audio_frame * frame_count


# --------------------------------------------------------------------------- FLAC

_FLAC_RATE = 8000
_FLAC_BLOCK = 4096


def flac_file(seconds: float, *, variant: int = 0) -> bytes:
    """16-bit mono FLAC of CONSTANT subframes at level 7·variant (0 = silence)."""
    total_samples = round(seconds * _FLAC_RATE)
    level = 7 * variant
    streaminfo = (
        struct.pack(">HH", _FLAC_BLOCK, _FLAC_BLOCK)
        + (0).to_bytes(3, "big") + (0).to_bytes(3, "big")  # min/max frame size unknown
        + ((_FLAC_RATE << 44) | (0 << 41) | (15 << 36) | total_samples).to_bytes(8, "big")
        + _flac_md5(level, total_samples)
    )
    metadata = bytes((0x80,)) + len(streaminfo).to_bytes(3, "big") + streaminfo  # last block
    frames = []
    for frame_number, first_sample in enumerate(range(0, total_samples, _FLAC_BLOCK)):
        block = min(_FLAC_BLOCK, total_samples - first_sample)
        frames.append(_flac_frame(frame_number, block, level))
    return b"fLaC" + metadata + b"".join(frames)


def _flac_md5(level: int, total_samples: int) -> bytes:
    digest = hashlib.md5()
    chunk = struct.pack("<h", level) * _FLAC_BLOCK
    whole, rest = divmod(total_samples, _FLAC_BLOCK)
    for _ in range(whole):
        digest.update(chunk)
    digest.update(chunk[: 2 * rest])
    return digest.digest()


def _flac_frame(frame_number: int, block: int, level: int) -> bytes:
    block_code = 0b1100 if block == _FLAC_BLOCK else 0b0111  # 4096, or 16-bit (n-1) follows
    header = bytes((0xFF, 0xF8, (block_code << 4) | 0b0100, (0b0000 << 4) | (0b100 << 1)))
    header += _utf8_coded(frame_number)
    if block_code == 0b0111:
        header += struct.pack(">H", block - 1)
    header += bytes((_crc8(header),))
    frame = header + b"\x00" + struct.pack(">h", level)  # CONSTANT subframe
    return frame + struct.pack(">H", _crc16(frame))


def _utf8_coded(value: int) -> bytes:
    """FLAC's UTF-8-like coding of the frame number (1 to 7 bytes)."""
    if value < 0x80:
        return bytes((value,))
    total = next(n for n in range(2, 8) if value < 1 << (5 * n + 1))
    continuation = []
    for _ in range(total - 1):
        continuation.insert(0, 0x80 | (value & 0x3F))
        value >>= 6
    return bytes([((0xFF << (8 - total)) & 0xFF) | value] + continuation)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


# --------------------------------------------------------------------------- Opus (Ogg, WebM)

_OPUS_PRE_SKIP = 312
_OPUS_PACKET = b"\xfb\x06" + b"\xff\xfe" * 6  # code 3, 6 × 20 ms CELT silence = 120 ms
_OPUS_PACKET_SAMPLES = 5760  # at 48 kHz
_OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _OPUS_PRE_SKIP, 48000, 0, 0)


def ogg_opus_file(seconds: float, *, variant: int = 0) -> bytes:
    """Ogg Opus: OpusHead, OpusTags, then 120 ms silence packets, 255 per page."""
    total_samples = round(seconds * 48000)
    packet_count = max(1, math.ceil(total_samples / _OPUS_PACKET_SAMPLES))
    serial = 0x5A480000 + variant
    vendor = b"zenhire-mock fixtures"
    comment = f"FIXTURE_VARIANT={variant}".encode()
    opus_tags = (b"OpusTags" + struct.pack("<I", len(vendor)) + vendor
                 + struct.pack("<II", 1, len(comment)) + comment)
    pages = [_ogg_page(serial, 0, 0x02, 0, [_OPUS_HEAD]),
             _ogg_page(serial, 1, 0x00, 0, [opus_tags])]
    sent = 0
    sequence = 2
    while sent < packet_count:
        batch = min(255, packet_count - sent)
        sent += batch
        last = sent == packet_count
        granule = _OPUS_PRE_SKIP + min(sent * _OPUS_PACKET_SAMPLES, total_samples)
        pages.append(_ogg_page(serial, sequence, 0x04 if last else 0x00, granule,
                               [_OPUS_PACKET] * batch))
        sequence += 1
    return b"".join(pages)


def _ogg_page(serial: int, sequence: int, flags: int, granule: int, packets: list[bytes]) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes((len(packet) % 255,))
    header = (b"OggS" + bytes((0, flags)) + struct.pack("<qIII", granule, serial, sequence, 0)
              + bytes((len(lacing),)) + bytes(lacing))
    page = bytearray(header + b"".join(packets))
    page[22:26] = struct.pack("<I", _ogg_crc(bytes(page)))
    return bytes(page)


def _make_ogg_crc_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return table


_OGG_CRC_TABLE = _make_ogg_crc_table()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def webm_opus_file(seconds: float, *, variant: int = 0, with_duration: bool = True,
                   doc_type: str = "webm") -> bytes:
    """WebM (Matroska, DocType webm) with one Opus track; clusters of 30 s of SimpleBlocks."""
    packet_ms = _OPUS_PACKET_SAMPLES // 48
    packet_count = max(1, math.ceil(seconds * 1000 / packet_ms))
    ebml_header = _ebml(0x1A45DFA3, b"".join((
        _ebml_uint(0x4286, 1), _ebml_uint(0x42F7, 1), _ebml_uint(0x42F2, 4), _ebml_uint(0x42F3, 8),
        _ebml(0x4282, doc_type.encode("ascii")), _ebml_uint(0x4287, 4), _ebml_uint(0x4285, 2),
    )))
    info_children = [_ebml_uint(0x2AD7B1, 1_000_000),
                     _ebml(0x4D80, b"zenhire-mock fixtures"), _ebml(0x5741, b"zenhire-mock fixtures"),
                     _ebml(0x7BA9, f"fixture variant {variant}".encode())]
    if with_duration:
        info_children.insert(1, _ebml(0x4489, struct.pack(">d", seconds * 1000.0)))
    track = _ebml(0xAE, b"".join((
        _ebml_uint(0xD7, 1), _ebml_uint(0x73C5, 0x5A48 + variant), _ebml_uint(0x83, 2),
        _ebml(0x86, b"A_OPUS"), _ebml(0x63A2, _OPUS_HEAD),
        _ebml_uint(0x56AA, _OPUS_PRE_SKIP * 1_000_000_000 // 48000), _ebml_uint(0x56BB, 80_000_000),
        _ebml(0xE1, _ebml(0xB5, struct.pack(">d", 48000.0)) + _ebml_uint(0x9F, 1)),
    )))
    clusters = []
    per_cluster = 250
    for first in range(0, packet_count, per_cluster):
        blocks = [
            _ebml(0xA3, b"\x81" + struct.pack(">hB", (index - first) * packet_ms, 0x80) + _OPUS_PACKET)
            for index in range(first, min(first + per_cluster, packet_count))
        ]
        clusters.append(_ebml(0x1F43B675, _ebml_uint(0xE7, first * packet_ms) + b"".join(blocks)))
    segment = _ebml(0x18538067, _ebml(0x1549A966, b"".join(info_children))
                    + _ebml(0x1654AE6B, track) + b"".join(clusters))
    return ebml_header + segment


def _ebml(element_id: int, payload: bytes) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + _ebml_size(len(payload)) + payload


def _ebml_uint(element_id: int, value: int) -> bytes:
    return _ebml(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _ebml_size(size: int) -> bytes:
    for length in range(1, 9):
        if size < (1 << (7 * length)) - 1:  # all-ones is reserved for "unknown size"
            return ((1 << (7 * length)) | size).to_bytes(length, "big")
    raise ValueError("EBML size too large")


# --------------------------------------------------------------------------- M4A (AAC in MP4)

_AAC_RATE = 16000
_AAC_SILENT_FRAME = b"\x01\x18\x20\x07"  # AAC-LC mono single channel element, all-zero spectrum
_AAC_AUDIO_SPECIFIC_CONFIG = b"\x14\x08"  # AAC-LC, 16 kHz, mono


def m4a_aac_file(seconds: float, *, variant: int = 0) -> bytes:
    """AAC-LC in MP4: `moov` (mvhd, one sound trak with a full sample table) before `mdat`."""
    frame_count = max(1, round(seconds * _AAC_RATE / 1024))
    media_duration = frame_count * 1024
    movie_duration_ms = round(media_duration * 1000 / _AAC_RATE)
    ftyp = _box(b"ftyp", b"M4A " + struct.pack(">I", 0x200) + b"M4A isomiso2mp42")
    moov_size = len(_m4a_moov(frame_count, media_duration, movie_duration_ms, 0, variant))
    chunk_offset = len(ftyp) + moov_size + 8  # first byte of the mdat payload
    moov = _m4a_moov(frame_count, media_duration, movie_duration_ms, chunk_offset, variant)
    return ftyp + moov + _box(b"mdat", _AAC_SILENT_FRAME * frame_count)


def _m4a_moov(frame_count: int, media_duration: int, movie_duration_ms: int,
              chunk_offset: int, variant: int) -> bytes:
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(b"mvhd", 0, 0, struct.pack(">IIII", variant, variant, 1000, movie_duration_ms)
                     + struct.pack(">IH", 0x10000, 0x100) + bytes(10) + matrix + bytes(24)
                     + struct.pack(">I", 2))
    tkhd = _full_box(b"tkhd", 0, 7, struct.pack(">IIIII", variant, variant, 1, 0, movie_duration_ms)
                     + bytes(8) + struct.pack(">hhhH", 0, 0, 0x100, 0) + matrix + struct.pack(">II", 0, 0))
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", variant, variant, _AAC_RATE,
                                               media_duration, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I", 0) + b"soun" + bytes(12) + b"SoundHandler\x00")
    esds = _full_box(b"esds", 0, 0, _descriptor(0x03, struct.pack(">HB", 1, 0) + _descriptor(
        0x04, bytes((0x40, 0x15)) + (0).to_bytes(3, "big") + struct.pack(">II", 8000, 8000)
        + _descriptor(0x05, _AAC_AUDIO_SPECIFIC_CONFIG)) + _descriptor(0x06, b"\x02")))
    mp4a = _box(b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8)
                + struct.pack(">HHHHI", 1, 16, 0, 0, _AAC_RATE << 16) + esds)
    stbl = _box(b"stbl", b"".join((
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1) + mp4a),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, frame_count, 1024)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frame_count, 1)),
        _full_box(b"stsz", 0, 0, struct.pack(">II", len(_AAC_SILENT_FRAME), frame_count)),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    )))
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1) + _full_box(b"url ", 0, 1, b"")))
    minf = _box(b"minf", _full_box(b"smhd", 0, 0, struct.pack(">hH", 0, 0)) + dinf + stbl)
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    return _box(b"moov", mvhd + trak)


def _box(box_type: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + box_type + payload


def _full_box(box_type: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(box_type, bytes((version,)) + flags.to_bytes(3, "big") + payload)


def _descriptor(tag: int, payload: bytes) -> bytes:
    return bytes((tag, len(payload))) + payload


# --------------------------------------------------------------------------- damaged and non-audio input

def truncated_audio_file(audio_format: str) -> bytes:
    """A file of `audio_format` cut inside the headers that state its duration.

    The leading bytes still identify the format; the duration can no longer be read.
    """
    whole = audio_file(audio_format, 180.0)
    cut_points = {
        "wav": 30,          # inside the `fmt ` chunk
        "flac": 20,         # inside STREAMINFO
        "ogg": len(_ogg_page(0, 0, 0x02, 0, [_OPUS_HEAD])) + 30,  # inside the OpusTags page
        "m4a": 60,          # inside `moov`, before any track
        "webm": 60,         # inside Segment Info, before Duration
    }
    if audio_format == "mp3":
        # An ID3v2 tag announcing 64 KiB of frames (say, cover art) and an upload cut inside it.
        return b"ID3\x04\x00\x00" + bytes((0, 4, 0, 0)) + b"APIC" + bytes(2000)
    return whole[:cut_points[audio_format]]


def png_file() -> bytes:
    """A valid 1×1 PNG image (for the "renamed to .mp3" case)."""
    def chunk(chunk_type: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + chunk_type + data
                + struct.pack(">I", zlib.crc32(chunk_type + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def random_bytes(size: int, seed: int = 0) -> bytes:
    """`size` reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


_BUILDERS = {
    "wav": wav_file,
    "mp3": mp3_file,
    "flac": flac_file,
    "ogg": ogg_opus_file,
    "webm": webm_opus_file,
    "m4a": m4a_aac_file,
}
