"""SendOptions: the typed keyword arguments of the ``post_*`` helpers.

``post_text``, ``post_buttons`` and ``post_card`` pass these on to
``post_comment``; typing them (``**kwargs: Unpack[SendOptions]``) lets a type
checker catch a misspelt option (``uniqe_temp_id=``) instead of it failing
only when the call runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from ._reconcile import AmbiguousPolicy

__all__ = ["SendOptions"]


class SendOptions(TypedDict, total=False):
    """Options every comment send accepts (see ``QiscusClient.post_comment``).

    Attributes:
        extras: Application metadata, kept as given.
        unique_temp_id: Your own idempotency marker.
        disable_link_preview: Turn link previews off.
        on_ambiguous: Override the client's ``ambiguous_sends`` policy.
    """

    extras: Mapping[str, Any] | None
    unique_temp_id: str | None
    disable_link_preview: bool
    on_ambiguous: AmbiguousPolicy | None
