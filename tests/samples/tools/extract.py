"""Regenerate tests/samples/*/*.json from ../shared/reference (run by hand).

The reference documents are prose with JSON-ish examples: comments, trailing
commas, a missing comma, and Cloudflare's "[email protected]" in place of
addresses. This script cleans them into valid JSON, filling obfuscated
addresses in document order from a list per sample, and writes one file per
example. Each file keeps the documented shape; only the repairs above change.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent
REF = HERE.parents[3] / "shared" / "reference"

OBFUSCATED = "[email\u00a0protected]"


def clean(text: str, emails: list[str] | None = None) -> object:
    """Turn one documented example into JSON."""
    # Comments follow white space; "http://" and "#fragment" in strings do not.
    text = re.sub(r"(?<=\s)(?://|#)[^\n]*", "", text)
    # "type": "text" <newline> "payload": a missing comma in qiscus-rest-v2.md.
    text = re.sub(r'("|\d|true|false|null|\}|\])(\s*\n\s*")', r"\1,\2", text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    for email in emails or []:
        text = text.replace(OBFUSCATED, email, 1)
        text = text.replace("[email protected]", email, 1)
    if OBFUSCATED in text or "[email protected]" in text:
        msg = "not enough addresses for the obfuscated ones"
        raise ValueError(msg)
    return json.loads(text)


def blocks(doc: str) -> list[str]:
    """JSON examples of a document: fenced blocks, or bare {...} paragraphs."""
    fenced = re.findall(r"```(?:json)?\n\s*(\{.*?)\n\s*```", doc, re.DOTALL)
    if fenced:
        return fenced
    found = []
    depth = 0
    start = None
    for i, ch in enumerate(doc):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0 and start is not None:
                found.append(doc[start : i + 1])
    return found


def main() -> None:
    plan = json.loads((HERE / "plan.json").read_text())
    for entry in plan:
        doc = (REF / entry["doc"]).read_text()
        examples = blocks(doc)
        example = examples[entry["index"]]
        if entry.get("contains") and entry["contains"] not in example:
            msg = (
                f"{entry['out']}: example {entry['index']} lacks {entry['contains']!r}"
            )
            raise SystemExit(msg)
        data = clean(example, entry.get("emails"))
        out = SAMPLES / entry["out"]
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.write(f"{out.relative_to(SAMPLES)}\n")


if __name__ == "__main__":
    main()
