"""Bot: verify, parse, drop self-events and redeliveries, route, run in background."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import anyio
import attrs
from anyio.abc import TaskGroup

from .._client import QiscusClient
from .._redaction import RedactingFilter, register
from .._validate import check_page_size
from ..errors import InvalidArgumentError
from ..stores import MemoryConversationStore, MemoryDedupeStore
from ..stores._check import positive_seconds
from ..webhooks import (
    MAX_BODY,
    WebhookError,
    WebhookEvent,
    parse,
    verify_signature,
)
from ._aiohttp import handle_aiohttp
from ._asgi import ASGIApp
from ._context import Context, Replier
from ._conversation import (
    CONVERSATION_TTL,
    CONVERSATION_WAIT,
    Conversations,
    ConversationStore,
)
from ._dedupe import DedupeStore, delivery_key
from ._routing import (
    ErrorHandler,
    Handler,
    Hit,
    Listener,
    MessageListener,
    Middleware,
    PostbackListener,
    TextListener,
    chain,
    check_handler,
    check_step,
    decode_postback,
    may_route,
    route,
    text_pattern,
)
from ._runner import Drained, Runner

if TYPE_CHECKING:
    import re

    from aiohttp import web

    from ..omnichannel import Handover, OmnichannelClient

__all__ = ["DRAIN_TIMEOUT", "Bot"]

logger = logging.getLogger("aioqiscus.bot")
# Records made on a child logger skip the parent's filters: add ours here too.
logger.addFilter(RedactingFilter())

#: How long a bot's shutdown waits for its handlers by default (seconds):
#: under the 30 s that Kubernetes and most process managers allow.
DRAIN_TIMEOUT = 25.0

H = TypeVar("H", bound=Handler)
E = TypeVar("E", bound=ErrorHandler)
M = TypeVar("M", bound=Middleware)


@attrs.frozen
class _Job:
    """A matched delivery waiting for a worker.

    Without a *handler*, it is routed by its conversation's step when a
    worker holds the conversation.
    """

    context: Context
    handler: Handler | None

    def describe(self) -> str:
        """The delivery, as logs name it: its key and room."""
        return f"{self.context.delivery_key} in room {self.context.room_id}"


def _name(func: object) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


class Bot:
    """Receive Qiscus webhooks and route each new comment to a handler.

    A delivery is verified (``QISCUS-SDK-SIGNATURE``), parsed, dropped if the
    bot wrote the comment or has seen the delivery already, matched against
    the listeners in registration order (the first match wins), and handed
    to a background worker; the HTTP answer does not wait for the handler.

    Args:
        client: The client replies are sent through.
        user_id: The bot's own Qiscus user (``sender`` of its replies; the
            email in v2). Comments from it are never dispatched.
        signature_token: The webhook signature token from the dashboard.
        max_concurrency: Handlers running at once, at most.
        max_pending: Matched deliveries waiting for a handler slot, at most;
            past that, deliveries are refused with 503 (nothing runs, nothing
            is remembered, so a redelivery is handled).
        dedupe: Where accepted deliveries are remembered; an in-memory
            :class:`MemoryDedupeStore` by default.
        lookup_replies: Before each reply, look for its marker among the
            room's newest comments and skip the send if it is there (one
            extra read per reply; see :class:`Context`).
        drain_timeout: Seconds :meth:`aclose` (and the ASGI lifespan's
            shutdown) waits for accepted deliveries before cancelling them.
        max_body: The largest body the adapters read, in bytes (1 MiB, the
            most :func:`~aioqiscus.webhooks.parse` takes, by default); larger
            ones get 413 before they are read whole.
        conversations: Where conversation states and their locks live; an
            in-memory :class:`MemoryConversationStore` by default.
        conversation_ttl: Seconds a conversation is kept after its last save.
        conversation_wait: Seconds a delivery waits for its conversation
            while another holds it, before :class:`ConversationBusyError`.
        omnichannel: An :class:`~aioqiscus.omnichannel.OmnichannelClient`
            or a :class:`~aioqiscus.omnichannel.Handover`: handlers get
            ``ctx.channel`` and ``ctx.handover()``, a handed-over room
            reaches no listener until resolved, and unsigned Omnichannel
            webhooks are taken behind the hand-over's URL token
            (``docs/omnichannel.md``).
    """

    def __init__(
        self,
        client: QiscusClient,
        *,
        user_id: str,
        signature_token: str,
        max_concurrency: int = 16,
        max_pending: int = 1_000,
        dedupe: DedupeStore | None = None,
        lookup_replies: bool = False,
        drain_timeout: float = DRAIN_TIMEOUT,
        max_body: int = MAX_BODY,
        conversations: ConversationStore | None = None,
        conversation_ttl: float = CONVERSATION_TTL,
        conversation_wait: float = CONVERSATION_WAIT,
        omnichannel: OmnichannelClient | Handover | None = None,
    ) -> None:
        if (
            not isinstance(cast("object", user_id), str)
            or not user_id
            or user_id.strip() != user_id
        ):
            msg = "user_id must be a non-empty str without surrounding spaces"
            raise InvalidArgumentError(msg)
        if not isinstance(cast("object", signature_token), str) or not signature_token:
            msg = "signature_token must be a non-empty str"
            raise InvalidArgumentError(msg)
        if not isinstance(cast("object", dedupe), DedupeStore | None):
            msg = f"dedupe must be a DedupeStore, got {type(dedupe).__name__}"
            raise TypeError(msg)
        if not isinstance(cast("object", conversations), ConversationStore | None):
            msg = (
                "conversations must be a ConversationStore, "
                f"got {type(conversations).__name__}"
            )
            raise TypeError(msg)
        self._conversations = Conversations(
            MemoryConversationStore() if conversations is None else conversations,
            ttl=positive_seconds(conversation_ttl, "conversation_ttl"),
            wait=positive_seconds(conversation_wait, "conversation_wait"),
            scope=(client.app_id, user_id),
        )
        register(signature_token)
        self.user_id = user_id
        self._self_id = user_id.casefold()
        self._token = signature_token
        self._replier = Replier(client, user_id, lookup=bool(lookup_replies))
        self._dedupe: DedupeStore = MemoryDedupeStore() if dedupe is None else dedupe
        self._listeners: list[Listener] = []
        # Whether some listener has a step=: then deliveries are routed by
        # a worker that holds their conversation.
        self._stepped = False
        self._error_hooks: list[ErrorHandler] = []
        self._middleware: list[Middleware] = []
        self._runner: Runner[_Job] = Runner(
            self._run,
            max_concurrency=max_concurrency,
            max_pending=max_pending,
            describe=_Job.describe,
        )
        self._drain_timeout = positive_seconds(drain_timeout, "drain_timeout")
        self.max_body = check_page_size(max_body, "max_body")
        if self.max_body > MAX_BODY:
            msg = f"max_body must be at most {MAX_BODY} (what parse takes)"
            raise InvalidArgumentError(msg)
        self._group: TaskGroup | None = None
        self._asgi = ASGIApp(self)
        self._handover = _handover_of(omnichannel)
        if self._handover is not None:
            # The outermost middleware: a handed-over room reaches no listener.
            self._middleware.append(self._handover.middleware)

    def __repr__(self) -> str:
        return (
            f"Bot(user_id={self.user_id!r}, listeners={len(self._listeners)}, "
            f"running={self._runner.running}, pending={self._runner.pending})"
        )

    # ------------------------------------------------------------ listeners

    def on_text(
        self, pattern: str | re.Pattern[str], *, step: str | None = None
    ) -> Callable[[H], H]:
        """Handle comments whose text matches *pattern*.

        A string matches the whole text, stripped, case-insensitively; a
        compiled regex is searched in the stripped text, and its match is
        ``ctx.match``. Texts are those of ``text`` comments and of taps
        (``button_postback_response``, whose text is the button's
        ``postback_text`` or label). With *step*, only while the sender's
        conversation is at that step (see :meth:`Context.conversation`).
        """
        regex, whole = text_pattern(pattern)
        return self._register(
            "an on_text handler", lambda h: TextListener(regex, whole, h, step), step
        )

    def on_postback(self, *, step: str | None = None, **match: Any) -> Callable[[H], H]:
        """Handle taps on postback buttons whose payload holds *match*.

        Each keyword must be a key of the tapped button's payload with an
        equal value; with no keywords, every tap matches. The payload is
        ``ctx.postback``. With *step*, only while the sender's conversation
        is at that step.
        """
        return self._register(
            "an on_postback handler",
            lambda h: PostbackListener(dict(match), h, step),
            step,
        )

    def on_message(
        self, type: str | None = None, *, step: str | None = None
    ) -> Callable[[H], H]:
        """Handle any comment, or any comment of comment type *type*.

        With *step*, only while the sender's conversation is at that step.
        """
        if not isinstance(cast("object", type), str | None) or type == "":
            msg = "on_message type must be a non-empty str or None"
            raise InvalidArgumentError(msg)
        return self._register(
            "an on_message handler", lambda h: MessageListener(type, h, step), step
        )

    def _register(
        self, what: str, listener: Callable[[Handler], Listener], step: object
    ) -> Callable[[H], H]:
        check_step(step)

        def register_(handler: H) -> H:
            check_handler(handler, what)
            self._listeners.append(listener(handler))
            self._stepped = self._stepped or step is not None
            return handler

        return register_

    def on_error(self, hook: E) -> E:
        """Call *hook(ctx, exc)* when a handler raises; hooks run in order.

        The exception is logged first; a hook that raises is logged too.
        """
        check_handler(hook, "an on_error hook")
        self._error_hooks.append(hook)
        return hook

    def middleware(self, func: M) -> M:
        """Wrap every handled delivery in *func(ctx, call_next)*.

        Middleware run in registration order, the first outermost, around
        the handler a delivery was routed to (inside its conversation for
        bots with ``step=`` listeners). ``await call_next(ctx)`` runs the
        rest; not calling it skips the handler. What a middleware raises
        goes to the :meth:`on_error` hooks, as a handler's error does::

            @bot.middleware
            async def timed(ctx: Context, call_next: Handler) -> None:
                start = time.perf_counter()
                try:
                    await call_next(ctx)
                finally:
                    metrics.observe(time.perf_counter() - start)
        """
        check_handler(func, "a middleware")
        self._middleware.append(func)
        return func

    # ------------------------------------------------------------ receiving

    async def handle(
        self,
        body: bytes,
        signature: str | None,
        *,
        url_token: str | None = None,
        client_host: str | None = None,
    ) -> int:
        """Take one delivery; return the HTTP status to answer with.

        With ``omnichannel=``, an unsigned delivery is taken as an
        Omnichannel webhook (bot message, allocation, resolve, new session,
        told apart by shape) when the hand-over's guard accepts its
        *url_token* (the ``token`` of the URL) and *client_host*.

        ``401`` bad or missing signature, ``400`` not a webhook, ``503`` the
        queue is full, the dedupe store failed or the bot is shutting down
        (nothing was run or remembered), ``200`` otherwise: queued, a
        redelivery, the bot's own comment, or no listener matched. Never
        waits for a handler.

        Raises:
            EventLoopError: Not under asyncio, and the bot was not entered
                (``async with bot:``): there is nowhere to run handlers.
        """
        return int(await self._handle(body, signature, url_token, client_host))

    async def _handle(
        self,
        body: bytes,
        signature: str | None,
        url_token: str | None = None,
        client_host: str | None = None,
    ) -> HTTPStatus:
        if self._runner.closed:
            return HTTPStatus.SERVICE_UNAVAILABLE
        if not verify_signature(body, signature, self._token):
            if self._handover is None or signature is not None:
                return HTTPStatus.UNAUTHORIZED
            return await self._handover.receive(
                body, url_token, client_host, self._dispatch
            )
        try:
            event = parse(body)
        except WebhookError as exc:
            logger.warning("refused a webhook delivery: %s", exc)
            return HTTPStatus.BAD_REQUEST
        return await self._dispatch(event, body)

    async def _dispatch(self, event: WebhookEvent, body: bytes) -> HTTPStatus:
        """Route a verified delivery's comment: queue it, or answer at once."""
        if event.sender.id.casefold() == self._self_id:
            return HTTPStatus.OK
        postback = decode_postback(event.comment)
        found: tuple[Handler | None, Hit] | None
        if self._stepped:
            # The step is read when a worker holds the conversation.
            routable = may_route(self._listeners, event.comment, postback)
            found = (None, Hit()) if routable else None
        else:
            hit = route(self._listeners, event.comment, postback, None)
            found = None if hit is None else (hit[0].handler, hit[1])
        if found is None:
            logger.debug("no listener for a %s comment", event.comment.type)
            return HTTPStatus.OK
        return await self._accept(event, body, postback, *found)

    async def _accept(
        self,
        event: WebhookEvent,
        body: bytes,
        postback: Any,
        handler: Handler | None,
        hit: Hit,
    ) -> HTTPStatus:
        """Queue a matched delivery unless the queue is full or it is a redelivery."""
        if not self._runner.reserve():
            logger.warning(
                "bot queue full (%d running, %d pending): refused a delivery",
                self._runner.running,
                self._runner.pending,
            )
            return HTTPStatus.SERVICE_UNAVAILABLE
        submitted = False
        try:
            key = delivery_key(self.user_id, event, body)
            try:
                fresh = await self._dedupe.claim(key.store_key, key.ttl)
            except Exception:
                logger.exception("dedupe store failed: refused a delivery")
                return HTTPStatus.SERVICE_UNAVAILABLE
            if not fresh:
                logger.info("dropped a redelivery in room %s", event.room.id)
                return HTTPStatus.OK
            context = Context(
                event,
                replier=self._replier,
                digest=key.digest,
                conversations=self._conversations,
                postback=postback,
                match=hit.match,
                handover=self._handover,
            )
            self._runner.submit(_Job(context, handler))
            submitted = True
        finally:
            if not submitted:
                self._runner.release()
        return HTTPStatus.OK

    async def join(self) -> None:
        """Wait until every accepted delivery has been handled.

        Call it in tests; to shut down, call :meth:`aclose`.
        """
        await self._runner.join()

    async def aclose(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - the drain's budget, as specified
    ) -> Drained:
        """Stop accepting deliveries, finish the accepted ones, then return.

        From the call on, deliveries are answered 503 with ``Retry-After``
        (nothing is run or remembered, so a redelivery reaches another
        worker or this one's successor). Queued and running handlers go on
        until they are done or *timeout* seconds have passed; then the
        running ones are cancelled and the queued ones dropped, each logged
        with its delivery key and counted in the result.

        Args:
            timeout: Seconds to wait; the bot's ``drain_timeout`` when
                ``None``.

        Returns:
            What the drain did (:class:`Drained`).
        """
        limit = self._drain_timeout if timeout is None else timeout
        drained = await self._runner.drain(positive_seconds(limit, "timeout"))
        log = logger.error if drained.lost else logger.info
        log(
            "bot drained: %d handled, %d cancelled, %d dropped",
            drained.completed,
            drained.cancelled,
            drained.dropped,
        )
        return drained

    async def __aenter__(self) -> Self:
        """Run handlers in a task group of this block (needed under trio).

        On exit the bot is closed as by :meth:`aclose`. The ASGI app enters
        the bot for its lifespan; an aiohttp app needs no entering (asyncio)
        and drains with :meth:`aiohttp_shutdown`.

        Raises:
            RuntimeError: The bot is entered already, or was closed.
        """
        if self._group is not None:
            msg = "the bot is already entered"
            raise RuntimeError(msg)
        if self._runner.closed:
            msg = "the bot was closed (aclose); make a new Bot"
            raise RuntimeError(msg)
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        self._runner.attach(group)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        group, self._group = self._group, None
        try:
            await self.aclose()
        finally:
            self._runner.attach(None)
            if group is not None:
                await group.__aexit__(None, None, None)

    async def _run(self, job: _Job) -> None:
        context, handler = job.context, job.handler
        try:
            if handler is not None:
                await chain(self._middleware, handler)(context)
                return
            async with context.holding() as conversation:
                found = route(
                    self._listeners,
                    context.comment,
                    context.postback,
                    conversation.step,
                )
                if found is None:
                    logger.debug("no listener at step %r", conversation.step)
                    return
                handler = found[0].handler
                context.match = found[1].match
                await chain(self._middleware, handler)(context)
        except Exception as exc:
            logger.exception(
                "bot handler %s failed on delivery %s",
                "routing" if handler is None else _name(handler),
                job.describe(),
            )
            for hook in self._error_hooks:
                try:
                    await hook(context, exc)
                except Exception:
                    logger.exception("bot error hook %s failed", _name(hook))

    # ------------------------------------------------------------ adapters

    @property
    def asgi(self) -> ASGIApp:
        """The bot as an ASGI 3 app, to mount or serve (see :class:`ASGIApp`)."""
        return self._asgi

    async def aiohttp_shutdown(self, app: web.Application) -> None:  # noqa: ARG002
        """Drain the bot when its aiohttp app shuts down.

        Wire it once: ``app.on_shutdown.append(bot.aiohttp_shutdown)``.
        aiohttp calls it after it stopped listening, so the bot finishes
        what it accepted (``aclose`` with the bot's ``drain_timeout``).
        aiohttp runs on asyncio only.
        """
        await self.aclose()

    async def aiohttp_handler(self, request: web.BaseRequest) -> web.StreamResponse:
        """The bot as an aiohttp handler, for ``app.router.add_post(path, ...)``.

        Answers as :meth:`handle`, plus ``405`` for other methods and ``413``
        for bodies over the bot's ``max_body`` (1 MiB, as the ASGI app),
        whatever the app's ``client_max_size``: a declared
        ``Content-Length`` over it is refused before the body is read, and
        a chunked body once it passes it. aiohttp runs on asyncio only.
        """
        return await handle_aiohttp(self, request)


def _handover_of(given: object) -> Handover | None:
    """The hand-over of ``Bot(omnichannel=...)``: a client gets the defaults."""
    if given is None:
        return None
    # Imported here: ``import aioqiscus`` does not import the Omnichannel.
    from ..omnichannel import Handover, OmnichannelClient  # noqa: PLC0415

    if isinstance(given, Handover):
        return given
    if isinstance(given, OmnichannelClient):
        return Handover(given)
    msg = (
        "omnichannel must be an OmnichannelClient or a Handover, "
        f"got {type(given).__name__}"
    )
    raise TypeError(msg)
