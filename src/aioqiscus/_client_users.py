"""The client's user and app coroutines, mixed into :class:`~aioqiscus.QiscusClient`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._paging import Listing
from ._validate import (
    check_device_platform,
    check_id,
    check_ids,
    check_limit,
    check_name,
    check_optional_text,
    check_options,
    check_page_size,
    check_url_value,
    check_user_id,
    check_webhook_kind,
    check_window,
)
from ._wire import Call, Operation, Page
from .models import (
    ReplyTime,
    User,
    WebhookLog,
)

if TYPE_CHECKING:
    from .dialects import Codec

__all__: list[str] = []

T = TypeVar("T")

#: The largest ``limit`` of get_unread_users and webhook_logs
#: (``v2.1/users.md``, ``v2.1/more-endpoints.md``).
MAX_PAGE = 100


class UserOperations:
    """Users, their unread counts, reply times and the app's webhook logs."""

    if TYPE_CHECKING:  # provided by QiscusClient

        async def _call(
            self, operation: Operation, build: Callable[[Codec], Call[T]]
        ) -> T: ...

        def _listing(
            self,
            operation: Operation,
            build: Callable[[Codec, int], Call[Page[T]]],
            key: Callable[[T], str],
        ) -> Listing[T]: ...

    async def login_or_register(
        self,
        user_id: str,
        username: str,
        *,
        password: str | None = None,
        avatar_url: str | None = None,
        extras: Mapping[str, Any] | None = None,
        device_token: str | None = None,
        device_platform: Literal["ios", "android"] | None = None,
    ) -> User:
        """Create a user, or update an existing one; returns it with its token.

        Args:
            user_id: The identifier (the v2 email; in v2.1 any string
                without control characters: the server judges the rest).
            username: The display name.
            password: Required by servers to update an existing user.
            avatar_url: The avatar.
            extras: Application metadata (v2.1).
            device_token: A push token to register.
            device_platform: ``"ios"`` or ``"android"``, with *device_token*.
        """
        user = check_user_id(user_id)
        name = check_name(username, "username")
        secret = check_optional_text(password, "password")
        avatar = check_optional_text(avatar_url, "avatar_url")
        extra = check_options(extras, "extras")
        device = check_optional_text(device_token, "device_token")
        platform = check_device_platform(device_platform)
        return await self._call(
            Operation.LOGIN_OR_REGISTER,
            lambda c: c.login_or_register(
                user, name, secret, avatar, extra, device, platform
            ),
        )

    async def get_user(self, user_id: str) -> User:
        """A user's profile (``user_profile``).

        Raises:
            NotFoundError: No such user.
        """
        user = check_id(user_id, "user_id")
        return await self._call(Operation.GET_USER, lambda c: c.get_user(user))

    async def reset_user_token(self, user_id: str) -> str:
        """Invalidate a user's SDK token and return the new one."""
        user = check_id(user_id, "user_id")
        found = await self._call(
            Operation.RESET_USER_TOKEN, lambda c: c.reset_user_token(user)
        )
        # Both parsers refuse an answer without a token.
        return found.token or ""

    async def get_user_token(self, user_id: str) -> str:
        """A user's current SDK token (v2.1)."""
        user = check_id(user_id, "user_id")
        return await self._call(
            Operation.GET_USER_TOKEN, lambda c: c.get_user_token(user)
        )

    def iter_users(
        self, *, page_size: int = 100, order_query: str | None = None
    ) -> Listing[User]:
        """Iterate over every user of the app, fetching pages lazily (v2.1).

        The listing's ``total`` and ``total_pages`` are the server's
        ``meta.total_data`` and ``meta.total_page`` once a page is in.

        Args:
            page_size: Users per request.
            order_query: Server-side order, e.g. ``"created_at desc nulls last"``.
        """
        size = check_page_size(page_size)
        order = check_optional_text(order_query, "order_query")
        if order is not None:
            check_url_value(order, "order_query")
        return self._listing(
            Operation.LIST_USERS,
            lambda c, page: c.list_users(page, size, order),
            key=lambda u: u.id,
        )

    def iter_unread_users(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> Listing[str]:
        """Iterate over the ids of users with unread comments (v2.1).

        ``get_unread_users``. Times must be timezone-aware; they are sent as
        the documented ``"YYYY-MM-DD hh:mm:ss"``, in UTC.

        Args:
            since: Only comments from this time on.
            until: Only comments up to this time.
            page_size: Ids per request, 1 to 100.
        """
        start, end = check_window(since, until)
        size = check_limit(page_size, MAX_PAGE)
        return self._listing(
            Operation.LIST_UNREAD_USERS,
            lambda c, page: c.list_unread_users(page, size, start, end),
            key=str,
        )

    async def get_user_unread_counts(
        self,
        user_ids: Sequence[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        """Unread comments per user id, in all their rooms (v2.1).

        ``get_user_unread_count``; *since* and *until* as in
        :meth:`iter_unread_users`.
        """
        users = check_ids(user_ids, "user_ids")
        start, end = check_window(since, until)
        return await self._call(
            Operation.GET_USER_UNREAD_COUNTS,
            lambda c: c.get_user_unread_counts(users, start, end),
        )

    async def deactivate_users(self, user_ids: Sequence[str]) -> str:
        """Deactivate accounts (v2.1); returns the server's message.

        ``DELETE deactivate_users``. Their ``User.active`` then reads false.
        """
        users = check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.DEACTIVATE_USERS, lambda c: c.deactivate_users(users)
        )

    async def reactivate_users(self, user_ids: Sequence[str]) -> str:
        """Reactivate deactivated accounts (v2.1); returns the server's message."""
        users = check_ids(user_ids, "user_ids")
        return await self._call(
            Operation.REACTIVATE_USERS, lambda c: c.reactivate_users(users)
        )

    async def get_average_reply_time(
        self,
        user_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ReplyTime:
        """How fast *user_id* replies: average, longest, shortest (v2.1).

        ``get_average_reply_time_user``; *since* and *until* as in
        :meth:`iter_unread_users`.
        """
        user = check_id(user_id, "user_id")
        start, end = check_window(since, until)
        return await self._call(
            Operation.GET_AVERAGE_REPLY_TIME,
            lambda c: c.get_average_reply_time(user, start, end),
        )

    def iter_webhook_logs(
        self,
        *,
        kind: Literal["all", "mobile", "rest"] = "all",
        page_size: int = 100,
    ) -> Listing[WebhookLog]:
        """Iterate over the app's webhook deliveries, fetching pages lazily (v2.1).

        Args:
            kind: ``"all"``, ``"mobile"`` (comments posted from apps) or
                ``"rest"`` (comments posted through this API).
            page_size: Entries per request, 1 to 100.
        """
        which = check_webhook_kind(kind)
        size = check_limit(page_size, MAX_PAGE)
        return self._listing(
            Operation.LIST_WEBHOOK_LOGS,
            lambda c, page: c.list_webhook_logs(page, size, which),
            key=lambda log: str(log.id),
        )
