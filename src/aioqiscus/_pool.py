"""httpcore's connection pool, one request per HTTP/1.1 connection.

httpcore 1.0's pool hands a request an idle connection and marks it busy
only when that request's task next runs. Until then the connection still
looks idle, so every pass in between (each new request starts one) gives it
to the next queued request too, and may even close it as surplus. All but
one of those requests then fail with ``ConnectionNotAvailable``, go back to
the queue and scan the pool again: under bursts of arrivals (threads handing
calls to one loop, or many tasks released at once) that is one to two extra
passes a request. (encode/httpcore#1110 and the pool rewrite in
pydantic/httpx2#1075 describe the same race.)

:func:`one_request_per_connection` makes the pools we create treat a
connection handed to a request that has not started yet as spoken for: it
is neither given to another request nor closed. Only pools of the one
httpcore line whose internals this was written against are changed; any
other version keeps httpcore's own pool. Without the retries, requests
released together also leave together (their jitter is gone): against a
server that answers every request in exactly the same time, workers stay in
step (docs/performance.md, "Met and missed").
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx

#: The httpcore line whose ``_assign_requests_to_connections`` this mirrors.
_WRITTEN_FOR = "1.0."


class _Pool(httpcore.AsyncConnectionPool):
    """``AsyncConnectionPool`` whose assignment pass skips spoken-for connections."""

    def _assign_requests_to_connections(self) -> list[Any]:
        # A connection is spoken for while a request holds it but has not
        # started on it (it still reads as idle). Same order of work as
        # httpcore 1.0.9's pass otherwise.
        spoken_for = {
            id(request.connection)
            for request in self._requests
            if request.connection is not None and request.connection.is_idle()
        }
        closing = []
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
        idle = [
            connection
            for connection in self._connections
            if connection.is_idle() and id(connection) not in spoken_for
        ]
        surplus = sum(1 for c in self._connections if c.is_idle())
        surplus -= self._max_keepalive_connections
        for connection in idle[: max(surplus, 0)]:
            self._connections.remove(connection)
            closing.append(connection)
        for pool_request in [r for r in self._requests if r.is_queued()]:
            origin = pool_request.request.url.origin
            available = [
                connection
                for connection in self._connections
                if id(connection) not in spoken_for
                and connection.can_handle_request(origin)
                and connection.is_available()
            ]
            idle = [
                connection
                for connection in self._connections
                if connection.is_idle() and id(connection) not in spoken_for
            ]
            if available:
                connection = available[0]
            elif len(self._connections) < self._max_connections:
                connection = self.create_connection(origin)
                self._connections.append(connection)
            elif idle:
                self._connections.remove(idle[0])
                closing.append(idle[0])
                connection = self.create_connection(origin)
                self._connections.append(connection)
            else:
                continue
            pool_request.assign_to_connection(connection)
            if connection.is_idle():
                spoken_for.add(id(connection))
        return closing


def one_request_per_connection(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """*client*, its default pool made a :class:`_Pool`; as it is otherwise.

    Applies to pools we create only (never to a client the user passes in),
    and only to a stock httpcore 1.0 pool: a pool of another version or of
    another class (HTTP/2, proxies, a mocked transport) is left alone.
    """
    transport = getattr(client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    if (
        httpcore.__version__.startswith(_WRITTEN_FOR)
        and type(pool) is httpcore.AsyncConnectionPool
        and not pool._http2  # noqa: SLF001 (the pool we built: HTTP/1.1 only)
    ):
        pool.__class__ = _Pool
    return client
