"""Item 4: every error is a value that survives pickle and copy; a closed
client says so with a QiscusError naming aclose."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import anyio
import pytest

from aioqiscus import ClientClosedError, Dialect, Operation, QiscusClient, errors
from aioqiscus.models import Backup
from aioqiscus.testing import FakeQiscus

from ..conftest import ALICE

BACKUP = Backup(id="b-1", resource="users", status="failed", percentage=40)


def instances() -> dict[str, errors.QiscusError]:
    """One instance of every class in aioqiscus.errors, attributes set."""
    made: dict[str, errors.QiscusError] = {
        "QiscusError": errors.QiscusError("plain"),
        "InvalidArgumentError": errors.InvalidArgumentError("bad argument"),
        "TransportError": errors.TransportError("reset"),
        "RequestTimeoutError": errors.RequestTimeoutError("slow"),
        "ResponseTooLargeError": errors.ResponseTooLargeError("big", limit=1024),
        "ResponseShapeError": errors.ResponseShapeError("not JSON"),
        "NegotiationError": errors.NegotiationError("unknown dialect"),
        "NegotiationTransportError": errors.NegotiationTransportError("refused"),
        "NegotiationTimeoutError": errors.NegotiationTimeoutError("slow probe"),
        "ClientClosedError": errors.ClientClosedError("closed"),
        "EventLoopError": errors.EventLoopError("another loop"),
        "UnsupportedOperationError": errors.UnsupportedOperationError(
            Operation.GET_USER_TOKEN, Dialect.V2, "use v2.1"
        ),
        "AmbiguousSendError": errors.AmbiguousSendError(
            "maybe", marker="m-1", sent_at=datetime(2026, 1, 2, tzinfo=UTC)
        ),
        "BackupFailedError": errors.BackupFailedError("failed", BACKUP),
        "BackupTimeoutError": errors.BackupTimeoutError("too slow", BACKUP),
        "RateLimitError": errors.RateLimitError(
            429, "slow down", retry_after=3.5, body="{}", request_id="r-1"
        ),
        "RateLimitedError": errors.RateLimitedError("no token", wait=2.5, max_wait=1.0),
        "RateLimitStoreError": errors.RateLimitStoreError("redis went away"),
        "StoreError": errors.StoreError("redis went away"),
    }
    for name in (
        "APIError",
        "BadRequestError",
        "AuthenticationError",
        "NotFoundError",
        "ServerError",
    ):
        made[name] = getattr(errors, name)(
            503,
            "unavailable",
            detailed_messages=["try later"],
            body='{"status": 503}',
            request_id="r-2",
            from_envelope=True,
        )
    made["TransportError"].never_sent = True
    made["ServerError"].add_note("seen twice")
    return made


def test_every_class_is_covered():
    """The instances cover every exception class aioqiscus.errors exports."""
    classes = {
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), BaseException)
    }
    assert set(instances()) == classes


@pytest.mark.parametrize("name", sorted(instances()))
@pytest.mark.parametrize(
    "clone",
    [
        lambda e: pickle.loads(pickle.dumps(e)),  # noqa: S301 - our own bytes
        copy.copy,
        copy.deepcopy,
    ],
    ids=["pickle", "copy", "deepcopy"],
)
def test_round_trip_keeps_attributes(name, clone):
    """pickle, copy and deepcopy give the same class, message, args and attributes."""
    original = instances()[name]
    twin = clone(original)
    assert type(twin) is type(original)
    assert str(twin) == str(original)
    assert twin.args == original.args
    assert vars(twin) == vars(original)


def _raise_server_error() -> None:
    raise errors.ServerError(502, "bad gateway", body="<html>", request_id="r-9")


def test_error_crosses_a_process_pool():
    """A ServerError raised in a worker process reaches the parent intact."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(_raise_server_error)
        with pytest.raises(errors.ServerError) as info:
            future.result(timeout=60)
        # The pool still works.
        assert pool.submit(len, "abc").result(timeout=60) == 3
    assert (info.value.status_code, info.value.request_id) == (502, "r-9")


class TestUseAfterClose:
    async def test_closed_client_and_views_raise_named_error(self):
        """After aclose(), calls on the client and its views raise ClientClosedError."""
        fake = FakeQiscus()
        fake.add_user(ALICE)
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        )
        view = client.with_options(max_retries=0)
        assert (await client.get_user(ALICE)).id == ALICE
        await client.aclose()
        await client.aclose()  # twice is fine
        for target in (client, view):
            with (
                anyio.fail_after(5),
                pytest.raises(ClientClosedError, match=r"aclose\(\)") as info,
            ):
                await target.get_user(ALICE)
            assert isinstance(info.value, errors.QiscusError)
            assert isinstance(info.value, RuntimeError)

    async def test_probe_after_close(self):
        """An auto client closed before negotiating raises ClientClosedError, not NegotiationError."""
        client = QiscusClient("app", "secret", base_url="http://127.0.0.1:9")
        await client.aclose()
        with anyio.fail_after(5), pytest.raises(ClientClosedError):
            await client.get_user(ALICE)

    async def test_injected_client_closed_by_its_owner(self):
        """An httpx client closed by the code that lent it: ClientClosedError too."""
        fake = FakeQiscus()
        http = fake.http_client()
        client = QiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url="http://127.0.0.1",
            api_version="v2.1",
            http_client=http,
        )
        await http.aclose()
        with anyio.fail_after(5), pytest.raises(ClientClosedError, match="closed"):
            await client.get_user(ALICE)
