"""A page's comments read in place read as the general comment reader reads them.

Each dialect reads the usual shape of comment by subscripts
(``_read_page``) and hands anything else to its general reader
(``_read_comment``). Every outcome, the comments with their every field and
which of them share a sender, or an error's type and message, must be the
general reader's, on fixture pages, on the benchmark page and on random
pages, a malformed comment among good ones included.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioqiscus._envelope import structure
from aioqiscus.dialects import _common as c
from aioqiscus.dialects import v2, v21

from ._comment_pages import (
    AUTHOR_VALUES,
    DIALECTS,
    FIELD_VALUES,
    TEMPLATES,
    comments,
)
from .conftest import SAMPLES, sample
from .test_fuzz import JSON

MODULES = {"v2": v2, "v2.1": v21}


def _outcome(read: Any) -> tuple[Any, ...]:
    """The comments, every field spelt out and who shares a sender, or an error."""
    try:
        found = read()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return ("raised", type(exc), str(exc))
    senders = [id(comment.sender) for comment in found]
    shared = [senders.index(s) for s in senders]
    return ("value", found, repr([attrs.asdict(x) for x in found]), shared)


def _both(
    dialect: str, page: Any, room: Any = "234"
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What the page reader makes of *page*, and what the general reader does."""
    module = MODULES[dialect]

    def general(found: Any) -> tuple[Any, ...]:
        senders = c.Senders()
        return tuple(module._read_comment(d, room, senders) for d in found)

    fast = _outcome(lambda: structure(lambda p: module._read_page(p, room), page, "x"))
    slow = _outcome(lambda: structure(general, page, "x"))
    return fast, slow


def _same(dialect: str, page: Any, room: Any = "234") -> tuple[Any, ...]:
    fast, slow = _both(dialect, page, room)
    assert fast == slow
    return fast


@pytest.mark.parametrize("room", [None, "", 0, 77, True])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_any_room_id_of_the_request_reads_alike(dialect: str, room: Any) -> None:
    """The request's room id fills the comments' as the general reader fills it."""
    _same(dialect, [_usual(dialect)] * 2, room)


@pytest.mark.parametrize(
    ("dialect", "name"),
    [
        ("v2", "v2/load_comments"),
        ("v2", "v2/load_comments_early"),
        ("v2", "v2/search_messages"),
        ("v2.1", "v21/load_comments"),
    ],
)
def test_fixture_pages_read_alike(dialect: str, name: str) -> None:
    """The documents' pages read to the same comments both ways."""
    outcome = _same(dialect, sample(name)["results"]["comments"])
    assert outcome[0] == "value"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_benchmark_page_reads_alike(dialect: str) -> None:
    """The mixed page reads alike, each of its four senders built once."""
    sys.path.insert(0, str(SAMPLES.parents[1] / "bench"))
    try:
        import micro  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    page = json.loads(micro.mixed_page(dialect))["results"]["comments"]
    outcome = _same(dialect, page)
    assert outcome[0] == "value"
    assert len(set(outcome[3])) == 4


def _usual(dialect: str) -> dict[str, Any]:
    """A comment in the shape the page reader reads in place."""
    if dialect == "v2":
        base = sample("v2/load_comments")["results"]["comments"][0]
        return {**base, "type": "text", "payload": {}, "user_id": 7}
    base = sample("v21/load_comments")["results"]["comments"][0]
    user = {**base["user"], "active": True, "extras": {}}
    return {**base, "id": 5, "extras": {}, "user": user}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_malformed_comment_between_usual_ones_fails_alike(dialect: str) -> None:
    """A comment without its text in mid-page raises the general reader's error."""
    good = _usual(dialect)
    bad = {k: v for k, v in good.items() if k != "message"}
    fast, slow = _both(dialect, [good, good, bad, good])
    assert fast == slow
    assert fast[0] == "raised"
    assert "'message'" in fast[2]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_senders_equal_but_of_other_types_are_not_shared(dialect: str) -> None:
    """``true`` and ``1``, ``1`` and ``1.0`` are equal in Python, not in JSON."""
    good = _usual(dialect)
    if dialect == "v2":
        other = {**good, "user_id": 7.0}
        pages = [[good, other], [other, good]]
    else:
        other = {**good, "user": {**good["user"], "active": 1}}
        nested = {**good, "user": {**good["user"], "extras": {"a": 1.0}}}
        first = {**good, "user": {**good["user"], "extras": {"a": 1}}}
        moved = {**good, "user": dict(reversed(list(good["user"].items())))}
        pages = [[good, other], [first, nested], [good, moved, good]]
    # A sender first met in a comment the general reader reads (one key
    # more), then in usual ones.
    odd = {**good, "unknown": 1}
    pages += [[{**odd, **page[0]}, *page[1:]] for page in pages]
    pages += [[odd, *page] for page in pages]
    for page in pages:
        _same(dialect, page)


#: Markers in a comment's extras, right and wrong.
MARKERS = [{c.MARKER_KEY: v, "k": 1} for v in ("m1", "", 0, False, 5, [1], None)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_one_field_change_of_a_usual_comment_reads_alike(dialect: str) -> None:
    """The usual comment with each listed value of one field, or without it,
    between two usual ones."""
    good = _usual(dialect)
    changes = {**FIELD_VALUES, "extras": [*FIELD_VALUES["extras"], *MARKERS]}
    for key, values in changes.items():
        for value in [*values, KeyError]:
            comment = {**good, key: value}
            if value is KeyError:
                del comment[key]
            _same(dialect, [good, comment, good])


@st.composite
def pages(draw: st.DrawFn, dialect: str) -> list[Any]:
    """Up to six comments: usual ones, their senders repeated or changed, and
    random or broken ones between them."""
    usual = _usual(dialect)
    found: list[Any] = []
    for _ in range(draw(st.integers(0, 6))):
        pick = draw(st.integers(0, 4))
        if pick == 0:
            found.append(draw(comments(dialect)))
        elif pick == 1 and dialect == "v2.1":
            user = dict(usual["user"])
            key = draw(st.sampled_from(sorted(AUTHOR_VALUES)))
            user[key] = draw(st.sampled_from(AUTHOR_VALUES[key]) | JSON)
            found.append({**usual, "user": user})
        elif pick == 1:
            key = draw(st.sampled_from(["email", "username", "user_id"]))
            found.append({**usual, key: draw(st.sampled_from([1, 1.0, True, "1"]))})
        elif pick == 2:
            key = draw(st.sampled_from(sorted(set(usual) & set(FIELD_VALUES))))
            value = draw(st.sampled_from(FIELD_VALUES[key]) | JSON)
            found.append({**usual, key: value})
        else:
            found.append(dict(draw(st.sampled_from([usual, *TEMPLATES[dialect]]))))
    return found


@pytest.mark.parametrize("dialect", DIALECTS)
def test_random_pages_read_alike(dialect: str) -> None:
    """Random pages, valid and broken, read alike both ways."""

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(page=pages(dialect))
    def run(page: list[Any]) -> None:
        _same(dialect, page)

    run()
