"""Shared by the bench_*.py scripts: the machine, the load, medians, fresh-process runs."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def load() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` prints them."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    return (
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {ram_gb():.0f} GB RAM, "
        f"{platform.machine()}, Python {platform.python_version()}; load average {load()}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``min..max`` of repeated samples, to show how noisy a median is."""
    return f"{min(values):.2f}..{max(values):.2f}" if len(values) > 1 else "-"


NOTE = (
    "figures taken while the machine is loaded (load average above its core count) are "
    "upper bounds on time and lower bounds on throughput"
)
