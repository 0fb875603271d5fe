"""Observability: event hooks and OpenTelemetry spans, one per HTTP attempt."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import anyio
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from aioqiscus import (
    InvalidArgumentError,
    QiscusClient,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
)
from aioqiscus._observe import Observer
from aioqiscus._wire import RequestSpec
from aioqiscus.testing import FakeQiscus, Fault

from .conftest import ALICE, sample
from .helpers import in_process

SECRET = "s3cr3t-observed-key"
PROFILE = "/api/v2.1/rest/user_profile"


def fake_with_alice() -> FakeQiscus:
    fake = FakeQiscus(secret_key=SECRET)
    fake.add_user(ALICE, "Alice")
    return fake


def client_on(fake: FakeQiscus, **options) -> QiscusClient:
    return in_process(fake, "v2.1", **options)


class Recorder:
    """Event hooks that record every event, in order."""

    def __init__(self) -> None:
        self.events: list[RequestEvent | ResponseEvent | RetryEvent] = []

    def hooks(self):
        record = self.events.append
        return {"request": [record], "response": [record], "retry": [record]}


class TestHooks:
    async def test_events_in_order_including_a_retry(self):
        """A retried call reports request, response, retry, request, response."""
        fake = fake_with_alice()
        fake.inject(Fault.status(503), endpoints="user_profile", times=1)
        recorder = Recorder()
        async with client_on(fake, event_hooks=recorder.hooks()) as client:
            with anyio.fail_after(10):
                await client.get_user(ALICE)
        url = f"http://127.0.0.1{PROFILE}?user_id=alice%40example.com"
        events = recorder.events
        assert [type(e).__name__ for e in events] == [
            "RequestEvent",
            "ResponseEvent",
            "RetryEvent",
            "RequestEvent",
            "ResponseEvent",
        ]
        assert events[0] == RequestEvent("get_user", "v2.1", "GET", url, 1)
        assert (events[1].status, events[1].attempt, events[1].error) == (503, 1, None)
        assert events[2] == RetryEvent("get_user", "v2.1", "GET", url, 1, 0.0, 503)
        assert events[3] == RequestEvent("get_user", "v2.1", "GET", url, 2)
        assert (events[4].status, events[4].attempt) == (200, 2)
        assert all(e.elapsed >= 0 for e in events if isinstance(e, ResponseEvent))

    async def test_a_failed_attempt_names_its_error(self):
        """An attempt without a response reports the error's class name."""
        fake = fake_with_alice()
        fake.inject(Fault.drop(), endpoints="user_profile", times=1)
        recorder = Recorder()
        async with client_on(fake, event_hooks=recorder.hooks()) as client:
            with anyio.fail_after(10):
                await client.get_user(ALICE)
        failed, retry = recorder.events[1], recorder.events[2]
        assert (failed.status, failed.error) == (None, "TransportError")
        assert (retry.status, retry.error, retry.attempt) == (None, "TransportError", 1)
        assert recorder.events[-1].status == 200

    async def test_negotiation_probe_is_reported(self):
        """The dialect probe is an attempt too, named negotiate."""
        fake = fake_with_alice()
        recorder = Recorder()
        async with in_process(
            fake, event_hooks={"request": [recorder.events.append]}
        ) as client:
            await client.get_user(ALICE)
        assert [(e.operation, e.dialect) for e in recorder.events] == [
            ("negotiate", "v2.1"),
            ("get_user", "v2.1"),
        ]

    async def test_request_id_reaches_the_response_event(self, mock):
        """The server's X-Request-Id is on the response event."""
        mock.get(PROFILE).respond(
            json=sample("v21/user_profile"), headers={"X-Request-Id": "req-42"}
        )
        seen: list[ResponseEvent] = []
        async with QiscusClient(
            "my-app",
            SECRET,
            api_version="v2.1",
            event_hooks={"response": [seen.append]},
        ) as client:
            await client.get_user("user@email.com")
        [event] = seen
        assert (event.request_id, event.status, event.operation) == (
            "req-42",
            200,
            "get_user",
        )
        assert event.url.startswith("https://api.qiscus.com/api/v2.1/rest/user_profile")

    async def test_a_raising_hook_is_logged_and_ignored(self, caplog):
        """A hook's exception never changes what the call does."""
        fake = fake_with_alice()

        def broken(event: object) -> None:
            raise RuntimeError("hook bug")

        calls: list[object] = []
        hooks = {"request": [broken, calls.append], "response": [broken]}
        with caplog.at_level(logging.ERROR, logger="aioqiscus"):
            async with client_on(fake, event_hooks=hooks) as client:
                user = await client.get_user(ALICE)
        assert user.id == ALICE
        assert len(calls) == 1  # the hook after the broken one still ran
        assert [r.message for r in caplog.records].count(
            f"event hook {broken!r} failed; ignored"
        ) == 2

    @pytest.mark.parametrize(
        ("hooks", "message"),
        [
            ({"requests": []}, "unknown event hook 'requests'"),
            ({"request": print}, "must be a list of callables"),
            ({"response": ["not callable"]}, "is not callable"),
            ("not a mapping", "must be a mapping"),
        ],
    )
    def test_malformed_hooks_are_refused(self, hooks, message):
        """Hooks are checked when the client is built."""
        with pytest.raises(InvalidArgumentError, match=message):
            QiscusClient("a", "s", event_hooks=hooks)

    def test_async_hooks_are_refused(self):
        """Hooks are called synchronously: an async def is refused."""

        async def hook(event: object) -> None: ...

        with pytest.raises(InvalidArgumentError, match="is async"):
            QiscusClient("a", "s", event_hooks={"retry": [hook]})


class TestNothingToObserve:
    def test_no_hook_and_no_provider_means_no_observer(self):
        """Unobserved clients keep the plain path: no observer at all."""
        client = QiscusClient("a", "s")
        assert client._transport.observer is None
        empty = QiscusClient("a", "s", event_hooks={"request": []})
        assert empty._transport.observer is None

    def test_views_share_the_observer(self):
        """with_options views report through the same observer."""
        client = QiscusClient("a", "s", event_hooks={"request": [print]})
        assert client.with_options(max_retries=0)._transport.observer is (
            client._transport.observer
        )

    def test_providers_must_be_opentelemetry_ones(self):
        """A provider that is not OpenTelemetry's is refused."""
        with pytest.raises(InvalidArgumentError, match="tracer_provider must be"):
            QiscusClient("a", "s", tracer_provider=object())


class TestRedaction:
    def test_credential_query_values_and_secrets_are_redacted(self):
        """url.full keeps keys, not credential values or registered secrets."""
        client = QiscusClient("a", SECRET)  # registers the secret while it lives
        observer = Observer("https://api.qiscus.com", {"request": (print,)}, None)
        spec = RequestSpec(
            "GET",
            f"/api/v2.1/rest/x/{SECRET}",
            (("user_id", "alice"), ("token", "abc"), ("X-Amz-Signature", "zz")),
        )
        url = observer.url(spec)
        assert url == (
            "https://api.qiscus.com/api/v2.1/rest/x/***"
            "?user_id=alice&token=REDACTED&X-Amz-Signature=REDACTED"
        )
        del client


def run_script(script: str) -> object:
    """What *script* prints as JSON, run in a fresh interpreter."""
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(name="otel")
def _otel():
    """An SDK tracer provider and meter provider with in-memory exporters."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield tracer_provider, meter_provider, exporter, reader
    tracer_provider.shutdown()
    meter_provider.shutdown()


def _spans_text(exporter: InMemorySpanExporter) -> str:
    return "".join(span.to_json() for span in exporter.get_finished_spans())


async def retried_get_user(otel) -> None:
    """get_user answered 503, then 200, with the *otel* providers."""
    tracer_provider, meter_provider, _, _ = otel
    fake = fake_with_alice()
    fake.inject(Fault.status(503), endpoints="user_profile", times=1)
    async with client_on(
        fake, tracer_provider=tracer_provider, meter_provider=meter_provider
    ) as client:
        with anyio.fail_after(10):
            await client.get_user(ALICE)


class TestOpenTelemetry:
    async def test_one_client_span_per_attempt(self, otel):
        """A retried call records two CLIENT spans with the HTTP conventions."""
        exporter = otel[2]
        await retried_get_user(otel)
        first, second = exporter.get_finished_spans()
        url = f"http://127.0.0.1{PROFILE}?user_id=alice%40example.com"
        common = {
            "http.request.method": "GET",
            "url.full": url,
            "server.address": "127.0.0.1",
            "server.port": 80,
            "qiscus.operation": "get_user",
            "qiscus.dialect": "v2.1",
        }
        assert (first.name, first.kind, second.name, second.kind) == (
            "GET",
            SpanKind.CLIENT,
            "GET",
            SpanKind.CLIENT,
        )
        assert dict(first.attributes) == {
            **common,
            "http.response.status_code": 503,
            "error.type": "503",
        }
        assert first.status.status_code is StatusCode.ERROR
        assert dict(second.attributes) == {
            **common,
            "http.request.resend_count": 1,
            "http.response.status_code": 200,
        }
        assert second.status.status_code is StatusCode.UNSET
        assert first.instrumentation_scope.name == "aioqiscus"

    async def test_a_failed_attempt_records_its_error_type(self, otel):
        """An attempt without a response: error.type is the exception's class."""
        tracer_provider, _, exporter, _ = otel
        fake = fake_with_alice()
        fake.inject(Fault.drop(), endpoints="user_profile", times=1)
        async with client_on(fake, tracer_provider=tracer_provider) as client:
            with anyio.fail_after(10):
                await client.get_user(ALICE)
        failed, answered = exporter.get_finished_spans()
        assert failed.attributes["error.type"] == "aioqiscus.errors.TransportError"
        assert "http.response.status_code" not in failed.attributes
        assert failed.status.status_code is StatusCode.ERROR
        assert answered.attributes["http.response.status_code"] == 200

    async def test_a_cancelled_attempt_is_not_an_error(self, otel):
        """Cancelling a call ends its span without an error."""
        tracer_provider, _, exporter, _ = otel
        fake = fake_with_alice()
        fake.inject(Fault.delay(5), endpoints="user_profile")
        async with client_on(fake, tracer_provider=tracer_provider) as client:
            with anyio.fail_after(10), anyio.move_on_after(0.05):
                await client.get_user(ALICE)
        [span] = exporter.get_finished_spans()
        assert "error.type" not in span.attributes
        assert span.status.status_code is StatusCode.UNSET

    async def test_duration_metric(self, otel):
        """http.client.request.duration records each attempt, in seconds."""
        reader = otel[3]
        await retried_get_user(otel)
        data = reader.get_metrics_data()
        [metric] = [
            m
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == "http.client.request.duration"
        ]
        assert metric.unit == "s"
        points = {
            p.attributes["http.response.status_code"]: p
            for p in metric.data.data_points
        }
        assert sorted(points) == [200, 503]
        assert dict(points[503].attributes) == {
            "http.request.method": "GET",
            "server.address": "127.0.0.1",
            "server.port": 80,
            "http.response.status_code": 503,
            "error.type": "503",
        }
        assert points[200].count == points[503].count == 1
        assert list(points[200].explicit_bounds)[:3] == [0.005, 0.01, 0.025]
        assert SECRET not in data.to_json()

    async def test_the_secret_never_appears(self, otel):
        """Spans of every kind of call hold no secret and no credential."""
        tracer_provider, _, exporter, _ = otel
        fake = fake_with_alice()
        fake.add_user("bob@example.com", "Bob")
        async with client_on(fake, tracer_provider=tracer_provider) as client:
            room = await client.create_room("Team", [ALICE, "bob@example.com"], ALICE)
            await client.post_text(room.id, ALICE, "hi")
            token = await client.reset_user_token(ALICE)
            await client.login_or_register(ALICE, "Alice", password="pa55word")
        text = _spans_text(exporter)
        assert len(exporter.get_finished_spans()) == 4
        for secret in (SECRET, token, "pa55word"):
            assert secret not in text

    def test_global_provider_is_used_when_configured(self):
        """With a global tracer provider set before the client, calls are traced."""
        script = textwrap.dedent(
            """
            import asyncio, json
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
            from aioqiscus import QiscusClient
            from aioqiscus.testing import FakeQiscus

            before = QiscusClient("a", "s")._transport.observer
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            fake = FakeQiscus()
            fake.add_user("alice@example.com")

            async def main():
                async with QiscusClient(
                    fake.app_id, fake.secret_key, base_url="http://127.0.0.1",
                    http_client=fake.http_client(), api_version="v2",
                ) as client:
                    await client.get_user("alice@example.com")

            asyncio.run(main())
            spans = exporter.get_finished_spans()
            print(json.dumps({
                "before": before is None,
                "spans": [(s.name, s.attributes["qiscus.dialect"]) for s in spans],
            }))
            """
        )
        assert run_script(script) == {
            "before": True,
            "spans": [["GET", "v2"]],
        }


def test_without_opentelemetry_each_client_does_not_import_again():
    """Without ``aioqiscus[otel]`` the failed import is tried once per process.

    A failed import leaves nothing in ``sys.modules``: tried at every
    client, it found, compiled and ran ``aioqiscus._otel`` each time.
    """
    script = textwrap.dedent(
        """
        import importlib.abc, json, sys
        sys.modules["opentelemetry"] = None  # as if not installed

        searched = []

        class Watch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "aioqiscus._otel":
                    searched.append(name)
                return None

        sys.meta_path.insert(0, Watch())
        from aioqiscus import InvalidArgumentError, QiscusClient

        for i in range(5):
            QiscusClient("app", f"secret-{i:04d}")
        try:
            QiscusClient("app", "secret-last", tracer_provider=object())
        except InvalidArgumentError as error:
            refused = str(error)
        print(json.dumps({"searched": len(searched), "refused": refused}))
        """
    )
    assert run_script(script) == {
        "searched": 1,
        "refused": "OpenTelemetry providers need pip install 'aioqiscus[otel]'",
    }
