"""H.264 mp4 that really decodes: tiny frames whose pixels spell their own frame index.

Why: clips are cut by stream copy from the sample tables, so a test (or a browser) must be
able to decode a clip and say *which* source frames it holds. Each frame is 64x112 (the
portrait 9:16 of the release's 1080x1920), luma 60 everywhere except a 4x4 grid of 16x16
blocks in the top-left 64x64: block ``b`` (row-major) is 220 when bit ``b`` of the frame
index is set (16 bits). The bottom 48 rows are a band whose brightness moves with the frame,
so the picture visibly plays. Chroma is neutral.

Encoding (libx264 through PyAV, which bundles FFmpeg): a fixed GOP of ``gop`` frames (the
release's 1-2 s), two B-frames (so the file has ``ctts`` and an edit list, as encoder output
does), one thread (the same bytes on every machine), CRF 28; with ``kbps`` a constant bitrate
padded with filler NAL units (what the benchmark uses for realistic 4.7 Mbit/s files without
encoding large frames). 29.97 fps is the exact 30000/1001. ``moov_first`` puts the ``moov``
before the ``mdat`` (FFmpeg's ``+faststart``), otherwise it follows the ``mdat``, FFmpeg's
default: we do not know which the release uses, so releases hold both.

Without PyAV (the ``[video]`` extra) the generator writes header-only mp4s instead
(:func:`..media.mp4_stub`): true facts in ``mvhd``/``stts``, zero payload, nothing decodable.
"""

from __future__ import annotations

import fractions
import io
import os
import tempfile

import numpy as np

from ..errors import ExtraMissing

WIDTH, HEIGHT = 64, 112
INDEX_BITS = 16
BLOCK = 16
LOW, HIGH = 60, 220
BFRAMES = 2
CRF = 28


def available() -> bool:
    """Whether PyAV can be imported (the ``[video]`` extra is installed)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def require_av():
    """The ``av`` module, or :class:`ExtraMissing` naming the extra."""
    try:
        import av
    except ImportError:
        raise ExtraMissing("decodable H.264 video", "video", "av") from None
    return av


def frame_rate(ntsc: bool) -> fractions.Fraction:
    return fractions.Fraction(30000, 1001) if ntsc else fractions.Fraction(30)


def luma(index: int) -> np.ndarray:
    """The Y plane of frame ``index`` (HEIGHT x WIDTH, uint8)."""
    y = np.full((HEIGHT, WIDTH), LOW, np.uint8)
    bits = [(index >> b) & 1 for b in range(INDEX_BITS)]
    blocks = np.where(np.array(bits).reshape(4, 4), HIGH, LOW).astype(np.uint8)
    y[: 4 * BLOCK, : 4 * BLOCK] = np.kron(blocks, np.ones((BLOCK, BLOCK), np.uint8))
    y[4 * BLOCK + 16 :, :] = 40 + (index * 5) % 180
    return y


def _x264_options(gop: int, kbps: int | None) -> dict[str, str]:
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={BFRAMES}:threads=1"
    options = {"preset": "ultrafast"}
    if kbps:
        params += f":nal-hrd=cbr:filler=1:bitrate={kbps}:vbv-maxrate={kbps}:vbv-bufsize={kbps}"
    else:
        options["crf"] = str(CRF)
    options["x264-params"] = params
    return options


def _encode(out, n_frames: int, ntsc: bool, gop: int, kbps: int | None) -> None:
    av = require_av()
    stream = out.add_stream("libx264", rate=frame_rate(ntsc))
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.codec_context.options = _x264_options(gop, kbps)
    planes = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
    for i in range(n_frames):
        planes[:HEIGHT] = luma(i)
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def mp4_h264(
    n_frames: int, ntsc: bool, gop: int, moov_first: bool, kbps: int | None = None
) -> bytes:
    """An mp4 of ``n_frames`` H.264 frames (see the module's docstring)."""
    av = require_av()
    if not moov_first:
        buf = io.BytesIO()
        with av.open(buf, "w", format="mp4") as out:
            _encode(out, n_frames, ntsc, gop, kbps)
        return buf.getvalue()
    # +faststart rewrites the file in a second pass: FFmpeg needs a real file for it
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix=".synth-")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            _encode(out, n_frames, ntsc, gop, kbps)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.remove(path)
