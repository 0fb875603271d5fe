"""Developer tasks: ``nox -s tests lint typing`` (``bench`` runs the benchmark)."""

from __future__ import annotations

import shlex

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typing"]

PYTHONS = ["3.11", "3.12", "3.13"]


def install(session: nox.Session, *args: str) -> None:
    """Install with a pip new enough for dependency groups (PEP 735)."""
    session.install("-q", "-U", "pip>=25.1")
    session.install(*args)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage."""
    install(session, "-e", ".[testing]", "--group", "tests")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    install(session, "--group", "lint")
    paths = ["src", "tests", "bench", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy strict on src."""
    install(session, "-e", ".[testing]", "--group", "typing")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """The performance benchmark (not part of the test step); prints tables.

    ``nox -s bench`` runs the micro-benchmarks, then the network benchmark
    (``-- --rounds 9`` for more rounds), prints the targets table, and draws
    the charts of docs/performance.md (``docs/performance/*.svg``).
    """
    install(
        session,
        "-e",
        ".[testing,aiohttp,fast]",
        "uvicorn[standard]",
        "httptools",
        "uvloop",
        # Floors beside msgspec in the parse benchmark.
        "orjson",
        "qiscusapi==0.0.8",
        # The charts only: never a runtime or test dependency.
        "matplotlib",
    )
    command = shlex.join(["nox", "-s", "bench", "--", *session.posargs])
    session.run("python", "bench/micro.py")
    session.run("python", "bench/run.py", *session.posargs, "--command", command)
    session.run("python", "bench/plots.py")
