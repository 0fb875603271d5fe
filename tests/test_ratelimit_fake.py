"""The fake server's enforced rate: 429 with Retry-After beyond it, per app."""

from __future__ import annotations

import anyio
import httpx
import pytest

from aioqiscus import RateLimitError
from aioqiscus.testing import FakeQiscus, Fault, RateRule

from .helpers import in_process

ALICE = "alice@example.com"


@pytest.fixture(name="fake")
def _fake():
    fake = FakeQiscus()
    fake.add_user(ALICE, "Alice")
    return fake


async def test_a_burst_beyond_the_rate_is_answered_429(fake):
    """After *burst* requests at once, the rest are refused 429, unprocessed."""
    fake.limit_rate(20, burst=2, retry_after=0)
    results: list[int] = []
    async with in_process(fake, "v2.1", retry=None) as client:

        async def call() -> None:
            try:
                await client.get_user(ALICE)
                results.append(200)
            except RateLimitError as exc:
                results.append(exc.status_code)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(call)
    assert sorted(results) == [200, 200, 429, 429, 429]
    refused = [e for e in fake.journal if e.status == 429]
    assert [e.fault for e in refused] == [Fault.rate_limited("0")] * 3
    assert refused[0].headers["qiscus-sdk-app-id"] == fake.app_id


async def test_retry_after_says_when_a_request_would_pass(fake):
    """By default Retry-After is the time until the next request is allowed."""
    fake.limit_rate(2)
    headers = {"QISCUS-SDK-APP-ID": fake.app_id, "QISCUS-SDK-SECRET": "fake-secret"}
    url = "http://127.0.0.1/api/v2.1/rest/user_profile"
    async with fake.http_client() as http:
        first = await http.get(url, params={"user_id": ALICE}, headers=headers)
        second = await http.get(url, params={"user_id": ALICE}, headers=headers)
    assert (first.status_code, second.status_code) == (200, 429)
    gap = fake.journal[1].at - fake.journal[0].at
    assert float(second.headers["retry-after"]) == pytest.approx(0.5 - gap, abs=0.002)


def test_each_app_has_its_own_rate():
    """The rate counts per app id."""
    rule = RateRule(1)
    assert rule.refuse("a", 10.0) is None
    assert rule.refuse("b", 10.0) is None
    assert rule.refuse("a", 10.5) == Fault.rate_limited("0.5")
    assert rule.refuse("a", 11.0) is None


def test_reset_and_none_lift_the_rate(fake):
    """limit_rate(None) and reset() lift the enforced rate."""
    assert fake.limit_rate(5) == RateRule(5)
    assert fake.limit_rate(None) is None
    fake.limit_rate(5)
    fake.reset()
    assert fake.rate is None


@pytest.mark.parametrize(
    "settings", [(0, 1, None), (float("inf"), 1, None), (1, 0, None), (1, 1, -1)]
)
def test_bad_rates_are_refused(settings):
    """A rate must be finite and positive, a burst >= 1, Retry-After >= 0."""
    with pytest.raises(ValueError):
        RateRule(*settings)


async def test_loopback_answers_429_with_retry_after(served):
    """Over a socket, a request beyond the rate gets 429 and Retry-After."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.limit_rate(1, retry_after=1)
    headers = {"QISCUS-SDK-APP-ID": fake.app_id, "QISCUS-SDK-SECRET": "fake-secret"}
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers) as http:
            answers = [
                await http.get("/api/v2.1/rest/user_profile", params={"user_id": ALICE})
                for _ in range(2)
            ]
    finally:
        fake.reset()
    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].headers["retry-after"] == "1"
