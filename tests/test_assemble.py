"""Assemblers build what the class's own ``__init__`` builds."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioqiscus.dialects import _assemble
from aioqiscus.dialects._assemble import assembler
from aioqiscus.dialects._common import comment_of
from aioqiscus.errors import InvalidArgumentError
from aioqiscus.models import Comment, RoomType, User
from aioqiscus.payloads import Button, Card

SENDER = User("alice@example.com", "Alice", extras={"role": "agent"}, active=True)


def fields(instance: object) -> tuple[object, ...]:
    return tuple(getattr(instance, f.name) for f in attrs.fields(type(instance)))


class TestComment:
    def test_same_instance_as_init(self):
        """Every field lands where ``__init__`` puts it, frozen and hashable alike."""
        values = (
            7,
            "234",
            SENDER,
            "hi",
            "buttons",
            None,
            datetime(2024, 5, 1, tzinfo=UTC),
            "marker",
            {"k": 1},
            6,
            True,
            "Lobby",
            RoomType.GROUP,
        )
        built = assembler(Comment)(*values)
        assert type(built) is Comment
        assert built == Comment(*values)
        assert fields(built) == values
        assert repr(built) == repr(Comment(*values))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.message = "changed"  # type: ignore[misc]

    def test_without_the_twin(self, monkeypatch):
        """Where a class cannot take its twin's instances, slots are set one by
        one, to the same object."""
        values = (7, "234", SENDER, "hi", "text", None, None, None, {}, None, False)
        values += (None, None)
        monkeypatch.setattr(_assemble, "_twin", lambda _: None)
        built = assembler(Comment)(*values)
        assert type(built) is Comment
        assert fields(built) == values
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.message = "changed"  # type: ignore[misc]

    def test_twin_only_where_python_allows_it(self):
        """A class whose instances cannot be made by ``object.__new__`` and
        then given its class gets no twin: its slots are set one by one."""
        twin = _assemble._twin(Comment)
        assert twin is not None
        assert issubclass(twin, Comment)
        assert twin.__slots__ == ()
        assert _assemble._twin(int) is None

    def test_needs_every_field(self):
        """No defaults: a missing field is a TypeError, never a silent default."""
        with pytest.raises(TypeError):
            assembler(Comment)(7, "234", SENDER, "hi")

    def test_comment_of_sets_every_field(self):
        """The comment reader's in-place assembly sets each field ``__init__``
        sets, and nothing else: the same frozen Comment."""
        at = datetime(2024, 5, 1, tzinfo=UTC)
        built = comment_of(
            "text", {"k": 1}, "marker", None, 7, 6, "hi", True, "234", None,
            "2024-05-01T00:00:00Z", SENDER, "Lobby", RoomType.GROUP,
        )  # fmt: skip
        values = (7, "234", SENDER, "hi", "text", None, at, "marker", {"k": 1}, 6)
        values += (True, "Lobby", RoomType.GROUP)
        assert type(built) is Comment
        assert fields(built) == values
        assert repr(built) == repr(Comment(*values))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.message = "changed"  # type: ignore[misc]

    def test_in_place_only_for_plain_classes(self):
        """``twin`` refuses a class whose ``__init__`` does more than set fields."""

        @attrs.frozen
        class Checked:
            value: int

            def __attrs_post_init__(self) -> None:
                pass

        assert issubclass(_assemble.twin(Comment), Comment)
        for cls in (Checked, Button):
            with pytest.raises(TypeError):
                _assemble.twin(cls)


URLS = st.sampled_from(
    ["https://example.com/a", "http://x", "ftp://x", "https:///x", "", None, 3]
)
LABELS = st.sampled_from(["Yes", "  ", "", None, 1])


class TestButton:
    @settings(max_examples=300, deadline=None)
    @given(
        LABELS,
        st.sampled_from(["postback", "link", "other"]),
        URLS,
        st.sampled_from(["get", "post", "GET", "fetch"]),
        st.sampled_from(["", "tapped", None]),
    )
    def test_same_verdict_as_init(self, label, kind, url, method, postback_text):
        """The checks run as ``__init__`` runs them: same object or same error."""
        values = (label, kind, url, method, {"id": 1}, postback_text)
        verdicts = []
        for build in (Button, assembler(Button)):
            try:
                verdicts.append(build(*values))
            except InvalidArgumentError as error:
                verdicts.append(f"refused: {error}")
        assert verdicts[0] == verdicts[1]

    def test_checks_in_field_order(self):
        """Several bad fields: the first in field order is the one named."""
        with pytest.raises(InvalidArgumentError, match=r"Button\.label"):
            Button("", "other", "ftp://x", "fetch")
        with pytest.raises(InvalidArgumentError, match=r"Button\.url must be an"):
            Button("Yes", "other", "ftp://x", "fetch")
        with pytest.raises(InvalidArgumentError, match=r"Button\.type"):
            Button("Yes", "other", "https://x", "fetch")
        with pytest.raises(InvalidArgumentError, match=r"Button\.url is required"):
            Button("Yes", "link", None, "get")  # type: ignore[arg-type]


def test_refuses_validators_and_converters():
    """A class whose ``__init__`` validates per field or converts is refused."""
    with pytest.raises(TypeError, match="Card"):
        assembler(Card)

    @attrs.define
    class Plain:
        a: int

    with pytest.raises(TypeError):
        assembler(attrs.make_class("Loose", ["a"], slots=False))
    assert assembler(Plain)(1) == Plain(1)


def test_checked_sets_fields_only():
    """``checked=True`` builds what ``__init__`` builds from values it accepts,
    and leaves every check to the caller."""
    button = Button.link("Open", "https://example.com")
    values = ("Deal", "", "", "https://example.com/i.png", None, (button,))
    assert assembler(Card, checked=True)(*values) == Card(*values)
    unchecked = assembler(Card, checked=True)("", "", "", "ftp://x", None, ())
    assert unchecked.title == ""
    assert assembler(Button, checked=True)("", "other", "", "get", None, "").label == ""
