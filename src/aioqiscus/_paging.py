"""Listing: the lazy async iterator every paged ``iter_*`` call returns.

It fetches one page at a time as it is iterated, stops at the page that says
it is the last, refuses a server that repeats a page instead of advancing,
and keeps the totals the pages state (``meta.total_room``,
``meta.total_data``, ``meta.total_page``) and the page number they say
(``meta.current_page``) where the caller can read them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from ._wire import Operation, Page
from .errors import ResponseShapeError

__all__ = ["Listing"]

T = TypeVar("T")


class Listing(AsyncIterator[T]):
    """The items of a paged listing, fetched page by page as you iterate.

    ``async for room in listing`` yields every item once; the attributes
    tell what the pages fetched so far said::

        rooms = client.iter_user_rooms("alice")
        first = await anext(rooms)
        print(rooms.total)        # meta.total_room of the first page

    Attributes:
        total: How many items the whole listing holds, as the latest page
            fetched said; ``None`` before the first page, or when the server
            does not say (``get_room_participants``, ``get_unread_users``).
        total_pages: How many pages it spans, where the server says
            (``get_user_list``'s ``meta.total_page``).
        current_page: The page number the latest page says it is, where
            the server says (``get_user_rooms``' ``meta.current_page``).
        pages: How many pages were fetched so far.
    """

    def __init__(
        self,
        operation: Operation | str,
        fetch: Callable[[int], Awaitable[Page[T]]],
        key: Callable[[T], str],
    ) -> None:
        self.total: int | None = None
        self.total_pages: int | None = None
        self.current_page: int | None = None
        self.pages = 0
        self._items = self._iterate(operation, fetch, key)

    def __repr__(self) -> str:
        return (
            f"<Listing pages={self.pages} total={self.total} "
            f"total_pages={self.total_pages}>"
        )

    def __aiter__(self) -> AsyncIterator[T]:  # noqa: PYI034 - see below
        # ``async for`` steps the generator itself: a coroutine less per item.
        return self._items

    async def __anext__(self) -> T:
        """The next item, fetching the next page when this one is spent."""
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop early: no further page is fetched."""
        await self._items.aclose()

    async def _iterate(
        self,
        operation: Operation | str,
        fetch: Callable[[int], Awaitable[Page[T]]],
        key: Callable[[T], str],
    ) -> AsyncGenerator[T, None]:
        """Yield items page by page until a page says it is the last.

        A server that ignores ``page`` and repeats a page would loop forever;
        that is reported as a :class:`ResponseShapeError` instead.
        """
        number = 1
        previous: tuple[T, ...] = ()
        while True:
            page = await fetch(number)
            self.pages = number
            if page.total is not None:
                self.total = page.total
            if page.total_pages is not None:
                self.total_pages = page.total_pages
            self.current_page = page.current_page
            items = page.items
            # The keys of two pages are compared only where their first items
            # agree (a page that repeats the previous one): a key per item
            # costs a tenth of reading it.
            if (
                items
                and previous
                and key(items[0]) == key(previous[0])
                and [key(i) for i in items] == [key(i) for i in previous]
            ):
                msg = (
                    f"{operation}: page {number} repeats the previous page; "
                    "the server ignores paging, so iteration stops here"
                )
                raise ResponseShapeError(msg)
            for item in items:
                yield item
            if not page.has_more or not items:
                return
            previous = items
            number += 1
