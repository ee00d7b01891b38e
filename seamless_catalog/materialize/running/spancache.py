"""What the clips of one run read once and share: metadata reads and npz member prefixes.

:class:`SpanCache` keeps exact reads (a wav header, an mp4's box walk and moov, an npz
directory) for windows of the same source cut in different groups (another batch, another
worker), and per source the byte ranges of its npz member prefixes (:class:`Ranges`): a later
group of windows of that recording reads only what the earlier ones did not (it still
inflates from each member's start, as deflate must). Both are bounded by bytes, least
recently used first out.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ...formats.readers import RangeReader


class SpanCache:
    """Metadata reads made recently, shared by the clips of one run (see the module); a span
    one thread is reading is waited for by the others. ``max_bytes`` bounds the spans, and
    separately the npz ranges of :meth:`ranges`."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._spans: OrderedDict[tuple, _Span] = OrderedDict()
        self._bytes = 0
        self._sources: OrderedDict[tuple, Ranges] = OrderedDict()

    def ranges(self, identity: tuple) -> Ranges:
        """The byte ranges read of one source; hold its ``lock`` while reading through it
        (the windows of one source in two groups then read its bytes once)."""
        with self._lock:
            got = self._sources.get(identity)
            if got is None:
                got = self._sources[identity] = Ranges()
            self._sources.move_to_end(identity)
            total = sum(r.size for r in self._sources.values())
            while total > self.max_bytes and len(self._sources) > 1:
                _, old = self._sources.popitem(last=False)
                total -= old.size
        return got

    def read(self, key: tuple, load: Callable[[], bytes]) -> bytes:
        with self._lock:
            span = self._spans.get(key)
            mine = span is None
            if mine:
                span = self._spans[key] = _Span()
            else:
                self._spans.move_to_end(key)
        if not mine:
            span.ready.wait()
            return span.data if span.data is not None else load()
        try:
            span.data = load()
        finally:
            span.ready.set()
            with self._lock:
                if span.data is None:
                    self._spans.pop(key, None)
                else:
                    self._bytes += len(span.data)
                    while self._bytes > self.max_bytes and len(self._spans) > 1:
                        _, old = self._spans.popitem(last=False)
                        self._bytes -= len(old.data or b"")
        return span.data


@dataclass
class _Span:
    ready: threading.Event = field(default_factory=threading.Event)
    data: bytes | None = None


class CachedReader:
    """A reader whose reads go through a :class:`SpanCache` (keyed by object and range)."""

    def __init__(self, base: RangeReader, cache: SpanCache, identity: tuple) -> None:
        self.base, self.cache, self.identity, self.size = base, cache, identity, base.size

    def read_at(self, offset: int, n: int) -> bytes:
        return self.cache.read((*self.identity, offset, n), lambda: self.base.read_at(offset, n))


class Ranges:
    """The byte ranges of one source read so far, non-overlapping, touching ones merged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.starts: list[int] = []
        self.chunks: list[bytes] = []

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)

    def reader(self, base: RangeReader) -> RangesReader:
        return RangesReader(base, self)

    def _gaps(self, a: int, b: int) -> list[tuple[int, int]]:
        gaps, pos = [], a
        i = max(0, bisect.bisect_right(self.starts, a) - 1)
        for start, chunk in zip(self.starts[i:], self.chunks[i:]):
            if start >= b:
                break
            if start > pos:
                gaps.append((pos, start))
            pos = max(pos, start + len(chunk))
        if pos < b:
            gaps.append((pos, b))
        return gaps

    def _add(self, start: int, data: bytes) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.chunks.insert(i, data)
        merged_s, merged_c = [], []
        for s, c in zip(self.starts, self.chunks):
            if merged_s and s <= merged_s[-1] + len(merged_c[-1]):
                end = merged_s[-1] + len(merged_c[-1])
                if s + len(c) > end:
                    merged_c[-1] = merged_c[-1] + c[end - s :]
            else:
                merged_s.append(s)
                merged_c.append(c)
        self.starts, self.chunks = merged_s, merged_c

    def read(self, base: RangeReader, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset``: what is held, the gaps read from ``base`` (and kept)."""
        end = min(offset + n, base.size)
        for a, b in self._gaps(offset, end):
            data = base.read_at(a, b - a)
            if data:
                self._add(a, data)
            if len(data) < b - a:  # the source ends early: a short read, as at any EOF
                break
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return b""
        rel = offset - self.starts[i]
        return self.chunks[i][rel : rel + n] if rel < len(self.chunks[i]) else b""


class RangesReader:
    """A reader through a source's :class:`Ranges` (held bytes are not read again)."""

    def __init__(self, base: RangeReader, ranges: Ranges) -> None:
        self.base, self.ranges, self.size = base, ranges, base.size

    def read_at(self, offset: int, n: int) -> bytes:
        return self.ranges.read(self.base, offset, n)
