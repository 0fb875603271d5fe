"""What a user's app posts when the user taps a button (pure).

Strictly private; :meth:`FakeQiscus.tap <aioqiscus.testing.FakeQiscus.tap>`
uses it. Buttons live in the payloads of ``buttons`` and ``card`` comments
and of each card of a ``carousel`` (``v2.1/comment.md``). Tapping a
``postback`` button posts a new comment of type ``button_postback_response``
(``v2.1/more-endpoints.md``): its text is the button's ``postback_text``,
or its label when that is empty, and its payload is what the web SDK sends,
``JSON.stringify(button.payload)``: the button's whole wire action
``{"url", "method", "payload"}`` as a JSON string. A ``link`` button opens
its URL in the app and posts nothing, so it cannot be tapped here.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["POSTBACK_RESPONSE", "TAPPABLE_TYPES", "find_button", "tap_comment"]

#: The comment type an app posts when a postback button is tapped.
POSTBACK_RESPONSE = "button_postback_response"
#: Comment types whose payload holds buttons.
TAPPABLE_TYPES = frozenset({"buttons", "card", "carousel"})


def _cards(kind: str, payload: Any) -> list[Any]:
    """The button holders of a payload: itself, or a carousel's cards."""
    if not isinstance(payload, dict):
        return []
    if kind == "carousel":
        cards = payload.get("cards")
        return cards if isinstance(cards, list) else []
    return [payload]


def _buttons(holder: Any) -> list[dict[str, Any]]:
    buttons = holder.get("buttons") if isinstance(holder, dict) else None
    if not isinstance(buttons, list):
        return []
    return [b for b in buttons if isinstance(b, dict)]


def find_button(
    comment_id: int, kind: str, payload: Any, label: str, card: int | None
) -> dict[str, Any]:
    """The postback button labelled *label* in a comment's *payload*.

    Args:
        comment_id: The comment's id, for error messages.
        kind: The comment's type.
        payload: The comment's payload, as stored.
        label: The button's label, exactly.
        card: For a carousel, the index of the card holding the button;
            needed only when several cards have a button with that label.

    Raises:
        ValueError: The comment has no buttons, no button with that label,
            several and no *card* to choose, or the button is a link.
    """
    if kind not in TAPPABLE_TYPES:
        msg = (
            f"comment {comment_id} is a {kind} comment; only "
            f"{', '.join(sorted(TAPPABLE_TYPES))} comments have buttons"
        )
        raise ValueError(msg)
    cards = _cards(kind, payload)
    if card is not None:
        if kind != "carousel":
            msg = f"card= picks a card of a carousel; comment {comment_id} is a {kind}"
            raise ValueError(msg)
        if not 0 <= card < len(cards):
            msg = f"carousel comment {comment_id} has no card {card}"
            raise ValueError(msg)
        cards = [cards[card]]
    found = [b for holder in cards for b in _buttons(holder) if b.get("label") == label]
    if not found:
        labels = [b.get("label") for holder in cards for b in _buttons(holder)]
        msg = f"comment {comment_id} has no button {label!r}; its buttons: {labels}"
        raise ValueError(msg)
    if len(found) > 1:
        msg = (
            f"{len(found)} cards of carousel comment {comment_id} have a button "
            f"{label!r}: pass card=<index>"
        )
        raise ValueError(msg)
    [button] = found
    if button.get("type") != "postback":
        msg = (
            f"button {label!r} of comment {comment_id} is a {button.get('type')} "
            "button: the app opens its URL and posts nothing"
        )
        raise ValueError(msg)
    return button


def tap_comment(button: dict[str, Any]) -> tuple[str, str]:
    """The text and payload of the comment an app posts for a tap on *button*.

    The payload is the web SDK's ``JSON.stringify(button.payload)``: the
    action as compact JSON, keys in the order stored.
    """
    text = button.get("postback_text") or button["label"]
    payload = json.dumps(
        button.get("payload"), separators=(",", ":"), ensure_ascii=False
    )
    return str(text), payload
