"""What observing HTTP attempts costs per call, with the network taken away.

    python bench/observe.py

One ``post_text`` through a stub backend that answers the documented v2
comment at once, best of 5 rounds of 5,000 calls, in four set-ups: nothing
observed (the default: no observer at all), one no-op event hook per kind,
OpenTelemetry spans and the duration histogram on SDK providers whose
processor drops every span, and both. Prints one Markdown row each.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def stub_client(dialect: str = "v2", **options: Any) -> Any:
    """A client of *dialect* on a stub backend answering its documented
    comment at once (``bench/server.py``'s body)."""
    from server import BODIES

    import aioqiscus
    from aioqiscus._wire import RawResponse

    answer = BODIES[dialect]

    class Stub:
        max_connections = 100

        async def send(self, *_: object, **__: object) -> RawResponse:
            return RawResponse(200, {}, answer)

        async def aclose(self) -> None:
            return None

    return aioqiscus.QiscusClient(
        "bench", "secret", api_version=dialect, backend=Stub(), **options
    )


async def per_call(**options: Any) -> float:
    """Seconds per post_text with *options* given to the client."""
    async with stub_client(**options) as client:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(5000):
                await client.post_text("234", "bot@example.com", "hello")
            best = min(best, (time.perf_counter() - started) / 5000)
    return best


def providers() -> dict[str, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SpanProcessor())  # records, exports nothing
    return {"tracer_provider": tracer_provider, "meter_provider": MeterProvider()}


async def main() -> None:
    def nothing(_: object) -> None:
        return None

    hooks = {"event_hooks": {k: [nothing] for k in ("request", "response", "retry")}}
    setups = {
        "nothing observed": {},
        "one no-op hook per event": hooks,
        "OpenTelemetry (SDK, no export)": providers(),
        "hooks and OpenTelemetry": {**hooks, **providers()},
    }
    base = None
    print("| set-up | per post_text | vs nothing observed |")
    print("|---|---:|---:|")
    for name, options in setups.items():
        seconds = await per_call(**options)
        base = base or seconds
        print(f"| {name} | {seconds * 1e6:.1f} µs | +{(seconds - base) * 1e6:.1f} µs |")


if __name__ == "__main__":
    asyncio.run(main())
