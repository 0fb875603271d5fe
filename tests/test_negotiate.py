"""Negotiation: one probe per client, shared by concurrent first callers."""

from __future__ import annotations

import anyio
import httpx
import pytest

from aioqiscus import (
    AuthenticationError,
    Dialect,
    NegotiationError,
    Operation,
    QiscusClient,
    UnsupportedOperationError,
)
from aioqiscus._negotiate import PROBE, V2_PROBE

from .conftest import sample

PROBE_PATH = PROBE.path
V2_PROBE_PATH = V2_PROBE.path
NOT_FOUND_ENVELOPE = {
    "status": 404,
    "error": {"message": "user not found", "detailed_messages": ["user not found"]},
}


@pytest.fixture(name="client")
async def _client():
    async with QiscusClient("my-app", "secret") as client:
        yield client


class TestOutcomes:
    async def test_envelope_404_means_v21(self, mock, client):
        """'user not found' in a Qiscus envelope proves v2.1 is served."""
        mock.get(PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        assert await client.negotiate() is Dialect.V2_1
        assert client.dialect is Dialect.V2_1

    async def test_success_means_v21(self, mock, client):
        """A 200 envelope means v2.1."""
        mock.get(PROBE_PATH).respond(
            json={"status": 200, "results": {"user": {"user_id": "x"}}}
        )
        assert await client.negotiate() is Dialect.V2_1

    @pytest.mark.parametrize(
        "response",
        [
            httpx.Response(404, text="<html><body>404 page not found</body></html>"),
            httpx.Response(404, text="404 page not found"),
            httpx.Response(404),
            httpx.Response(405, text="Method Not Allowed"),
        ],
    )
    async def test_plain_404_means_v2(self, mock, client, response):
        """Two bare 404s on v2.1, then a v2 envelope, mean v2."""
        probe = mock.get(PROBE_PATH).mock(return_value=response)
        v2 = mock.get(V2_PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        assert await client.negotiate() is Dialect.V2
        assert (probe.call_count, v2.call_count) == (2, 1)

    async def test_plain_404_then_envelope_means_v21(self, mock, client):
        """A bare 404, then an envelope on the second v2.1 probe: a hiccup, v2.1."""
        probe = mock.get(PROBE_PATH).mock(
            side_effect=[
                httpx.Response(404),
                httpx.Response(404, json=NOT_FOUND_ENVELOPE),
            ]
        )
        assert await client.negotiate() is Dialect.V2_1
        assert probe.call_count == 2

    async def test_no_dialect_answers(self, mock, client):
        """Bare 404s on v2.1 and v2 alike: NegotiationError, nothing cached."""
        mock.get(PROBE_PATH).respond(404)
        mock.get(V2_PROBE_PATH).respond(404, text="<html>no</html>")
        with pytest.raises(NegotiationError, match=r"neither v2\.1 nor v2"):
            await client.negotiate()
        assert client.dialect is None

    @pytest.mark.parametrize("status", [401, 403])
    async def test_auth_error_is_not_fallback(self, mock, client, status):
        """Refused credentials raise AuthenticationError and cache nothing."""
        mock.get(PROBE_PATH).respond(
            status, json={"status": status, "error": {"message": "unauthorized"}}
        )
        with pytest.raises(AuthenticationError):
            await client.negotiate()
        assert client.dialect is None

    async def test_5xx_raises_and_is_not_cached(self, mock, client):
        """5xx after retries raises NegotiationError; the next call probes again."""
        route = mock.get(PROBE_PATH).mock(
            side_effect=[httpx.Response(503)] * 3
            + [httpx.Response(404, json=NOT_FOUND_ENVELOPE)]
        )
        with pytest.raises(NegotiationError):
            await client.negotiate()
        assert client.dialect is None
        assert await client.negotiate() is Dialect.V2_1
        assert route.call_count == 4

    async def test_timeout_raises_negotiation_error(self, mock, client):
        """Timeouts after retries raise NegotiationError chained to the cause."""
        mock.get(PROBE_PATH).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(NegotiationError) as info:
            await client.negotiate()
        assert info.value.__cause__ is not None

    async def test_html_200_is_not_a_dialect(self, mock, client):
        """A captive portal's 200 HTML page does not pass for a dialect."""
        mock.get(PROBE_PATH).respond(200, text="<html>Welcome</html>")
        with pytest.raises(NegotiationError):
            await client.negotiate()


class TestSingleFlight:
    async def test_thousand_concurrent_first_calls_one_probe(self, mock, client):
        """1,000 concurrent first calls make exactly one probe."""
        probe = mock.get(PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        info = mock.get("/api/v2.1/rest/get_rooms_info").respond(
            json=sample("v21/get_rooms_info")
        )
        results = []

        async def one():
            results.append(await client.get_rooms_info(["16"]))

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(one)
        assert probe.call_count == 1
        assert info.call_count == 1000
        assert len(results) == 1000

    async def test_waiters_share_failure_then_retry(self, mock, client):
        """Concurrent callers share one failed probe; a later call probes again."""
        route = mock.get(PROBE_PATH).mock(
            side_effect=[httpx.Response(500)] * 3
            + [httpx.Response(404, json=NOT_FOUND_ENVELOPE)]
        )
        errors = []

        async def one():
            try:
                await client.negotiate()
            except NegotiationError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(one)
        assert len(errors) == 50
        assert route.call_count == 3
        assert await client.negotiate() is Dialect.V2_1

    async def test_cancelled_probe_lets_next_caller_probe(self, mock, client):
        """Cancelling the probing call leaves the negotiator usable."""
        gate = anyio.Event()
        calls = 0

        async def slow(request):
            nonlocal calls
            calls += 1
            if calls == 1:
                await gate.wait()
            return httpx.Response(404, json=NOT_FOUND_ENVELOPE)

        mock.get(PROBE_PATH).mock(side_effect=slow)
        with anyio.move_on_after(0.05):
            await client.negotiate()
        assert client.dialect is None
        assert await client.negotiate() is Dialect.V2_1
        assert calls == 2

    async def test_pinned_never_probes(self, mock):
        """Pinned clients make no probe."""
        probe = mock.get(PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        mock.post("/api/v2/rest/get_rooms_info").respond(
            json=sample("v2/get_rooms_info")
        )
        async with QiscusClient("a", "s", api_version="v2") as client:
            assert client.dialect is Dialect.V2
            assert await client.negotiate() is Dialect.V2
            await client.get_rooms_info(["13"], as_user="a@x.io")
        assert probe.call_count == 0

    def test_lazy_no_io_in_init(self, mock):
        """Creating a client performs no I/O."""
        QiscusClient("a", "s")
        assert len(mock.calls) == 0


class TestRouting:
    async def test_report_v21(self, mock, client):
        """The report lists verb and path per operation."""
        mock.get(PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        await client.negotiate()
        report = client.negotiation_report()
        route = report.route(Operation.GET_ROOMS_INFO)
        assert (route.dialect, route.method, route.path) == (
            Dialect.V2_1,
            "GET",
            "/api/v2.1/rest/get_rooms_info",
        )
        assert report.pinned is False
        assert "get_rooms_info" in str(report)

    async def test_report_v2_marks_channel_unsupported(self, mock, client):
        """On a v2 server, channels are listed as unsupported."""
        mock.get(PROBE_PATH).respond(404, text="not found")
        mock.get(V2_PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        await client.negotiate()
        report = client.negotiation_report()
        assert report.route(Operation.GET_OR_CREATE_CHANNEL).dialect is None
        assert report.route(Operation.GET_ROOMS_INFO).method == "POST"
        assert "unsupported" in str(report)

    async def test_report_before_negotiation(self, client):
        """Asking for the report first says what to do."""
        with pytest.raises(NegotiationError, match="negotiate"):
            client.negotiation_report()

    async def test_channel_on_negotiated_v2(self, mock, client):
        """A v2-only server cannot create channels: probed again once, then refused before any request."""
        mock.get(PROBE_PATH).respond(404, text="not found")
        mock.get(V2_PROBE_PATH).respond(404, json=NOT_FOUND_ENVELOPE)
        with pytest.raises(UnsupportedOperationError, match="does not serve"):
            await client.get_or_create_channel("c", ["a"])
        assert len(mock.calls) == 6  # negotiated, then checked once more
        with pytest.raises(UnsupportedOperationError, match="does not serve"):
            await client.get_or_create_channel("c", ["a"])
        assert len(mock.calls) == 6
