"""Comment pages and sends' answers decoded into msgspec structs (``aioqiscus[fast]``).

Pure, no I/O; imported on the first page read or comment send where
msgspec is the JSON library (:data:`aioqiscus._json.BACKEND`), never by
``import aioqiscus``.

A ``load_comments`` answer, or a comment send's (``results.comment``), is
decoded straight into structs of the shape servers send (each field of the
type the documents show), and each comment
built from its struct's fields by :func:`~._common.comment_of`, the function
the dict reader ends in, with the same hooks in the same order. The structs
take only the usual shapes: anything else (a numeric string for an id,
extras sent as a JSON string, a v2.1 author with keys beyond the five a
comment's ``user`` holds, ``NaN``, a missing ``message``) makes the decoder
or the reader raise, and the caller then reads the answer the usual way
(envelope, dicts, :func:`~._common.build_comment`), which decides every
value and every error. What the structs accept, both readers read alike
(``tests/test_typed_pages.py`` compares them on random documents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ..models import Comment, User
from . import _common as c

_UNSET: Any = msgspec.UNSET


# Every struct is untracked by the garbage collector (gc=False): decoded JSON
# holds no cycles, a struct lives only while its page is read, and a page's
# hundred comments no longer count towards the collections a parse sets off.


class _Author(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A v2.1 comment's ``user``: the keys the hand reader takes, no other."""

    user_id: str
    username: str | None = None
    avatar_url: str | None = None
    active: bool | None = None
    extras: dict[str, Any] | None = None


class _Comment(msgspec.Struct, gc=False):
    """The fields both dialects' comments share."""

    message: str
    type: str | None = None
    extras: dict[str, Any] | None = None
    unique_temp_id: str | None = None
    unique_id: str | None = None
    id: int | None = None
    comment_before_id: int | None = None
    disable_link_preview: bool = False
    room_id: str | int | msgspec.UnsetType | None = msgspec.UNSET
    payload: Any = None
    timestamp: str | None = None


class _Comment21(_Comment, kw_only=True, gc=False):
    """A v2.1 comment: its author nested."""

    user: _Author


class _Comment2(_Comment, gc=False):
    """A v2 comment: its author flat, its room named."""

    email: str | None = None
    username: str | None = None
    user_avatar_url: str | None = None
    user_avatar: Any = None
    user_id: int | None = None
    room_name: str | None = None
    chat_type: str | None = None


class _Page21(msgspec.Struct):
    comments: list[_Comment21]


class _Page2(msgspec.Struct):
    comments: list[_Comment2]


class _Answer21(msgspec.Struct):
    results: _Page21


class _Answer2(msgspec.Struct):
    results: _Page2


class _Sent21(msgspec.Struct):
    comment: _Comment21


class _Sent2(msgspec.Struct):
    comment: _Comment2


class _SentAnswer21(msgspec.Struct):
    results: _Sent21


class _SentAnswer2(msgspec.Struct):
    results: _Sent2


def _comment(
    s: _Comment,
    sender: User,
    room_id: str | None,
    room_name: str | None = None,
    room_kind: Any = None,
) -> Comment:
    room = s.room_id
    return c.comment_of(
        s.type,
        s.extras,
        s.unique_temp_id,
        s.unique_id,
        s.id,
        s.comment_before_id,
        s.message,
        s.disable_link_preview,
        room_id if room is _UNSET else room,
        s.payload,
        s.timestamp,
        sender,
        room_name,
        room_kind,
    )


def v21_readers(author_of: Callable[[Any, Any, Any, Any, Any], User]) -> c.TypedReaders:
    """The readers of a v2.1 ``load_comments`` body and a comment send's answer.

    *author_of* is the v2.1 reader's own: the author from its user id,
    username, avatar URL, extras and active flag.
    """
    decode_page = msgspec.json.Decoder(_Answer21).decode
    decode_sent = msgspec.json.Decoder(_SentAnswer21).decode

    def author(a: _Author) -> User:
        return author_of(a.user_id, a.username, a.avatar_url, a.extras, a.active)

    def read(body: bytes, room_id: str | None) -> tuple[Comment, ...]:
        # Each distinct author built once, as c.Senders does: a struct is
        # reused for an equal one (its fields are typed, so == is exact).
        seen: dict[str, tuple[_Author, User]] = {}
        found = []
        for s in decode_page(body).results.comments:
            a = s.user
            known = seen.get(a.user_id)
            if known is not None and known[0] == a:
                sender = known[1]
            else:
                sender = author(a)
                seen[a.user_id] = (a, sender)
            found.append(_comment(s, sender, room_id))
        return tuple(found)

    def read_sent(body: bytes, room_id: str | None) -> Comment:
        s = decode_sent(body).results.comment
        a = s.user  # author() without its call: every send reads one
        sender = author_of(a.user_id, a.username, a.avatar_url, a.extras, a.active)
        return _comment(s, sender, room_id)

    return c.TypedReaders(read, read_sent)


def v2_readers(
    avatar: Callable[[Any, Any], Any], sender: Callable[[Any], User]
) -> c.TypedReaders:
    """The readers of a v2 ``load_comments`` body and a comment send's answer.

    *avatar* and *sender* are the v2 reader's own: the avatar URL from
    ``user_avatar_url`` or ``user_avatar``, and the author from the key
    (email, username, avatar URL, user id).
    """
    decode_page = msgspec.json.Decoder(_Answer2).decode
    decode_sent = msgspec.json.Decoder(_SentAnswer2).decode

    def read_all(found: list[_Comment2], room_id: str | None) -> tuple[Comment, ...]:
        # Each distinct author built once, as c.Senders does; the key's
        # fields are typed (the avatar URL, when not, fails the read), so an
        # equal key is an equal document. One flat loop: a call per comment
        # would cost every page.
        seen: dict[tuple[Any, ...], User] = {}
        read = []
        for s in found:
            url = s.user_avatar_url
            if url is None:
                url = avatar(None, s.user_avatar)
            key = (s.email, s.username, url, s.user_id)
            author = seen.get(key)
            if author is None:
                author = seen[key] = sender(key)
            kind = s.chat_type
            read.append(
                _comment(
                    s,
                    author,
                    room_id,
                    s.room_name or None,
                    None if kind is None else c.room_type(kind),
                )
            )
        return tuple(read)

    def read_page(body: bytes, room_id: str | None) -> tuple[Comment, ...]:
        return read_all(decode_page(body).results.comments, room_id)

    def read_sent(body: bytes, room_id: str | None) -> Comment:
        return read_all([decode_sent(body).results.comment], room_id)[0]

    return c.TypedReaders(read_page, read_sent)
