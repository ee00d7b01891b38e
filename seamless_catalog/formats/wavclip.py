"""A window of a wav, sample-exact: a new header and one byte range of the data chunk.

Sample ``i`` plays at ``i / rate`` s; the window ``[start_s, end_s)`` holds the samples
``round(start_s * rate)`` up to (not including) ``round(end_s * rate)``, cut to the samples
the data chunk declares. The clip's header says the source's format (rate, channels,
sample format) and the clip's length: fmt (+ fact for non-PCM) + data, nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import MediaFormatError
from .probes import WavFacts, probe_wav
from .readers import RangeReader

HEAD_READ = 4096  # the first read of a source wav: its header (58 bytes in the release)
_CODES = {"float": 3, "int": 1, "uint": 1, "alaw": 6, "mulaw": 7}


@dataclass(frozen=True)
class WavCut:
    first: int  # first sample (frame) of the window
    n: int  # samples in the clip
    offset: int  # of the first sample's bytes in the source file
    length: int  # bytes of samples
    head: bytes  # the clip's header
    rate: int  # samples per second

    @property
    def size(self) -> int:
        return len(self.head) + self.length


def wav_facts(r: RangeReader) -> WavFacts:
    """The source's format and data chunk, from one small read."""
    return probe_wav(r, HEAD_READ)


def _code(sample_format: str) -> int:
    for prefix, code in _CODES.items():
        if sample_format.startswith(prefix):
            return code
    raise MediaFormatError("wav", f"sample format {sample_format} cannot be written to a clip")


def header(facts: WavFacts, n: int) -> bytes:
    """RIFF/WAVE header of ``n`` samples in the format of ``facts``."""
    code = _code(facts.sample_format)
    rate, channels, align = facts.sample_rate, facts.channels, facts.block_align
    fmt = struct.pack("<HHIIHH", code, channels, rate, rate * align, align, facts.bits_per_sample)
    chunks = b"fmt " + struct.pack("<I", 16) + fmt
    if code != 1:  # non-PCM: cbSize 0 and a fact chunk, as the release's float files have
        chunks = b"fmt " + struct.pack("<I", 18) + fmt + b"\0\0"
        chunks += b"fact" + struct.pack("<II", 4, n)
    data_size = n * align
    body = b"WAVE" + chunks + b"data" + struct.pack("<I", data_size)
    return b"RIFF" + struct.pack("<I", len(body) + data_size + (data_size & 1)) + body


def cut(facts: WavFacts, start_s: float, end_s: float) -> WavCut:
    """The samples of ``[start_s, end_s)`` and where their bytes are."""
    rate = facts.sample_rate
    first = min(round(start_s * rate), facts.n_samples)
    stop = min(round(end_s * rate), facts.n_samples)
    if stop <= first:
        raise MediaFormatError(
            "wav", f"no samples between {start_s:.3f} s and {end_s:.3f} s "
            f"(the file declares {facts.n_samples} at {rate} Hz)",
        )  # fmt: skip
    n = stop - first
    offset = facts.data_offset + first * facts.block_align
    return WavCut(first, n, offset, n * facts.block_align, header(facts, n), rate)


def clip(r: RangeReader, start_s: float, end_s: float) -> tuple[bytes, WavCut]:
    """The clip of ``[start_s, end_s)`` read from ``r``: one small header read and one read
    of the window's samples; the clip's bytes and where they came from."""
    c = cut(wav_facts(r), start_s, end_s)
    data = r.read_at(c.offset, c.length)
    if len(data) < c.length:
        raise cut_off(c, c.offset + len(data))
    return c.head + data, c


def cut_off(c: WavCut, at: int | None = None) -> MediaFormatError:
    """The error of a window whose samples the file does not hold (a truncated file)."""
    where = f" at byte {at} of the file" if at is not None else ""
    return MediaFormatError(
        "wav", f"the data chunk is cut off{where} (the window needs bytes up to "
        f"{c.offset + c.length})",
    )  # fmt: skip
