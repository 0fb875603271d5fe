"""A comment send's answer, read at once, reads as the envelope and parser read it.

Every send reads its answer (``results.comment``): a success is read straight
from the body (into msgspec structs with ``aioqiscus[fast]``, else from the
decoded dicts), past the envelope's and the parser's calls. Anything that
read refuses is read the usual way (:func:`decipher`, then ``call.parse``),
which decides every value and every error. Every outcome, a value with its
every field or an exception's type and message, must be the usual way's, on
the documented answers and on random documents, with each JSON library.
"""

from __future__ import annotations

import json
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
from aioqiscus.models import Comment, User

from ._comment_pages import AUTHOR_VALUES, DIALECTS, FIELD_VALUES, TEMPLATES, comments
from .conftest import SAMPLES, sample
from .test_fuzz import JSON

MODULES = {"v2": v2, "v2.1": v21}


@pytest.fixture(params=["json", "msgspec"])
def library(request: pytest.FixtureRequest) -> Any:
    """Each JSON library the client may decode with."""
    if request.param == "msgspec":
        pytest.importorskip("msgspec")
    before = _json.BACKEND
    _json.use(request.param)
    yield request.param
    _json.use(before)


def _send(dialect: str, *, system: bool = False) -> Call[Comment]:
    """A comment send as the client builds it, with the JSON library in use."""
    module = MODULES[dialect]
    if system:
        return module.post_system_event("234", "custom", None, (), None, "hi", {}, None)
    return module.post_comment(
        "234", "bot@example.com", "hi", "text", None, None, "m-1", False
    )


def _outcome(read: Any) -> tuple[Any, ...]:
    """A value (with its every field and type spelt out) or an error."""
    try:
        value = read()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return ("raised", type(exc), str(exc))
    return ("value", value, repr(attrs.asdict(value)), type(value.sender))


def _both(call: Call[Comment], body: bytes) -> tuple[Any, Any, bool]:
    """The client's outcome, the usual way's, and whether the body was read at once."""
    raw = RawResponse(200, {}, body)

    def client() -> Comment:
        parse, results = _deciphered(call, raw)
        return structure(parse, results, call.operation)

    def usual() -> Comment:
        return structure(call.parse, decipher(raw), call.operation)

    assert call.read_body is not None
    at_once = _outcome(lambda: call.read_body(raw.body))  # type: ignore[misc]
    return _outcome(client), _outcome(usual), at_once[0] == "value"


def _same(call: Call[Comment], body: bytes) -> bool:
    client, usual, at_once = _both(call, body)
    assert client == usual
    if at_once:  # what the quick read accepts, the usual way reads alike
        assert usual[0] == "value"
    return at_once


def _answer(comment: Any) -> bytes:
    return json.dumps({"status": 200, "results": {"comment": comment}}).encode()


DOCUMENTED = [
    ("v2", "v2/post_comment"),
    ("v2", "v2/post_comment_early"),
    ("v2", "v2/post_system_event_message"),
    ("v2.1", "v21/gosdk/post_comment"),
    ("v2.1", "v21/gosdk/post_system_event_message"),
    ("v2.1", "v21/post_system_event_message"),
    *(
        ("v2.1", f"v21/post_comment_{kind}")
        for kind in ("text", "buttons", "card", "carousel", "custom", "file_attachment")
    ),
]


@pytest.mark.parametrize(("dialect", "name"), DOCUMENTED)
def test_documented_answers_are_read_at_once(
    library: str, dialect: str, name: str
) -> None:
    """Each documented answer takes the quick read and reads as the usual way."""
    body = (SAMPLES / f"{name}.json").read_bytes()
    for system in (False, True):
        assert _same(_send(dialect, system=system), body)


def test_the_benchmark_answer_is_read_at_once(library: str) -> None:
    """The answer bench/server.py sends is read at once, in both dialects."""
    import sys

    sys.path.insert(0, str(SAMPLES.parents[1] / "bench"))
    try:
        import server  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    for dialect, body in server.BODIES.items():
        assert _same(_send(dialect), body)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_one_field_change_reads_alike(library: str, dialect: str) -> None:
    """Each template with each listed value of one field, or without it."""
    call = _send(dialect)
    taken = []
    for template in TEMPLATES[dialect][:4]:
        for key, values in FIELD_VALUES.items():
            for value in [*values, KeyError]:
                comment = {**template, key: value}
                if value is KeyError:
                    del comment[key]
                taken.append(_same(call, _answer(comment)))
    assert sum(taken) >= len(taken) / 3


@st.composite
def answers(draw: st.DrawFn, dialect: str) -> bytes:
    """A send's answer: usually a comment, sometimes any JSON or broken bytes."""
    shape = draw(st.integers(0, 12))
    if shape == 0:
        return json.dumps(draw(JSON)).encode()
    if shape == 1:
        return json.dumps({"status": 200, "results": draw(JSON)}).encode()
    if shape == 2:
        return _answer(draw(comments(dialect)))[: draw(st.integers(0, 40))]
    if shape == 3:
        extra = {"status": draw(JSON), "meta": draw(JSON)}
        return json.dumps(
            {**extra, "results": {"comment": draw(comments(dialect))}}
        ).encode()
    return _answer(draw(comments(dialect)))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_random_answers_read_alike(library: str, dialect: str) -> None:
    """Valid and broken answers: the same comment or the same error."""
    call = _send(dialect)
    taken = []

    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=answers(dialect))
    def run(body: bytes) -> None:
        taken.append(_same(call, body))

    run()
    assert sum(taken) >= len(taken) / 10  # the quick read is exercised too


def test_a_usual_author_is_a_whole_user() -> None:
    """The author assembled in place has every field a User built by __init__ has."""
    author = sample("v21/gosdk/post_comment")["results"]["comment"]["user"]
    built = v21._sender(author)
    expected = User(
        author["user_id"],
        author["username"],
        author["avatar_url"] or None,
        author["extras"],
        active=author["active"],
    )
    assert type(built) is User
    assert built == expected
    assert repr(built) == repr(expected)
    assert attrs.asdict(built) == attrs.asdict(expected)
    assert hash(attrs.astuple(built, recurse=False)[:3]) == hash(
        attrs.astuple(expected, recurse=False)[:3]
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]


def test_every_author_reads_as_the_hooks_read_it() -> None:
    """Each combination of likely author values: the hooks' User or their error.

    The author's values are taken as they are where each already has its
    type; every other combination goes through the hooks. Both readers of a
    comment build authors the same way, so they are compared with the hooks
    themselves, field by field.
    """
    from aioqiscus.dialects import _common as c

    def hooks(*values: Any) -> User:
        user_id, username, avatar_url, extras, active = values
        return User(
            c.identifier(user_id),
            c.strict_str(username),
            c.optional_str(avatar_url),
            c.json_object(extras),
            active=c.optional_bool(active),
        )

    def outcome(build: Any, values: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            user = build(*values)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            return ("raised", type(exc), str(exc))
        return ("value", type(user), attrs.asdict(user), repr(user))

    import itertools

    keys = ("user_id", "username", "avatar_url", "extras", "active")
    seen = 0
    for values in itertools.product(*(AUTHOR_VALUES[k] for k in keys)):
        expected = outcome(hooks, values)
        assert outcome(v21._author, values) == expected, values
        seen += expected[0] == "value"
    assert seen > 100
