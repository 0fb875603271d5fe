"""Charts of the last benchmark run, for docs/performance.md.

    python bench/plots.py [--name network]

Reads ``bench/results/NAME.json`` (written by ``bench/run.py``) and
``bench/results/micro.json`` (written by ``bench/micro.py``) and writes SVG
charts to ``docs/performance/``: throughput and client CPU per request
against requests in flight, without and with 20 ms of server latency, and
the parse cost of a mixed comment page against its floors. Every chart
names the machine, the run date and the command that produced its numbers.

matplotlib is a benchmark dependency only (``nox -s bench`` installs it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUT = HERE.parent / "docs" / "performance"

#: Variant, label, colour, line style; raw libraries dashed.
SERIES = [
    ("aioqiscus-default", "aioqiscus, httpx backend (default)", "#1f77b4", "-"),
    ("raw-httpx", "raw httpx", "#1f77b4", "--"),
    ("aioqiscus-aiohttp", "aioqiscus, aiohttp backend", "#d62728", "-"),
    ("raw-aiohttp", "raw aiohttp", "#d62728", "--"),
    ("aioqiscus-aiohttp-uvloop", "aioqiscus, aiohttp backend, uvloop", "#ff7f0e", "-"),
    ("raw-aiohttp-uvloop", "raw aiohttp, uvloop", "#ff7f0e", "--"),
    ("qiscusapi-threads", "qiscusapi 0.0.8, one thread per request", "#2ca02c", ":"),
]


def caption(data: dict[str, Any]) -> str:
    box = data["machine"]
    return (
        f"{box['nproc']} cores ({box['cpu']}), {box['system']}, "
        f"{box['implementation']} {box['python']}; run {data['date']}\n"
        f"command: {data['command']}"
    )


def finish(fig: Figure, data: dict[str, Any], path: Path) -> None:
    fig.text(0.01, 0.01, caption(data), fontsize=7, color="#444", va="bottom")
    # No timestamp nor random ids in the file: a rerun changes only numbers.
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def series(data: dict[str, Any], variant: str, latency: int, key: str) -> tuple:
    cells = sorted(
        (c for c in data["cells"] if c["variant"] == variant and c[key]),
        key=lambda c: c["concurrency"],
    )
    cells = [c for c in cells if c["latency_ms"] == latency]
    xs = [c["concurrency"] for c in cells]
    mid = [c[key]["median"] for c in cells]
    low = [m - c[key]["min"] for m, c in zip(mid, cells, strict=True)]
    high = [c[key]["max"] - m for m, c in zip(mid, cells, strict=True)]
    return xs, mid, [low, high]


def against_concurrency(
    data: dict[str, Any], key: str, ylabel: str, title: str, path: Path
) -> None:
    latencies = sorted({c["latency_ms"] for c in data["cells"]})
    levels = sorted({c["concurrency"] for c in data["cells"]})
    fig, axes = plt.subplots(
        1, len(latencies), figsize=(6 * len(latencies), 5.2), squeeze=False
    )
    for ax, latency in zip(axes[0], latencies, strict=True):
        for variant, label, colour, style in SERIES:
            xs, mid, err = series(data, variant, latency, key)
            if not xs:
                continue
            ax.errorbar(
                xs,
                mid,
                yerr=err,
                label=label,
                color=colour,
                linestyle=style,
                marker="o",
                markersize=4,
                capsize=3,
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(levels, [str(n) for n in levels])
        plain = FuncFormatter(lambda v, _: f"{v:,.0f}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlabel("requests in flight")
        ax.set_ylabel(ylabel)
        ax.set_title(f"server latency {latency} ms")
        ax.grid(visible=True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{title}: v2.1 post_comment on loopback, medians of {data['rounds']} "
        "interleaved rounds (bars: min to max)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    finish(fig, data, path)


def parse_chart(micro: dict[str, Any], path: Path) -> None:
    per = micro["parse_us"]
    targets = micro.get("parse_targets", {})
    fig, axes = plt.subplots(1, len(per), figsize=(6 * len(per), 3.8), squeeze=False)
    for ax, (dialect, costs) in zip(axes[0], per.items(), strict=True):
        base = costs["json.loads"]
        names = list(costs)
        ratios = [costs[n] / base for n in names]
        colours = ["#d62728" if n.startswith("aioqiscus") else "#999" for n in names]
        ax.barh(names, ratios, color=colours)
        for i, (name, ratio) in enumerate(zip(names, ratios, strict=True)):
            wanted = targets.get(name)
            text = f"{ratio:.2f}x ({costs[name]:.1f} µs)"
            if wanted:
                text += f", target {wanted}"
                limit = float(wanted.strip("<= x"))
                ax.plot([limit, limit], [i - 0.4, i + 0.4], color="black", lw=1.5)
            ax.text(ratio + 0.03, i, text, va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(ratios) * 1.9)
        ax.set_xlabel("decode + parse per comment, times json.loads")
        ax.set_title(f"{dialect}: 100-comment mixed page")
    fig.suptitle(
        "Parsing a comment page against its floors (black ticks: the targets)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    finish(fig, micro, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="network", help="results/NAME.json")
    args = parser.parse_args()
    mpl.use("svg")
    plt.rcParams["svg.hashsalt"] = "aioqiscus"
    plt.rcParams["svg.fonttype"] = "none"
    OUT.mkdir(parents=True, exist_ok=True)
    data = json.loads((RESULTS / f"{args.name}.json").read_text())
    against_concurrency(
        data, "req_s", "requests per second", "Throughput", OUT / "throughput.svg"
    )
    against_concurrency(
        data,
        "cpu_us",
        "client CPU per request (µs, user + system)",
        "Client CPU per request",
        OUT / "cpu.svg",
    )
    micro_path = RESULTS / "micro.json"
    if micro_path.exists():
        micro = json.loads(micro_path.read_text())
        if "parse_us" in micro:
            parse_chart(micro, OUT / "parse.svg")
    for chart in sorted(OUT.glob("*.svg")):
        print(chart.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
