"""Replay a cassette against the fake server and compare every answer's shape.

The recorded server assigned its own room, comment and export ids; the fake
assigns others. :class:`IdMap` learns the correspondence by walking each
recorded answer beside the replayed one (same key path, id-like key: the
recorded value maps to the replayed one) and rewrites the ids in later
requests. The tour's users need no mapping: the recorded
``login_or_register`` requests create them on the fake, in order.

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._cassette import Cassette, Interaction, decode
from ._shape import Finding, diff

#: Containers of users: their ids are identifiers both sides share, or
#: internal user numbers no request uses.
_PEOPLE = frozenset(
    {
        "user",
        "users",
        "participants",
        "participants_added",
        "participants_removed",
        "user_avatar",
        "from",
    }
)
DIALECTS = ("v2", "v2.1")


def is_id_key(key: str) -> bool:
    """Whether *key* holds a server-assigned id (room, comment, export)."""
    name = key.removesuffix("[]")
    if name == "id":
        return True
    if not name.endswith(("_id", "_ids")):
        return False
    return not any(word in name for word in ("user", "email", "temp", "channel"))


def _mappable(value: Any) -> bool:
    return (
        isinstance(value, str | int)
        and not isinstance(value, bool)
        and value not in ("", 0)
    )


@attrs.define
class IdMap:
    """Recorded server ids -> the ids the fake assigned to the same objects."""

    known: dict[str, Any] = attrs.Factory(dict)

    def learn(self, recorded: Any, replayed: Any) -> None:
        """Walk two answers in parallel, mapping ids found at the same path."""
        if isinstance(recorded, Mapping) and isinstance(replayed, Mapping):
            for key, mine in recorded.items():
                if key in _PEOPLE or key not in replayed:
                    continue
                theirs = replayed[key]
                if is_id_key(str(key)) and _mappable(mine) and _mappable(theirs):
                    self.known.setdefault(str(mine), theirs)
                else:
                    self.learn(mine, theirs)
        elif (
            isinstance(recorded, list)
            and isinstance(replayed, list)
            and len(recorded) == len(replayed)
        ):
            for mine, theirs in zip(recorded, replayed, strict=True):
                self.learn(mine, theirs)

    def _value(self, value: Any) -> Any:
        if not _mappable(value) or str(value) not in self.known:
            return value
        mapped = self.known[str(value)]
        if isinstance(value, str):
            return str(mapped)
        try:
            return int(mapped)
        except (TypeError, ValueError):
            return mapped

    def body(self, value: Any, key: str = "") -> Any:
        """*value* with every id under an id-like key rewritten."""
        if isinstance(value, Mapping):
            return {k: self.body(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v, key) for v in value]
        return self._value(value) if is_id_key(key) else value

    def path(self, path: str) -> str:
        """*path* with ids after ``/rest/`` rewritten (``exports/{id}``)."""
        head, sep, tail = path.partition("/rest/")
        if not sep:
            return path
        return head + sep + "/".join(self._value(p) for p in tail.split("/"))

    def query(self, query: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
        """*query* with the values of id-like parameters rewritten."""
        return tuple((k, str(self._value(v)) if is_id_key(k) else v) for k, v in query)


@attrs.frozen
class Outcome:
    """One replayed interaction: what the fake answered and how they differ."""

    interaction: Interaction
    status: int
    findings: tuple[Finding, ...]

    @property
    def differs(self) -> bool:
        """Whether any finding is more than informational."""
        return any(not f.informational for f in self.findings)


def served_dialects(cassette: Cassette) -> list[str]:
    """The dialects the recorded server served (from its facts, else its traffic)."""
    recorded = cassette.server.get("dialects_served")
    if isinstance(recorded, list):
        found = [d for d in recorded if d in DIALECTS]
        if found:
            return found
    seen = {i.dialect for i in cassette.interactions if i.status < 400}  # noqa: PLR2004
    return [d for d in DIALECTS if d in seen] or list(DIALECTS)


def compare_exchange(
    recorded: Interaction, status: int, body: Any, text: str | None
) -> list[Finding]:
    """How the recorded answer departs from the fake's answer to the same request."""
    if recorded.status != status:
        detail = f"server answered {recorded.status}, the fake {status}"
        return [Finding("(status)", "status", detail)]
    if recorded.text is None and text is None:
        return diff(recorded.response, body)
    if recorded.text is not None and text is not None:
        return []
    mine = "text" if recorded.text is not None else "JSON"
    theirs = "text" if text is not None else "JSON"
    return [Finding("(body)", "type", f"{theirs} -> {mine}")]


async def replay(cassette: Cassette) -> list[Outcome]:
    """Send every recorded request to an in-process fake, in order; compare.

    The fake serves the dialects the recorded server served.
    """
    from ..testing import FakeQiscus  # noqa: PLC0415 - the fake is only for replays

    fake = FakeQiscus(dialects=served_dialects(cassette))
    headers = {
        "QISCUS-SDK-APP-ID": fake.app_id,
        "QISCUS-SDK-SECRET": fake.secret_key,
        "QISCUS_SDK_APP_ID": fake.app_id,
        "QISCUS_SDK_SECRET": fake.secret_key,
    }
    ids = IdMap()
    outcomes = []
    async with fake.http_client(base_url="http://127.0.0.1") as http:
        for item in cassette.interactions:
            body = ids.body(item.body)
            content = None
            if isinstance(body, str):
                content, body = body.encode(), None
            response = await http.request(
                item.method,
                ids.path(item.path),
                params=ids.query(item.query),
                json=body,
                content=content,
                headers=headers,
            )
            replayed, text = decode(response.content)
            ids.learn(item.response, replayed)
            findings = compare_exchange(item, response.status_code, replayed, text)
            outcomes.append(Outcome(item, response.status_code, tuple(findings)))
    return outcomes
