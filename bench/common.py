"""What the benchmark commands share: span matching as the eval READMEs define it, and output."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def normalise(text: str) -> str:
    """Casefolded, white space collapsed, ’ read as ' (the eval sets' matching rule)."""
    return re.sub(r"\s+", " ", text.replace("’", "'").casefold()).strip()


def contains_any(text: str, spans: list[str]) -> bool:
    """True when `text` holds one of the gold `spans` (after normalising both)."""
    haystack = normalise(text)
    return any(normalise(span) in haystack for span in spans)


def report(name: str, figures: dict[str, float | int | str]) -> None:
    """Print the figures as one JSON line, then as a readable table."""
    print(json.dumps({"benchmark": name, **figures}))
    width = max(len(k) for k in figures)
    print(f"\n{name}")
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")
    sys.stdout.flush()
