"""Record the official Go SDK's v2.1 calls and response fields (run by hand).

Reads ``sdk/api.go``, ``sdk/request.go`` and ``sdk/response.go`` of
Qiscus-Integration/qiscus-go and writes ``gosdk.json`` beside this script:
every call (Go name, verb, path, query parameters, JSON body fields, response
struct) and every response struct as a tree of JSON keys. ``fidelity.py``
checks the samples derived from the SDK against these trees, so a hand-made
sample can neither miss nor invent a field.

Usage: ``python gosdk.py SOURCE`` where SOURCE is a checkout of qiscus-go or
its bare git directory (then ``HEAD`` is read).

A tree maps each JSON key to a Go type name (``string``, ``int``, ``bool``,
``time.Time``, ``interface{}``, ``[]interface{}``), to a nested tree for a
struct (``{}`` for Go's empty ``struct {}``: the SDK reads nothing inside), or
to a one-element list holding the element tree for ``[]struct``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "gosdk.json"
REPO = "Qiscus-Integration/qiscus-go"

_TYPE = re.compile(r"^type (\w+) struct \{$")
_OPEN = re.compile(r"^(\w+)\s+(\[\])?struct \{$")
_CLOSE = re.compile(r'^\}\s*(?:`json:"([^",]+)(?:,\w+)?"`)?$')
_FIELD = re.compile(r'^(\w+)\s+([\w.{}\[\]]+)\s+`json:"([^",]+)(?:,\w+)?"`$')
_UNTAGGED = re.compile(r"^(\w+)\s+([\w.{}\[\]]+)(?:\s*//.*)?$")
_FUNC = re.compile(r"^func \(s \*SDKImpl\) (\w+)\((.*?)\) \(\*(\w+),", re.MULTILINE)
_URL = re.compile(r'"%s(/api/[^"]+)"')
_VERB = re.compile(r"NewHttpRequest\(http\.Method(\w+),")
_PARAM = re.compile(r'AddParameter\("([^"]+)"')
_MARSHAL = re.compile(r"json\.Marshal\((\w+)\)")


def read(source: Path, name: str) -> tuple[str, str]:
    """The text of ``sdk/<name>`` and the commit it came from."""
    path = source / "sdk" / name
    if path.exists():
        return path.read_text(), _git(source, "rev-parse", "HEAD")
    return _git(source, "show", f"HEAD:sdk/{name}"), _git(source, "rev-parse", "HEAD")


def _git(source: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - a fixed git command on a local path
        ["git", f"--git-dir={_git_dir(source)}", *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() if args[0] == "rev-parse" else done.stdout


def _git_dir(source: Path) -> Path:
    return source / ".git" if (source / ".git").exists() else source


def structs(text: str) -> dict[str, dict[str, Any]]:
    """Every ``type X struct`` of a Go file as a tree of JSON keys.

    Untagged fields (request structs read into query parameters) are keyed
    by their Go name.
    """
    found: dict[str, dict[str, Any]] = {}
    stack: list[tuple[str, bool, dict[str, Any]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if match := _TYPE.match(line):
            stack = [(match[1], False, {})]
        elif not stack:
            continue
        elif match := _OPEN.match(line):
            stack.append((match[1], bool(match[2]), {}))
        elif match := _CLOSE.match(line):
            name, is_list, tree = stack.pop()
            if not stack:
                found[name] = tree
            else:
                stack[-1][2][match[1] or name] = [tree] if is_list else tree
        elif match := _FIELD.match(line):
            stack[-1][2][match[3]] = match[2]
        elif match := _UNTAGGED.match(line):
            stack[-1][2][match[1]] = match[2]
    return found


def calls(api: str, requests: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The SDK's calls in file order, with their request fields."""
    result: list[dict[str, Any]] = []
    for chunk in api.split("\n// ")[1:]:
        head = _FUNC.search(chunk)
        if head is None:
            continue
        url, verb = _URL.search(chunk), _VERB.search(chunk)
        if url is None or verb is None:
            msg = f"{head[1]}: no URL or verb found"
            raise SystemExit(msg)
        body = None
        if marshal := _MARSHAL.search(chunk):
            inline = re.search(r"newReq := struct \{(.*?)\n\t\}", chunk, re.DOTALL)
            if marshal[1] == "newReq" and inline:
                body = sorted(re.findall(r'json:"([^"]+)"', inline[1]))
            else:
                req_type = re.search(rf"{marshal[1]}(?: :=)? \*?&?(\w+Req)", chunk)
                if req_type is None:
                    msg = f"{head[1]}: no request type for {marshal[1]}"
                    raise SystemExit(msg)
                body = sorted(requests[req_type[1]])
        result.append(
            {
                "go": head[1],
                "method": verb[1].upper(),
                "path": url[1],
                "query": _PARAM.findall(chunk),
                "body": body,
                "response": head[3],
            }
        )
    return result


def main() -> None:
    """Write gosdk.json from the checkout named on the command line."""
    source = Path(sys.argv[1])
    api, commit = read(source, "api.go")
    requests = structs(read(source, "request.go")[0])
    responses = structs(read(source, "response.go")[0])
    record = {
        "source": REPO,
        "commit": commit,
        "files": ["sdk/api.go", "sdk/request.go", "sdk/response.go"],
        "calls": calls(api, requests),
        "responses": responses,
    }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    sys.stdout.write(f"{OUT.name}: {len(record['calls'])} calls, commit {commit}\n")


if __name__ == "__main__":
    main()
