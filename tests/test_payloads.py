"""Typed payloads: validation at construction, and the wire in both directions."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioqiscus import (
    AccountLinking,
    Button,
    Buttons,
    Card,
    Carousel,
    CarouselCard,
    ContactPerson,
    Custom,
    Dialect,
    FileAttachment,
    InvalidArgumentError,
    Location,
    RawPayload,
    Reply,
    SystemEvent,
    SystemEventType,
    payloads,
)
from aioqiscus._payload_rules import is_http_url as _is_http_url
from aioqiscus.dialects import _payloads
from aioqiscus.dialects._payloads import _PARSERS, from_wire, summary, to_wire

from .conftest import sample

_KNOWN_TYPES = {*_PARSERS, "text"}
POSTBACK = Button.postback("button1", "http://somewhere.com/button1")
LINK = Button.link("button2", "http://somewhere.com/button2?id=123")


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Button.postback("", "https://x.io"), "Button.label"),
            (lambda: Button.postback("  ", "https://x.io"), "Button.label"),
            (lambda: Button("ok", "postback", None), "Button.url"),
            (lambda: Button.link("ok", "javascript:alert(1)"), "Button.url"),
            (lambda: Button.link("ok", "ftp://x.io/f"), "Button.url"),
            (lambda: Button.link("ok", "https://"), "Button.url"),
            (lambda: Button("ok", "submit", "https://x.io"), "Button.type"),
            (
                lambda: Button.postback("ok", "https://x.io", method="teleport"),
                "Button.method",
            ),
            (lambda: Buttons("pick", []), "Buttons.buttons"),
            (lambda: Buttons("pick", ["not a button"]), "Buttons.buttons"),
            (lambda: Card(title=""), "Card.title"),
            (lambda: Card(title="t", image_url="not-a-url"), "Card.image_url"),
            (lambda: Carousel([]), "Carousel.cards"),
            (lambda: CarouselCard(title=""), "CarouselCard.title"),
            (lambda: Location("n", "a", 90.5, 0), "Location.latitude"),
            (lambda: Location("n", "a", 0, -181), "Location.longitude"),
            (lambda: Location("n", "a", float("nan"), 0), "Location.latitude"),
            (lambda: Location("n", "a", True, 0), "Location.latitude"),
            (lambda: ContactPerson("Evan", "x", "fax"), "ContactPerson.kind"),
            (lambda: ContactPerson("", "x"), "ContactPerson.name"),
            (lambda: Reply("text", 0), "Reply.replied_comment_id"),
            (lambda: Custom(""), "Custom.subtype"),
            (lambda: AccountLinking("login", "mailto:x@y.z"), "AccountLinking.url"),
            (lambda: FileAttachment("file.png"), "FileAttachment.url"),
        ],
    )
    def test_invalid_raises_naming_field(self, build, field):
        """Each invalid payload raises a ValueError that names the field."""
        with pytest.raises(ValueError, match=field.replace(".", r"\.")) as info:
            build()
        assert isinstance(info.value, InvalidArgumentError)

    def test_valid_buttons(self):
        """Both button kinds build, sequences become tuples."""
        buttons = Buttons("silahkan pencet", [POSTBACK, LINK])
        assert buttons.buttons == (POSTBACK, LINK)
        assert POSTBACK.method == "get"


#: The check URLs had before it was written in string methods.
HTTP_URL = re.compile(r"https?://[^/?#\s]+(?:[/?#]\S*)?", re.IGNORECASE)
#: Whitespace of every kind, and unprintable characters that are not whitespace.
URLISH = st.text(
    alphabet="hHtTpPsS:/?#.aZ09 \t\n\x00\x1c\x85\u00a0\u200b\u2028\u3000é",
    max_size=16,
)


class TestUrlCheck:
    @settings(max_examples=2000, deadline=None)
    @given(st.sampled_from(["", "http://", "https://", "HTTPS://", "hTtP://"]), URLISH)
    def test_same_as_the_regex(self, scheme, rest):
        """URLs are accepted exactly where the former regex accepted them."""
        value = scheme + rest
        assert _is_http_url(value) == (HTTP_URL.fullmatch(value) is not None)

    @pytest.mark.parametrize(
        ("value", "ok"),
        [
            ("https://example.com", True),
            ("HTTP://example.com/a b", False),
            ("https://", False),
            ("https:///path", False),
            ("https://host?q=1#f", True),
            ("https://host\u00a0x", False),
            ("ftp://host", False),
            ("http\u017f://host", False),  # the regex took U+017F for an "s"
        ],
    )
    def test_examples(self, value, ok):
        """http(s), a host, no whitespace anywhere."""
        assert _is_http_url(value) is ok


class TestFromWireSamples:
    def test_buttons(self):
        """The documented buttons payload parses into typed buttons."""
        payload = from_wire("buttons", sample("v2/payloads/buttons"))
        assert payload == Buttons("silahkan pencet", (POSTBACK, LINK))

    def test_card_response_image(self):
        """A card response's ``image`` is the card's image_url."""
        card = from_wire("card", sample("v2/payloads/card"))
        assert isinstance(card, Card)
        assert card.image_url == "http://url.com/gambar.jpg"
        assert card.title == "Atasan Blouse Tunik Wanita Baju Muslim Worie Longtop"
        assert card.url == "http://url.com/baju?id=123&track_from_chat_room=123"
        assert card.buttons == (POSTBACK, LINK)

    def test_card_request_image_url(self):
        """The v2 request shape (image_url) parses the same way."""
        card = from_wire("card", sample("v2/payloads/card_request"))
        assert card == from_wire("card", sample("v2/payloads/card"))

    def test_account_linking(self):
        """account_linking keeps its params."""
        payload = from_wire("account_linking", sample("v2/payloads/account_linking"))
        assert isinstance(payload, AccountLinking)
        assert payload.redirect_url == "http://google.com/redirect"
        assert payload.params["button_text"] == "ini button"

    def test_custom(self):
        """custom splits its sub type from its content."""
        assert from_wire("custom", sample("v2/payloads/custom")) == Custom(
            "promo", {"date": "2017-09-09"}
        )

    def test_contact_person(self):
        """contact_person reads its kind from ``type``."""
        assert from_wire("contact_person", sample("v2/payloads/contact_person")) == (
            ContactPerson("Evan", "evan@qiscus.com", "email")
        )

    def test_location_out_of_range_is_kept_raw(self):
        """The document's location has latitude 1213: kept raw, never a crash."""
        data = sample("v2/payloads/location")
        payload = from_wire("location", data)
        assert payload == RawPayload("location", data)

    def test_valid_location(self):
        """A location with real coordinates is typed."""
        data = {
            **sample("v2/payloads/location"),
            "latitude": -7.78,
            "longitude": 110.38,
        }
        payload = from_wire("location", data)
        assert isinstance(payload, Location)
        assert payload.map_url == "https://goo.gl/maps/nkY2DBF1quM2"

    @pytest.mark.parametrize(
        ("name", "event", "objects", "room_name"),
        [
            ("system_create_room", SystemEventType.CREATE_ROOM, (), "Qiscus"),
            (
                "system_add_member",
                SystemEventType.ADD_MEMBER,
                ("ani@example.com",),
                None,
            ),
            ("system_join_room", SystemEventType.JOIN_ROOM, (), "Qiscus"),
            (
                "system_remove_member",
                SystemEventType.REMOVE_MEMBER,
                ("ani@example.com",),
                None,
            ),
            ("system_left_room", SystemEventType.LEFT_ROOM, (), "Qiscus"),
            (
                "system_change_room_name",
                SystemEventType.CHANGE_ROOM_NAME,
                (),
                "Qiscus Super Family",
            ),
            ("system_change_room_avatar", SystemEventType.CHANGE_ROOM_AVATAR, (), None),
        ],
    )
    def test_system_events(self, name, event, objects, room_name):
        """Every documented system event sub type parses."""
        payload = from_wire("system_event", sample(f"v2/payloads/{name}"))
        assert payload == SystemEvent(
            event,
            subject_id="ucup@example.com",
            subject_name="Ucup",
            object_ids=objects,
            object_names=("Ani",) if objects else (),
            room_name=room_name,
        )

    def test_system_custom_v2(self):
        """A v2 custom system event echoes the client's payload."""
        data = sample("v2/payloads/system_custom")
        payload = from_wire("system_event", data)
        assert payload == SystemEvent(SystemEventType.CUSTOM, payload=data)

    def test_unknown_type(self):
        """Unknown comment types degrade to RawPayload."""
        assert from_wire("poll", {"q": "?"}) == RawPayload("poll", {"q": "?"})

    @pytest.mark.parametrize(
        ("kind", "data"),
        [
            ("buttons", {"text": "x", "buttons": "nope"}),
            (
                "buttons",
                {
                    "text": "x",
                    "buttons": [
                        {"label": "", "type": "link", "payload": {"url": "http://a.b"}}
                    ],
                },
            ),
            ("card", {"title": 5}),
            ("carousel", {"cards": None}),
            ("reply", {"text": "x"}),
            ("file_attachment", {"url": "http://a.b", "size": "big"}),
            ("buttons", ["not", "an", "object"]),
        ],
    )
    def test_invalid_server_payloads_degrade(self, kind, data):
        """Payloads failing validation are kept raw instead of raising."""
        assert from_wire(kind, data) == RawPayload(kind, data)

    def test_text_has_no_payload(self):
        """text comments have no payload."""
        assert from_wire("text", None) is None
        assert from_wire("text", {}) is None


ROUND_TRIP = [
    Buttons("pick one", (POSTBACK, LINK)),
    Card(
        title="Blouse",
        text="Special deal",
        description="Rp 49.000",
        image_url="https://img.example.com/b.jpg",
        url="https://shop.example.com/b",
        buttons=(POSTBACK,),
    ),
    Carousel(
        (
            CarouselCard(
                title="A",
                description="d",
                image_url="https://img.example.com/a.jpg",
                default_action=Button.postback("Load more", "https://x.io/more"),
                buttons=(LINK,),
            ),
        )
    ),
    AccountLinking("login", "https://x.io/login", "https://x.io/back", {"a": 1}),
    Custom("promo", [1, "two", {"three": 3}]),
    Location("Kampus", "Jalan C", -7.78, 110.38, "https://goo.gl/maps/x"),
    ContactPerson("Evan", "+62811", "phone"),
    Reply("yes", 124974, "question?", "abc@outlook.com"),
    FileAttachment("https://cdn.example.com/f.png", "caption", "f.png", 10, 1),
]


class TestRoundTrip:
    @pytest.mark.parametrize("dialect", list(Dialect))
    @pytest.mark.parametrize("payload", ROUND_TRIP, ids=lambda p: type(p).__name__)
    def test_round_trip(self, payload, dialect):
        """What we send parses back into an equal payload, in both dialects."""
        wire = to_wire(payload, dialect)
        if isinstance(payload, Card):
            # Servers answer ``image`` whatever the request said.
            wire["image"] = wire.pop("image_url", wire.get("image"))
        back = from_wire(type(payload).TYPE, wire)
        if isinstance(payload, Carousel):
            # A default action has no label on the wire.
            assert back.cards[0].default_action.url == "https://x.io/more"
            return
        assert back == payload

    def test_card_image_key_per_dialect(self):
        """A card's image is image_url in v2 requests, image in v2.1."""
        card = Card(title="t", image_url="https://x.io/i.png")
        assert to_wire(card, Dialect.V2)["image_url"] == "https://x.io/i.png"
        assert to_wire(card, Dialect.V2_1)["image"] == "https://x.io/i.png"

    def test_buttons_wire_matches_document(self):
        """The buttons we send have the documented JSON shape."""
        wire = to_wire(Buttons("silahkan pencet", (POSTBACK, LINK)), Dialect.V2)
        assert wire == sample("v2/payloads/buttons")

    def test_summaries(self):
        """Empty messages default to the payload's own text."""
        assert summary(Buttons("pick", (LINK,))) == "pick"
        assert summary(Card(title="T")) == "T"
        assert summary(ContactPerson("Evan", "+62")) == "Evan - +62"
        assert summary(Custom("x")) == ""


def _doc(name: str) -> dict:
    """A payload example of the reference documents (a comment's payload)."""
    if name.startswith("v21/"):
        return sample(name)["results"]["comment"]["payload"]
    return sample(name)


# The reference documents' examples, by comment type. The import document's
# reply; the location with real coordinates (the document's own is kept raw).
DOC_EXAMPLES = [
    ("buttons", _doc("v2/payloads/buttons")),
    ("card", _doc("v2/payloads/card")),
    ("card", _doc("v21/post_comment_card")),
    ("carousel", _doc("v21/post_comment_carousel")),
    (
        "location",
        {**_doc("v2/payloads/location"), "latitude": -7.78, "longitude": 110.38},
    ),
    ("contact_person", _doc("v2/payloads/contact_person")),
    ("custom", _doc("v2/payloads/custom")),
    ("account_linking", _doc("v2/payloads/account_linking")),
    ("reply", {"text": "ini comment", "replied_comment_id": 1}),
    ("system_event", _doc("v21/post_system_event_message")),
    ("system_event", _doc("v2/payloads/system_add_member")),
    ("system_event", _doc("v2/payloads/system_custom")),
]
#: Examples whose JSON to_wire() writes back key for key: the others differ
#: only in what the writer leaves out (a link's method, an empty
#: postback_text, v2's ``*_email`` names in the v2.1 form).
WIRE_EXACT = {0, 1, 4, 5, 6, 7, 8, 9}


class TestWireForms:
    """The public to_wire() and payloads.from_wire()."""

    @pytest.mark.parametrize(
        ("index", "kind", "data"),
        [(i, k, d) for i, (k, d) in enumerate(DOC_EXAMPLES)],
        ids=[f"{k}-{i}" for i, (k, _) in enumerate(DOC_EXAMPLES)],
    )
    def test_document_examples_round_trip(self, index, kind, data):
        """Each document example reads typed and writes back to the same value."""
        payload = payloads.from_wire(kind, data)
        assert not isinstance(payload, RawPayload)
        assert kind == payload.TYPE
        assert payloads.from_wire(kind, payload.to_wire()) == payload
        if index in WIRE_EXACT:
            assert payload.to_wire() == data

    def test_link_button_without_payload(self):
        """A link button (payload None) writes the documented link JSON."""
        link = Button.link("Open", "https://x.io/a")
        wire = Buttons("pick", (link,)).to_wire()
        assert wire == {
            "text": "pick",
            "buttons": [
                {"label": "Open", "type": "link", "payload": {"url": "https://x.io/a"}}
            ],
        }
        assert json.loads(json.dumps(wire)) == wire
        assert payloads.from_wire("buttons", wire) == Buttons("pick", (link,))

    def test_link_button_refuses_a_payload(self):
        """A link has no method or payload on the wire, so none is accepted."""
        with pytest.raises(InvalidArgumentError, match=r"Button\.payload"):
            Button("Open", "link", "https://x.io/a", "get", {"a": 1})
        with pytest.raises(InvalidArgumentError, match=r"Button\.payload"):
            Button("Open", "link", "https://x.io/a", "post")

    def test_default_action_label_is_kept(self):
        """A default action's label survives when its postback_text differs."""
        card = CarouselCard(
            title="A",
            default_action=Button.postback(
                "Details", "https://x.io/d", postback_text="go"
            ),
        )
        wire = Carousel((card,)).to_wire()
        assert wire["cards"][0]["default_action"]["label"] == "Details"
        assert payloads.from_wire("carousel", wire) == Carousel((card,))

    def test_dialect_forms(self):
        """to_wire(dialect=V2) writes v2's request names."""
        card = Card(title="t", image_url="https://x.io/i.png")
        assert card.to_wire(dialect=Dialect.V2)["image_url"] == "https://x.io/i.png"
        assert card.to_wire()["image"] == "https://x.io/i.png"
        event = SystemEvent(
            SystemEventType.ADD_MEMBER, "a@x.io", object_ids=("b@x.io",)
        )
        assert event.to_wire(dialect=Dialect.V2) == {
            "type": "add_member",
            "subject_email": "a@x.io",
            "object_email_list": ["b@x.io"],
        }
        assert payloads.from_wire(
            "system_event", event.to_wire(dialect=Dialect.V2)
        ) == (event)

    def test_same_writer_as_the_client(self):
        """to_wire() is the JSON post_comment sends (one writer)."""
        for payload in ROUND_TRIP:
            assert payload.to_wire() == to_wire(payload, Dialect.V2_1)

    @settings(max_examples=150, deadline=None)
    @given(st.data())
    def test_every_payload_round_trips(self, data):
        """from_wire(p.TYPE, p.to_wire()) == p, through JSON text too."""
        payload = data.draw(PAYLOADS)
        kind = payload.type if isinstance(payload, RawPayload) else payload.TYPE
        wire = payload.to_wire()
        assert payloads.from_wire(kind, wire) == payload
        assert payloads.from_wire(kind, json.loads(json.dumps(wire))) == payload


_JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON_VALUE = st.recursive(
    _JSON_LEAF,
    lambda c: (
        st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3)
    ),
    max_leaves=8,
)
JSON_OBJECT = st.dictionaries(st.text(max_size=6), JSON_VALUE, max_size=3)
WORD = st.text(min_size=1, max_size=12).filter(str.strip)
TEXT = st.text(max_size=12)
URL = st.builds(
    "{}://{}.example.com/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z0-9/?=&]{0,10}", fullmatch=True),
)
BUTTON = st.one_of(
    st.builds(Button, WORD, st.just("link"), URL, postback_text=TEXT),
    st.builds(
        Button.postback,
        WORD,
        URL,
        method=st.sampled_from(["get", "post", "put", "patch", "delete"]),
        payload=JSON_VALUE,
        postback_text=TEXT,
    ),
)
BUTTONS = st.lists(BUTTON, max_size=3).map(tuple)
COORD = st.floats(-90, 90) | st.integers(-90, 90)
PAYLOADS = st.one_of(
    st.builds(Buttons, TEXT, st.lists(BUTTON, min_size=1, max_size=3)),
    st.builds(
        Card,
        WORD,
        TEXT,
        TEXT,
        st.none() | URL,
        st.none() | URL,
        BUTTONS,
    ),
    st.builds(
        Carousel,
        st.lists(
            st.builds(
                CarouselCard, WORD, TEXT, st.none() | URL, st.none() | BUTTON, BUTTONS
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    st.builds(AccountLinking, TEXT, URL, st.none() | URL, JSON_OBJECT),
    st.builds(Custom, WORD, JSON_VALUE),
    st.builds(Location, TEXT, TEXT, COORD, COORD, st.none() | URL),
    st.builds(ContactPerson, WORD, WORD, st.sampled_from(["phone", "email"])),
    st.builds(Reply, WORD, st.integers(1, 2**53), st.none() | TEXT, st.none() | TEXT),
    st.builds(
        FileAttachment, URL, TEXT, TEXT, st.integers(0, 2**40), st.integers(0, 999)
    ),
    st.builds(
        SystemEvent,
        st.sampled_from(
            [e for e in SystemEventType if e is not SystemEventType.CUSTOM]
        ),
        st.none() | WORD,
        st.none() | WORD,
        st.lists(WORD, max_size=3).map(tuple),
        st.lists(WORD, max_size=3).map(tuple),
        st.none() | WORD,
    ),
    st.builds(
        SystemEvent,
        st.just(SystemEventType.CUSTOM),
        st.none() | WORD,
        st.none() | WORD,
        st.lists(WORD, max_size=3).map(tuple),
        st.lists(WORD, max_size=3).map(tuple),
        st.none() | WORD,
        st.none() | JSON_OBJECT,
    ),
    st.builds(
        RawPayload,
        WORD.filter(lambda t: t not in _KNOWN_TYPES),
        JSON_OBJECT.filter(bool),
    ),
)


# ---------------------------------------------------------------- checked builds

#: The reader's builders that skip the class's own checks, and the public
#: constructor each stands for.
CHECKED_BUILDERS = {
    "_new_button": Button,
    "_new_buttons": Buttons,
    "_new_card": Card,
    "_new_carousel_card": CarouselCard,
    "_new_carousel": Carousel,
    "_new_account_linking": AccountLinking,
    "_new_custom": Custom,
    "_new_location": Location,
    "_new_contact_person": ContactPerson,
    "_new_file_attachment": FileAttachment,
}
#: Values a payload field is likely to hold, right and wrong for its class.
FIELD_VALUES = [
    "",
    "  ",
    "\t",
    None,
    0,
    3,
    1.5,
    -200.0,
    True,
    [],
    {},
    "x",
    "http://",
    "ftp://x.example.com",
    "https://x y.example.com",
    "HTTPS://Example.com/a",
    "http://example.com/\u2028",
    "GET",
    "fetch",
    "link",
    "postback",
    "email",
    "fax",
    "add_member",
    "custom",
    {"url": "https://example.com", "method": "POST"},
    [{"label": "b", "type": "link", "payload": {"url": "https://example.com"}}],
]

_URLS = ["x", "http://", "ftp://x.example.com", "https://a b.example.com", None, ""]
_WORDS = ["", "  ", None, 3, "ok"]
#: Values that one check or another of a payload class refuses, by wire key.
KEYED_VALUES = {
    "method": ["GET", "fetch", "head", " get", "", None, 3, "Post"],
    "url": _URLS,
    "image": _URLS,
    "image_url": _URLS,
    "map_url": _URLS,
    "redirect_url": _URLS,
    "label": _WORDS,
    "title": _WORDS,
    "name": _WORDS,
    "value": _WORDS,
    "text": _WORDS,
    "type": ["link", "postback", "phone", "email", "fax", "", "  ", None, "custom"],
    "buttons": [[], None, "b", [{}]],
    "cards": [[], None, [{}], {"title": "t"}],
    "latitude": [91, -90, 1.5, "1", True, None],
    "longitude": [181, -180, 1.5, "1", True, None],
    "size": ["12", 1.5, None, "x", True],
}


def _slots(value: object) -> list[tuple[object, object]]:
    """Every (container, key) of a JSON value, nested ones included."""
    found: list[tuple[object, object]] = []
    keys = (
        list(value)
        if isinstance(value, dict)
        else range(len(value))
        if isinstance(value, list)
        else []
    )
    for key in keys:
        found.append((value, key))
        found += _slots(value[key])  # type: ignore[index]
    return found


@st.composite
def wire_payloads(draw: st.DrawFn) -> tuple[str, object]:
    """A payload's wire form with up to three values changed or removed."""
    payload = draw(PAYLOADS)
    kind = payload.type if isinstance(payload, RawPayload) else payload.TYPE
    kind = draw(st.sampled_from([kind, kind, kind, *sorted(_PARSERS)]))
    wire = json.loads(json.dumps(payload.to_wire()))
    for _ in range(draw(st.integers(0, 3))):
        slots = _slots(wire)
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        if isinstance(container, dict) and draw(st.integers(0, 4)) == 0:
            del container[key]
        else:
            values = KEYED_VALUES.get(key, FIELD_VALUES)  # type: ignore[call-overload]
            values = draw(st.sampled_from([values, values, values, FIELD_VALUES]))
            value = copy.deepcopy(draw(st.sampled_from(values)))
            container[key] = value  # type: ignore[index]
    return kind, wire


def _button(**changes: object) -> dict[str, object]:
    """A postback button's wire form, with *changes* to it or its action."""
    action = {"url": "https://example.com/b", "method": "post", "payload": None}
    button = {"label": "b", "type": "postback", "payload": action}
    for key, value in changes.items():
        (action if key in action else button)[key] = value
    return button


def _read(kind: str, wire: object) -> tuple[object, str]:
    return (result := from_wire(kind, json.loads(json.dumps(wire)))), repr(result)


class TestCheckedBuilds:
    """The reader checks what each class's ``__init__`` checks, then builds
    without it: reading with the public constructors gives the same."""

    def test_every_checked_builder_is_compared(self):
        """A new builder that skips its class's checks joins the comparison."""
        builders = {name for name in vars(_payloads) if name.startswith("_new_")}
        assert builders - {"_new_system_event", "_new_raw"} == set(CHECKED_BUILDERS)

    @settings(max_examples=500, deadline=None)
    @given(wire_payloads())
    def test_same_payload_as_the_constructors(self, drawn):
        """Valid or not, each payload reads as the validating classes read it."""
        kind, wire = drawn
        fast = _read(kind, wire)
        with pytest.MonkeyPatch.context() as patch:
            for name, cls in CHECKED_BUILDERS.items():
                patch.setattr(_payloads, name, cls)
            checked = _read(kind, wire)
        assert fast == checked
        assert type(fast[0]) is type(checked[0])

    @pytest.mark.parametrize(
        ("kind", "data"),
        [
            ("buttons", {"text": "t", "buttons": [_button(label="  ")]}),
            ("buttons", {"text": "t", "buttons": [_button(url="ftp://x.example")]}),
            ("buttons", {"text": "t", "buttons": [_button(method="fetch")]}),
            ("buttons", {"text": "t", "buttons": []}),
            ("card", {"title": " ", "buttons": [_button()]}),
            ("card", {"title": "c", "image": "ftp://x.example"}),
            ("card", {"title": "c", "url": "http://"}),
            ("carousel", {"cards": []}),
            ("carousel", {"cards": [{"title": "\t"}]}),
            ("carousel", {"cards": [{"title": "c", "image": "x"}]}),
            (
                "carousel",
                {"cards": [{"title": "c", "default_action": _button(url="")}]},
            ),
            ("account_linking", {"text": "t", "url": "x"}),
            (
                "account_linking",
                {"text": "t", "url": "http://a.b", "redirect_url": "x"},
            ),
            ("custom", {"type": "  ", "content": 1}),
            ("contact_person", {"name": " ", "value": "v"}),
            ("contact_person", {"name": "n", "value": ""}),
            ("contact_person", {"name": "n", "value": "v", "type": "fax"}),
            ("file_attachment", {"url": "example.com/f.pdf"}),
            (
                "location",
                {
                    "name": "n",
                    "address": "a",
                    "latitude": 1,
                    "longitude": 2,
                    "map_url": "x",
                },
            ),
        ],
    )
    def test_each_check_refuses_as_its_class(self, kind, data):
        """One field its class refuses: both readings keep the payload raw."""
        assert from_wire(kind, data) == RawPayload(kind, data)
        with pytest.MonkeyPatch.context() as patch:
            for name, cls in CHECKED_BUILDERS.items():
                patch.setattr(_payloads, name, cls)
            assert from_wire(kind, data) == RawPayload(kind, data)

    def test_refusals_are_compared_too(self):
        """The changes above make refused payloads as well as accepted ones."""
        outcomes = set()

        @settings(max_examples=300, deadline=None, database=None, derandomize=True)
        @given(wire_payloads())
        def run(drawn):
            outcomes.add(type(from_wire(*drawn)))

        run()
        assert RawPayload in outcomes
        assert {Button, Buttons, Card, Carousel, FileAttachment} & outcomes


class TestUrlVerdicts:
    """The wire reader remembers its URL checks, within bounds."""

    def test_a_remembered_verdict_is_the_check_s(self):
        """Each URL, read twice, gets is_http_url's verdict both times."""
        urls = ["https://x/a", "http://", "ftp://x", "https://x/\u2028", "HTTPS://X"]
        for url in urls * 2:
            assert _payloads._http_url(url) is _is_http_url(url)

    def test_the_table_is_bounded(self):
        """Long URLs are not kept, and the table never outgrows its bound."""
        long_url = "https://x/" + "a" * _payloads._KEPT_URL_MAX
        assert _payloads._http_url(long_url)
        assert long_url not in _payloads._VERDICTS
        for number in range(_payloads._VERDICTS_MAX + 5):
            _payloads._http_url(f"https://x/{number}")
            assert len(_payloads._VERDICTS) <= _payloads._VERDICTS_MAX
