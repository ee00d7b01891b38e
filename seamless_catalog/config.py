"""Settings in one place: built from arguments and the environment, then frozen.

Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

ASSETS_BASE_URL = (
    "https://raw.githubusercontent.com/facebookresearch/seamless_interaction/main/assets"
)
CDN_BASE_URL = "https://dl.fbaipublicfiles.com/seamless_interaction"
HF_REPO = "facebook/seamless-interaction"
HF_ENDPOINT = "https://huggingface.co"
DEFAULT_SOURCE = f"hf://datasets/{HF_REPO}"  # where media are read from unless told
ASSET_NAMES = ("interactions", "participants", "relationships")


@dataclass(frozen=True)
class Settings:
    hf_endpoint: str = HF_ENDPOINT
    hf_token: str | None = None
    aws_endpoint_url: str | None = None
    cdn_base_url: str = CDN_BASE_URL
    assets_base_url: str = ASSETS_BASE_URL
    debug: bool = False
    progress: bool = True
    workers: int = 4  # units parsed at once (remote units wait on the network)
    flush_seconds: float = 30.0  # parsed rows are staged at least this often (resume point)
    remote_probes: tuple[str, ...] = ("wav",)  # media probed in remote tars (mp4/npz cost
    # extra requests each: their facts are left null unless asked for here)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def filelist_url(self) -> str:
        return f"{self.assets_base_url}/filelist.csv"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _progress(value: str | None) -> bool:
    """Progress bars: as SEAMLESS_CATALOG_PROGRESS says (0/1), else when stderr is a terminal."""
    if value is not None:
        return value != "0"
    return sys.stderr is not None and sys.stderr.isatty()


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.strip().isdigit() and int(value) > 0 else default


def from_env(env: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Settings from the environment (``HF_ENDPOINT``, ``HF_TOKEN``, ``AWS_ENDPOINT_URL``,
    ``SEAMLESS_CATALOG_CDN``, ``SEAMLESS_CATALOG_ASSETS``, ``SEAMLESS_CATALOG_DEBUG``,
    ``SEAMLESS_CATALOG_PROGRESS``, ``SEAMLESS_CATALOG_WORKERS``), then explicit overrides
    (``None`` values are ignored)."""
    env = os.environ if env is None else env
    s = Settings(
        hf_endpoint=env.get("HF_ENDPOINT", HF_ENDPOINT).rstrip("/"),
        hf_token=env.get("HF_TOKEN") or None,
        aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        cdn_base_url=env.get("SEAMLESS_CATALOG_CDN", CDN_BASE_URL).rstrip("/"),
        assets_base_url=env.get("SEAMLESS_CATALOG_ASSETS", ASSETS_BASE_URL).rstrip("/"),
        debug=_flag(env.get("SEAMLESS_CATALOG_DEBUG")),
        progress=_progress(env.get("SEAMLESS_CATALOG_PROGRESS")),
        workers=_int(env.get("SEAMLESS_CATALOG_WORKERS"), Settings.workers),
        extra={k: v for k, v in env.items() if k.startswith("AWS_")},
    )
    return s.with_(**{k: v for k, v in overrides.items() if v is not None})
