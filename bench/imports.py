"""Import time: ``import aioqiscus`` beside ``import httpx``, and the CLI's help.

    python bench/imports.py [--rounds N] [--callgrind]

Each round runs, in turn and each in a fresh interpreter:

- ``python -X importtime -c "import httpx"`` and the same for ``aioqiscus``:
  the cumulative microseconds ``-X importtime`` reports for the top-level
  import (the figure the targets are set in);
- ``python -c pass``, ``python -c "import aioqiscus"`` and
  ``aioqiscus --help`` timed from outside (wall clock, process start to exit).

With ``--callgrind`` (valgrind installed), each import is also counted in
instructions, which the machine's load does not change: the interpreter's
own start (``python -c pass``) is subtracted from both before the ratio.

Interleaving exposes every command to the same moments of a shared
machine's load; the report gives each one's median over the rounds, and
the ratio of the medians. Targets: ``import aioqiscus`` at most 1.5x
``import httpx``; ``aioqiscus --help`` under 150 ms.

Results go to ``bench/results/imports.md``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SOURCE = Path(__file__).resolve().parents[1] / "src" / "aioqiscus"
PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("aioqiscus"))

#: The children's environment: bytecode cached, as for an installed wheel
#: (``httpx`` in site-packages has its ``.pyc`` files; an editable source
#: tree without them would be measured compiling itself).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: The last line ``-X importtime`` writes: "import time: self | cumulative | name".
_TOTAL = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)\s*$")


def import_us(module: str) -> float:
    """Cumulative microseconds of ``import module`` in a fresh interpreter."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    for line in reversed(done.stderr.splitlines()):
        found = _TOTAL.match(line)
        if found and found.group(2) == module:
            return float(found.group(1))
    msg = f"no import time for {module} in -X importtime's output"
    raise RuntimeError(msg)


def instructions(code: str) -> float:
    """Instructions ``python -c code`` executes, counted by callgrind."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            PYTHON,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        msg = "no instruction count in callgrind's output"
        raise RuntimeError(msg)
    return float(found.group(1))


def wall_ms(command: list[str]) -> float:
    """Milliseconds from starting *command* to its exit."""
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=ENV)
    return (time.perf_counter() - started) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--callgrind", action="store_true", help="also count instructions"
    )
    args = parser.parse_args()
    compileall.compile_dir(SOURCE, quiet=1)
    runs: dict[str, list[float]] = {}
    measures = {
        "import httpx (-X importtime)": lambda: import_us("httpx") / 1e3,
        "import aioqiscus (-X importtime)": lambda: import_us("aioqiscus") / 1e3,
        "python -c pass": lambda: wall_ms([PYTHON, "-c", "pass"]),
        "python -c 'import aioqiscus'": lambda: wall_ms(
            [PYTHON, "-c", "import aioqiscus"]
        ),
        "aioqiscus --help": lambda: wall_ms([CLI, "--help"]),
    }
    for _ in range(args.rounds):
        for name, measure in measures.items():
            runs.setdefault(name, []).append(measure())
    median = {name: statistics.median(values) for name, values in runs.items()}
    httpx_ms = median["import httpx (-X importtime)"]
    ratio = median["import aioqiscus (-X importtime)"] / httpx_ms
    lines = [
        (
            f"Medians of {args.rounds} interleaved rounds, Python "
            f"{sys.version.split()[0]}; `python bench/imports.py`."
        ),
        "",
        "| measure | median | context | target |",
        "|---|---:|---|---|",
    ]
    for name, value in median.items():
        context, target = "", ""
        if name.startswith("import aioqiscus"):
            context, target = f"{ratio:.2f}x import httpx", "<= 1.5x"
        elif name == "aioqiscus --help":
            context = "wall clock, interpreter start included"
            target = "< 150 ms"
        lines.append(f"| {name} | {value:.1f} ms | {context} | {target} |")
    if args.callgrind:
        floor = instructions("pass")
        counts = {
            m: instructions(f"import {m}") - floor for m in ("httpx", "aioqiscus")
        }
        lines.append(
            f"| import aioqiscus (callgrind) | {counts['aioqiscus'] / 1e6:.0f}M "
            f"instructions | {counts['aioqiscus'] / counts['httpx']:.2f}x import "
            f"httpx ({counts['httpx'] / 1e6:.0f}M), interpreter start subtracted "
            "| <= 1.5x |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imports.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
