"""Print the Nth command of README.md's "Quick start" section (1: set-up, 2: tests).

Used by .ci/run and tests/integration/test_docs.py, so the README's commands are the ones that run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_commands(text: str | None = None) -> list[str]:
    text = README.read_text() if text is None else text
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


if __name__ == "__main__":
    print(quickstart_commands()[int(sys.argv[1]) - 1])
