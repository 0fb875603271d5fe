"""The numbers README.md and docs/performance.md quote are the last benchmark run's.

``bench/run.py`` and ``bench/micro.py`` write their results as JSON
(``bench/results/network.json``, ``micro.json``); the ratio tables and the
parse figures in the documents must be the ones those files hold, so that a
new run cannot land without the documents following it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "performance.md"]


def _load(name: str) -> Any:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


#: The table's columns after latency and in flight: (numerator, denominator, key).
COLUMNS = [
    ("aioqiscus-default", "raw-httpx", "req_s"),
    ("aioqiscus-default", "raw-httpx", "cpu_us"),
    ("aioqiscus-aiohttp", "raw-aiohttp", "req_s"),
    ("aioqiscus-aiohttp", "raw-aiohttp", "cpu_us"),
    ("aioqiscus-aiohttp", "aioqiscus-default", "req_s"),
    ("aioqiscus-default", "qiscusapi-threads", "req_s"),
]


def _ratio_rows() -> list[str]:
    """The rows of the ratio table, as both documents print them."""
    ratios = {
        (r["latency_ms"], r["concurrency"], r["numerator"], r["denominator"]): r
        for r in _load("network.json")["ratios"]
    }
    rows = []
    for latency in (0, 20):
        for in_flight in (1, 8, 32, 128):
            cells = [
                f"{ratios[(latency, in_flight, a, b)][key]:.2f}x"
                for a, b, key in COLUMNS
            ]
            rows.append(f"| {latency} ms | {in_flight} | " + " | ".join(cells) + " |")
    return rows


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_the_ratio_table_is_the_last_run(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    for row in _ratio_rows():
        assert row in text, f"{document.name} lacks the last run's row {row}"


def test_the_parse_figures_are_the_last_run() -> None:
    """Each dialect's parse ratio and time, with and without ``fast``."""
    micro = _load("micro.json")
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    for dialect in ("v2", "v2.1"):
        times = micro["parse_us"][dialect]
        floor = times["json.loads"]
        for name in ("aioqiscus (msgspec)", "aioqiscus (json)"):
            figure = f"{times[name]:.2f} µs ({times[name] / floor:.2f}x)"
            assert figure in text, f"performance.md lacks {dialect} {name}: {figure}"


def test_the_page_names_the_runs_it_quotes() -> None:
    """The date line covers the micro run's start and the network run's end."""
    micro = _load("micro.json")["date"]  # "YYYY-MM-DD HH:MM"
    network = _load("network.json")["date"]  # "YYYY-MM-DD HH:MM UTC"
    day, start = micro.split()
    end = network.split()[1]
    line = f"- **date**: {day}, {start} to {end} UTC;"
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert line in text
