"""The README's commands are the ones CI runs, letter for letter."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command verbatim."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    test_command = next(c for c in readme_commands() if "pytest" in c)
    marker = ci.index("# README-TEST-COMMAND")
    assert ci[marker + 1] == test_command


def test_ci_runs_the_readme_demo_command():
    """.ci/run runs the README's demo command verbatim."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    demo_command = next(c for c in readme_commands() if "demo" in c)
    marker = ci.index("# README-DEMO-COMMAND")
    assert ci[marker + 1] == demo_command


def test_readme_leads_with_the_two_commands():
    """The first two commands in the README are the demo, then the tests."""
    first, second = readme_commands()[:2]
    assert first.endswith("aioqiscus demo")
    assert second.endswith("pytest")


def test_python_snippets_compile():
    """Every Python snippet in the README and docs is valid syntax."""
    import ast

    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for snippet in re.findall(
            r"```python\n(.+?)\n```", path.read_text(), re.DOTALL
        ):
            # Snippets show bodies of coroutines: allow top-level await.
            compile(snippet, str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
