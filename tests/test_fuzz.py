"""Fuzz: every parser, fed malformed bodies, raises a QiscusError subclass
and nothing else (no KeyError, TypeError, RecursionError, cattrs errors)."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioqiscus import QiscusError, webhooks
from aioqiscus._envelope import decipher, structure
from aioqiscus._wire import RawResponse
from aioqiscus.dialects import v2, v21

from .conftest import SAMPLES, sample

# Every fuzz test runs on both JSON paths (the standard library and msgspec).
pytestmark = pytest.mark.usefixtures("json_backend")

# One call per parser, with the sample its parser was written against.
PARSERS: list[tuple[str, Any]] = [
    ("v2/create_room", v2.create_room("n", ["a"], "a", None, None)),
    (
        "v2/get_or_create_room_with_target",
        v2.get_or_create_room_with_target(["a", "b"], None),
    ),
    ("v2/get_rooms_info", v2.get_rooms_info(["1"], [], "a", show_participants=False)),
    ("v2/update_room", v2.update_room("1", "n", None, None, None, "a")),
    ("v2/add_room_participants", v2.add_participants("1", ["a"])),
    ("v2/remove_room_participants", v2.remove_participants("1", ["a"])),
    (
        "v2/get_user_rooms_participants",
        v2.list_user_rooms("a", 1, 20, None, show_participants=True),
    ),
    ("v2/get_rooms_info", v2.list_participants("1", 1, 20, "a")),
    ("v2/get_rooms_info", v2.get_unread_counts("a", ["1"])),
    ("v2/post_comment", v2.post_comment("1", "a", "m", "text", None, None, "x", False)),
    ("v2/load_comments", v2.list_comments("1", 1, 20)),
    (
        "v2/post_system_event_message",
        v2.post_system_event("1", "join_room", "a", [], None, None, None, None),
    ),
    ("v2/search_messages", v2.search_messages("a", "q", None)),
    (
        "v2/login_or_register",
        v2.login_or_register("a", "n", None, None, None, None, None),
    ),
    ("v2/reset_user_token", v2.reset_user_token("a")),
    ("v21/create_room", v21.create_room("n", ["a"], "a", None, None)),
    (
        "v21/get_rooms_info",
        v21.get_rooms_info(["1"], [], None, show_participants=False),
    ),
    ("v21/update_room", v21.update_room("1", "n", None, None, None, None)),
    ("v21/add_room_participants", v21.add_participants("1", ["a"])),
    ("v21/remove_room_participants", v21.remove_participants("1", ["a"])),
    ("v21/get_room_participants", v21.list_participants("1", 1, 20, None)),
    (
        "v21/get_user_rooms",
        v21.list_user_rooms("a", 1, 20, None, show_participants=False),
    ),
    ("v21/get_unread_count", v21.get_unread_counts("a", ["1"])),
    (
        "v21/get_or_create_channel",
        v21.get_or_create_channel("c", ["a"], None, None, None),
    ),
    (
        "v21/post_comment_card",
        v21.post_comment("1", "a", "m", "text", None, None, "x", False),
    ),
    (
        "v21/post_comment_carousel",
        v21.post_comment("1", "a", "m", "text", None, None, "x", False),
    ),
    ("v21/load_comments", v21.list_comments("1", 1, 20)),
    (
        "v21/post_system_event_message",
        v21.post_system_event("1", "custom", None, [], None, "m", {"type": "x"}, None),
    ),
    (
        "v21/login_or_register",
        v21.login_or_register("a", "n", None, None, None, None, None),
    ),
    ("v21/get_user_list", v21.list_users(1, 20, None)),
    ("v21/get_user_token", v21.get_user_token("a")),
    (
        "v2/create_export",
        v2.BACKUPS.create_export("users", date(2020, 1, 1), date(2020, 1, 2)),
    ),
    ("v2/list_exports", v2.BACKUPS.list_exports(1)),
    ("v2/get_export", v2.BACKUPS.get_export("x")),
    ("v2/create_import", v2.BACKUPS.create_import("users", b"[]", "f")),
]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutate(document: Any, path: tuple, replacement: Any, delete: bool) -> Any:
    if not path:
        return replacement
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


def run(call: Any, body: bytes, status: int = 200) -> None:
    raw = RawResponse(status, {}, body)
    try:
        results = decipher(raw)
        structure(call.parse, results, "fuzz")
    except QiscusError:
        pass


FUZZ = settings(
    max_examples=400,
    deadline=None,
    # json_backend only selects a module-level function: nothing to reset
    # between examples.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(st.data())
def test_mutated_samples(data):
    """Documented answers with one value replaced or removed never crash a parser."""
    name, call = data.draw(st.sampled_from(PARSERS))
    document = sample(name)
    path = data.draw(st.sampled_from(paths(document)))
    replacement = data.draw(JSON)
    delete = data.draw(st.booleans())
    run(call, json.dumps(mutate(document, path, replacement, delete)).encode())


@FUZZ
@given(st.sampled_from(PARSERS), JSON)
def test_arbitrary_results(parser, results):
    """Any JSON under ``results`` is parsed or refused with a QiscusError."""
    run(parser[1], json.dumps({"status": 200, "results": results}).encode())


@FUZZ
@given(
    st.sampled_from(PARSERS),
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from(
            [
                b"<html><body>502 Bad Gateway</body></html>",
                b'{"results": {"room": {"room_id": "1", "room_na',
                b"[" * 5000,
                b"\xff\xfe\x00",
                b"null",
                b"1e999999",
                b'{"status": 200, "results": ' + b"9" * 500 + b"}",
            ]
        ),
    ),
    st.integers(min_value=100, max_value=599),
)
def test_raw_bodies(parser, body, status):
    """Raw bytes of any kind, with any status, never escape as non-Qiscus errors."""
    run(parser[1], body, status)


@FUZZ
@given(st.data())
def test_webhooks(data):
    """Malformed webhook deliveries raise WebhookError only."""
    name = data.draw(st.sampled_from(["post_comment_rest", "post_comment_early"]))
    document = json.loads((SAMPLES / "webhooks" / f"{name}.json").read_text())
    path = data.draw(st.sampled_from(paths(document)))
    body = json.dumps(mutate(document, path, data.draw(JSON), data.draw(st.booleans())))
    with contextlib.suppress(webhooks.WebhookError):
        webhooks.parse(body.encode())


def test_deep_nesting_is_a_shape_error():
    """A pathologically nested body is a ResponseShapeError, not RecursionError."""
    from aioqiscus import ResponseShapeError

    call = PARSERS[0][1]
    for body in (b"[" * 100_000, b'{"results":' + b"[" * 100_000):
        try:
            run(call, body)
        except RecursionError:  # pragma: no cover - the bug this guards
            raise AssertionError("RecursionError escaped") from None
    raw = RawResponse(200, {}, b"[" * 100_000)
    try:
        decipher(raw)
    except ResponseShapeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("expected ResponseShapeError")


ENDPOINTS = [
    ("v2", "POST", "create_room"),
    ("v2", "GET", "get_or_create_room_with_target"),
    ("v2", "POST", "get_rooms_info"),
    ("v2", "POST", "update_room"),
    ("v2", "POST", "add_room_participants"),
    ("v2", "POST", "post_comment"),
    ("v2", "POST", "post_system_event_message"),
    ("v2", "POST", "search_messages"),
    ("v2", "POST", "login_or_register"),
    ("v2.1", "POST", "create_room"),
    ("v2.1", "POST", "get_or_create_channel"),
    ("v2.1", "GET", "get_rooms_info"),
    ("v2.1", "POST", "update_room"),
    ("v2.1", "POST", "remove_room_participants"),
    ("v2.1", "GET", "get_room_participants"),
    ("v2.1", "POST", "post_comment"),
    ("v2.1", "GET", "load_comments"),
    ("v2.1", "POST", "post_system_event_message"),
    ("v2.1", "POST", "exports"),
    ("v2.1", "POST", "imports"),
    ("v2.1", "GET", "exports/x"),
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ENDPOINTS),
    st.dictionaries(
        st.sampled_from(
            [
                "room_id",
                "user_id",
                "user_ids",
                "emails",
                "participants",
                "creator",
                "name",
                "room_name",
                "type",
                "payload",
                "message",
                "sender_email",
                "user_email",
                "system_event_type",
                "extras",
                "room_options",
                "page",
                "limit",
                "unique_id",
                "start_date",
                "end_date",
                "file",
                "subject_email",
                "object_email",
                "subject_user_id",
                "query",
                "show_participants",
            ]
        ),
        JSON,
        max_size=6,
    ),
)
async def test_fake_never_crashes(endpoint, body):
    """The fake server answers any malformed request with a 4xx envelope."""
    from aioqiscus.testing import FakeQiscus

    dialect, method, name = endpoint
    fake = FakeQiscus()
    fake.add_user("a@x.io")
    fake.store.create_room("G", "group", "a@x.io", [])
    headers = {"QISCUS_SDK_SECRET": fake.secret_key}
    async with fake.http_client(base_url="http://fake", headers=headers) as http:
        url = f"/api/{dialect}/rest/{name}"
        if method == "GET":
            params = [
                (k, json.dumps(v) if not isinstance(v, str) else v)
                for k, v in body.items()
            ]
            response = await http.get(url, params=params)
        else:
            response = await http.post(
                url,
                content=json.dumps(body),
                headers={"content-type": "application/json"},
            )
    assert response.status_code < 500
    assert "status" in response.json()
