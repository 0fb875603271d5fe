"""Comment pages read from bytes into msgspec structs read as the dict reader does.

With ``aioqiscus[fast]`` a ``load_comments`` answer is decoded straight into
structs (``dialects/_typed.py``); anything the structs refuse is read the
usual way. Every outcome, a value or an exception's type and message, must
be the one the dict reader gives, on fixture pages and on random documents
(valid and broken), and the usual pages must take the struct path.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioqiscus import _json
from aioqiscus._client import _deciphered
from aioqiscus._envelope import decipher, structure
from aioqiscus._wire import Call, RawResponse
from aioqiscus.dialects import v2, v21
from aioqiscus.dialects._common import timestamp
from aioqiscus.errors import ResponseShapeError

from ._comment_pages import AUTHOR_VALUES, FIELD_VALUES, TEMPLATES, comments
from .conftest import SAMPLES
from .test_fuzz import JSON

pytest.importorskip("msgspec")

MODULES = {"v2": v2, "v2.1": v21}


@pytest.fixture(autouse=True)
def _msgspec() -> Any:
    before = _json.BACKEND
    _json.use("msgspec")
    yield
    _json.use(before)


def _calls(dialect: str) -> tuple[Call[Any], Call[Any]]:
    """The call as built with msgspec (typed) and with the stdlib (dicts)."""
    module = MODULES[dialect]
    typed = module.list_comments("234", 1, 3)
    _json.use("json")
    try:
        plain = module.list_comments("234", 1, 3)
    finally:
        _json.use("msgspec")
    assert typed.read_body is not None
    assert plain.read_body is None
    return typed, plain


def _outcome(read: Any) -> tuple[Any, ...]:
    """A value (with its every field and type spelt out) or an error."""
    try:
        value = read()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return ("raised", type(exc), str(exc))
    return ("value", value, repr(attrs.asdict(value)))


def _both(dialect: str, body: bytes) -> tuple[tuple[Any, ...], tuple[Any, ...], bool]:
    """The client's outcome, the dict reader's, and whether structs read it."""
    typed, plain = _calls(dialect)
    raw = RawResponse(200, {}, body)

    def client() -> Any:
        parse, results = _deciphered(typed, raw)
        return structure(parse, results, typed.operation)

    def dicts() -> Any:
        return structure(plain.parse, decipher(raw), plain.operation)

    assert typed.read_body is not None
    struct = _outcome(lambda: typed.read_body(raw.body))  # type: ignore[misc]
    return _outcome(client), _outcome(dicts), struct[0] == "value"


def _page(comments: Any) -> bytes:
    return json.dumps({"status": 200, "results": {"comments": comments}}).encode()


FIXTURES = [
    ("v2", "v2/load_comments.json"),
    ("v2", "v2/load_comments_early.json"),
    ("v2.1", "v21/load_comments.json"),
]


@pytest.mark.parametrize(("dialect", "name"), FIXTURES)
def test_fixture_pages_take_the_struct_path(dialect: str, name: str) -> None:
    body = (SAMPLES / name).read_bytes()
    client, dicts, typed = _both(dialect, body)
    assert typed
    assert client == dicts
    assert client[0] == "value"


def test_the_benchmark_page_takes_the_struct_path() -> None:
    import sys

    sys.path.insert(0, str(SAMPLES.parents[1] / "bench"))
    try:
        import micro  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    for dialect in MODULES:
        client, dicts, typed = _both(dialect, micro.mixed_page(dialect))
        assert typed
        assert client == dicts


# ---------------------------------------------------------------- random pages


@st.composite
def bodies(draw: st.DrawFn, dialect: str) -> bytes:
    page = draw(st.lists(comments(dialect), max_size=3))
    shape = draw(st.integers(0, 20))
    if shape == 0:
        return _page(draw(JSON))
    if shape == 1:
        return json.dumps({"status": 200, "results": draw(JSON)}).encode()
    if shape == 2:
        return json.dumps(draw(JSON)).encode()
    if shape == 3:
        return _page(page)[: draw(st.integers(0, 40))]
    if shape == 4:
        extra = {"meta": draw(JSON), "status": draw(JSON)}
        return json.dumps({**extra, "results": {"comments": page}}).encode()
    return _page(page)


def _same(dialect: str, body: bytes) -> bool:
    client, dicts, typed = _both(dialect, body)
    assert client[0] == dicts[0], (client, dicts)
    if client[0] == "raised":
        assert client == dicts
    else:
        assert client[2] == dicts[2]
        assert client[1] == dicts[1]
    if typed:  # what the structs read, the dicts read alike
        assert dicts[0] == "value"
    return typed


@pytest.mark.parametrize("dialect", MODULES)
def test_every_one_field_change_reads_alike(dialect: str) -> None:
    """Each template with each listed value of one field, or without it."""
    taken = []
    for template in TEMPLATES[dialect]:
        for key, values in FIELD_VALUES.items():
            for value in [*values, KeyError]:
                comment = {**template, key: value}
                if value is KeyError:
                    del comment[key]
                taken.append(_same(dialect, _page([comment, template])))
        if dialect == "v2.1":
            for key, values in AUTHOR_VALUES.items():
                for value in [*values, KeyError]:
                    user = {**template["user"], key: value}
                    if value is KeyError:
                        del user[key]
                    taken.append(_same(dialect, _page([{**template, "user": user}])))
    assert sum(taken) >= len(taken) / 3


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies("v2.1"))
def test_v21_random_pages_read_alike(body: bytes) -> None:
    _same("v2.1", body)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies("v2"))
def test_v2_random_pages_read_alike(body: bytes) -> None:
    _same("v2", body)


@pytest.mark.parametrize("dialect", MODULES)
def test_random_pages_mostly_take_the_struct_path(dialect: str) -> None:
    """The property tests above exercise the struct path, not only the fallback."""
    taken = []

    @settings(max_examples=120, deadline=None, database=None, derandomize=True)
    @given(body=bodies(dialect))
    def run(body: bytes) -> None:
        taken.append(_same(dialect, body))

    run()
    assert sum(taken) >= len(taken) / 20


def test_non_finite_numbers_are_read_as_the_stdlib_reads_them() -> None:
    """msgspec refuses NaN; the page is read the usual way, by the stdlib."""
    comment = {**TEMPLATES["v2.1"][0], "extras": {"x": math.nan}}
    client, dicts, typed = _both("v2.1", _page([comment]))
    assert not typed
    assert client[0] == "value"
    assert client[2] == dicts[2]


#: Times as servers write them, and as they should not.
TIMES = st.one_of(
    st.sampled_from(FIELD_VALUES["timestamp"]),
    st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat),
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="milliseconds")),
    st.datetimes().map(lambda d: f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond:07d}Z"),
    st.from_regex(r"000[01]-01-01[T ][0-9:]{0,8}(Z|[+-]0[0-9]:00)?", fullmatch=True),
    st.text(max_size=12),
    st.integers() | st.none() | st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(value=TIMES)
def test_comment_times_read_as_timestamp_reads_them(value: Any) -> None:
    """A comment's time, read in place, is what ``timestamp`` makes of it."""
    try:
        expected = timestamp(value)
    except (TypeError, ValueError) as exc:
        refusal = re.escape(f"{type(exc).__name__}: {exc}")
        for dialect, module in MODULES.items():
            comment = {**TEMPLATES[dialect][0], "timestamp": value}
            with pytest.raises(ResponseShapeError, match=f"{refusal}$"):
                module.parse_comment(comment)
        return
    for dialect, module in MODULES.items():
        comment = {**TEMPLATES[dialect][0], "timestamp": value}
        found = module.parse_comment(comment).timestamp
        assert found == expected
        assert repr(found) == repr(expected)
