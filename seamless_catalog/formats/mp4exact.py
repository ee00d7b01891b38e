"""A frame-exact mp4 clip (``--exact``): the stream-copied clip decoded and re-encoded.

Stream copy (formats/mp4clip.py) must start at a keyframe and hides the pre-roll with an
edit list; a player or tool that ignores edit lists shows up to one GOP before ``start_s``.
The exact clip holds only the frames shown in ``[start_s, end_s)``, the first one a keyframe
at time 0, H.264 (libx264, CRF 18, the source's frame rate), the moov before the mdat. Only
video is kept (the release's mp4s carry no other stream we clip). It needs PyAV, the
``[video]`` extra; the bytes fetched are the stream copy's.
"""

from __future__ import annotations

import fractions
import io
import os
import tempfile

from ..errors import ExtraMissing, MediaFormatError
from . import mp4clip
from .readers import RangeReader

CRF = "18"  # visually lossless for research use; the clip is small either way


def _av():
    try:
        import av
    except ImportError:
        raise ExtraMissing("an exact (re-encoded) mp4 clip", "video", "PyAV (av)") from None
    return av


def clip(r: RangeReader, start_s: float, end_s: float) -> tuple[bytes, dict]:
    """The re-encoded clip of ``[start_s, end_s)`` and what it covers."""
    av = _av()
    copied, cut = mp4clip.clip(r, start_s, end_s)
    frames, rate = [], None
    try:
        with av.open(io.BytesIO(copied)) as src:
            stream = src.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or fractions.Fraction(30)
            for frame in src.decode(stream):
                if frame.time is None or frame.time >= -1e-6:  # the edit list's pre-roll is gone
                    frames.append(frame)
    except av.error.FFmpegError as e:
        raise MediaFormatError("mp4", f"the stream-copied clip does not decode ({e})") from None
    if not frames:
        raise MediaFormatError("mp4", f"no frame is shown between {start_s} and {end_s} s")
    return _encode(av, frames, fractions.Fraction(rate)), {
        "start_s": start_s, "end_s": end_s, "frames": len(frames), "fps": float(rate),
        "stream_copy": False, "preroll_s": 0.0, "fetched_preroll_s": cut.preroll_s,
    }  # fmt: skip


def _encode(av, frames: list, rate: fractions.Fraction) -> bytes:
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix=".clip-")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=rate)
            first = frames[0]
            stream.width, stream.height = first.width, first.height
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": CRF}
            for i, frame in enumerate(frames):
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = i, 1 / rate
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.remove(path)
