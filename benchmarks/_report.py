"""Writing a benchmark's report: the JSON figures and the Markdown table, where asked."""

from __future__ import annotations

import json
from pathlib import Path


def write_reports(report: dict, text: str, json_out: str | None, md_out: str | None) -> None:
    """Write `report` as JSON to `json_out` and `text` to `md_out` (each only if given)."""
    for path, content in ((json_out, json.dumps(report, indent=1) + "\n"), (md_out, text)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(content)
