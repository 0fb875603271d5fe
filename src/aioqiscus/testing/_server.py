"""Run a FakeQiscus on a real loopback socket with uvicorn."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

from ._fake import ConnectionDropped, FakeQiscus

__all__ = ["serve"]


class _HideDrops(logging.Filter):
    """Keep uvicorn from logging a traceback for every injected drop."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


@contextlib.contextmanager
def serve(
    app: FakeQiscus | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Serve *app* with uvicorn on *host*:*port* in a background thread.

    Port 0 picks a free ephemeral port. Yields the base URL
    (``http://127.0.0.1:PORT``) to pass to ``QiscusClient(base_url=...)``;
    the server stops when the block exits.

    Raises:
        RuntimeError: The server did not start within *startup_timeout*.
    """
    import uvicorn  # noqa: PLC0415 - an optional dependency (aioqiscus[testing])

    fake = app or FakeQiscus()
    config = uvicorn.Config(
        fake,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        # The fake sends its own Date header, from its own (settable) clock.
        date_header=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    hide = _HideDrops()
    logging.getLogger("uvicorn.error").addFilter(hide)
    thread = threading.Thread(target=server.run, name="fake-qiscus", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = f"the fake Qiscus server did not start on {host}:{port}"
                raise RuntimeError(msg)
            time.sleep(0.005)
        bound = server.servers[0].sockets[0].getsockname()
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        yield f"http://{shown}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        logging.getLogger("uvicorn.error").removeFilter(hide)
