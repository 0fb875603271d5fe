"""SyncQiscusClient: the blocking face, derived from the async client."""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import re
import signal
import sys
import threading
import time
import types
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from aioqiscus import (
    ClientClosedError,
    EventLoopError,
    InvalidArgumentError,
    NotFoundError,
    QiscusClient,
    QiscusError,
    SyncIterator,
    SyncListing,
    SyncQiscusClient,
)
from aioqiscus._syncgen import RENAMED, TARGET, generate, same_code
from aioqiscus.testing import Fault

from .conftest import ALICE, BOB


@pytest.fixture(name="sync_env")
def _sync_env(served):
    """(fake, blocking client) over the session's loopback fake, reset."""
    fake, url = served
    fake.reset()
    fake.add_user(ALICE)
    fake.add_user(BOB)
    client = SyncQiscusClient(fake.app_id, fake.secret_key, base_url=url, timeout=5)
    yield fake, client
    client.close()


def _public(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") or name in {"__init__", *RENAMED.values()}
    }


class TestDerived:
    def test_the_committed_file_is_generated(self):
        """sync.py is what `python -m aioqiscus._syncgen` writes now."""
        assert same_code(TARGET.read_text(), generate(formatted=False)), (
            "run `python -m aioqiscus._syncgen` to regenerate src/aioqiscus/sync.py"
        )

    def test_a_difference_is_seen(self):
        """A method missing from, or changed in, sync.py fails the check."""
        committed = TARGET.read_text()
        fresh = generate(formatted=False)
        assert not same_code(committed.replace("def get_user(", "def get_usr("), fresh)
        assert not same_code(
            committed.replace("page_size: int = 100", "page_size: int = 10"), fresh
        )

    def test_the_two_surfaces_match(self):
        """Every public member of QiscusClient is on SyncQiscusClient with
        the same parameters and return type (modulo async), and no more."""
        ours = _public(SyncQiscusClient)
        theirs = {
            RENAMED.get(name, name): member
            for name, member in _public(QiscusClient).items()
            if name not in {"__aenter__", "__aexit__"}
        }
        attributes = {n for n in vars(QiscusClient("a", "s")) if not n.startswith("_")}
        assert set(ours) - {"__enter__", "__exit__"} == set(theirs) | attributes
        for name, member in theirs.items():
            mine = ours[name]
            if isinstance(member, property):
                assert isinstance(mine, property), name
                assert (mine.fset is None) == (member.fset is None), name
                continue
            assert callable(mine), name
            assert callable(member), name
            assert not inspect.iscoroutinefunction(mine), name
            expected = inspect.signature(member)
            actual = inspect.signature(mine)
            assert list(actual.parameters.values()) == list(
                expected.parameters.values()
            ), name
            returns = str(expected.return_annotation)
            for old, new in (
                ("Listing[", "SyncListing["),
                ("AsyncIterator[", "SyncIterator["),
            ):
                if returns.startswith(old):
                    returns = new + returns.removeprefix(old)
            assert str(actual.return_annotation) == returns, name

    def test_the_public_attributes_are_shared(self):
        """The async client's public attributes are read and set through."""
        client = SyncQiscusClient("app", "secret", api_version="v2")
        with client:
            names = {n for n in vars(client._client) if not n.startswith("_")}
            assert names == {"app_id", "ambiguous_sends", "marker_in_extras"}
            for name in names:
                member = getattr(SyncQiscusClient, name)
                assert isinstance(member, property), name
                assert member.fset is not None, name
                assert getattr(client, name) == getattr(client._client, name)
            client.ambiguous_sends = "raise"
            assert client._client.ambiguous_sends == "raise"

    def test_exported(self):
        """The blocking client and its iterators are exported from aioqiscus."""
        import aioqiscus

        assert aioqiscus.SyncQiscusClient is SyncQiscusClient
        assert issubclass(SyncListing, SyncIterator)


class TestCalls:
    def test_calls_return_what_the_async_client_returns(self, sync_env):
        """Calls return models; listings iterate plainly and keep their totals."""
        _, client = sync_env
        room = client.create_room("G", [ALICE, BOB], ALICE)
        comment = client.post_text(str(room.id), ALICE, "hi")
        assert comment.message == "hi"
        rooms = client.iter_user_rooms(ALICE)
        assert isinstance(rooms, SyncListing)
        assert [r.id for r in rooms] == [room.id]
        assert rooms.total == 1
        assert rooms.pages == 1
        assert [c.message for c in client.iter_comments(str(room.id))] == ["hi"]
        assert client.dialect is not None
        assert client.negotiation_report().dialect is client.dialect

    def test_errors_are_the_async_clients(self, sync_env):
        """A missing user raises NotFoundError; bad arguments raise before
        any request, as in the async client."""
        fake, client = sync_env
        with pytest.raises(NotFoundError):
            client.get_user("nobody@example.com")
        sent = len(fake.journal)
        with pytest.raises(InvalidArgumentError):
            client.get_user("")
        with pytest.raises(InvalidArgumentError):
            client.iter_user_rooms(ALICE, page_size=0)
        assert len(fake.journal) == sent

    def test_a_view_shares_the_loop_and_closes_nothing(self, sync_env):
        """with_options gives a blocking view; closing it closes nothing."""
        _, client = sync_env
        view = client.with_options(max_retries=0)
        assert isinstance(view, SyncQiscusClient)
        assert view.get_user(ALICE).id == ALICE
        view.close()
        assert client.get_user(ALICE).id == ALICE

    def test_reconcile_delay_is_read_and_set(self, sync_env):
        """Properties read and write the async client's."""
        _, client = sync_env
        client.reconcile_delay = 0.25
        assert client.reconcile_delay == 0.25

    def test_stopping_a_listing_early(self, sync_env):
        """close() on a listing stops it: no further page is fetched."""
        _, client = sync_env
        for n in range(3):
            client.create_room(f"G{n}", [BOB], ALICE)
        rooms = client.iter_user_rooms(ALICE, page_size=1, show_empty=True)
        next(rooms)
        rooms.close()
        assert list(rooms) == []
        assert rooms.pages == 1


class TestInterrupted:
    def test_ctrl_c_cancels_the_call_on_the_loop(self, sync_env):
        """Ctrl-C while a call waits raises KeyboardInterrupt at once and
        cancels the call on the loop; the client still works."""
        fake, client = sync_env
        client.negotiate()
        fake.inject(Fault.delay(2), times=1)
        main = threading.get_ident()
        timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.get_user(ALICE)
        finally:
            timer.cancel()
        assert time.monotonic() - started < 1.5
        for _ in range(100):  # the cancellation lands on the loop
            if not _tasks(client):
                break
            time.sleep(0.01)
        assert _tasks(client) == []
        assert client.get_user(ALICE).id == ALICE


def _tasks(client: SyncQiscusClient) -> list[object]:
    """The client's calls still running on its loop (guards aside)."""

    async def running() -> list[object]:
        here = asyncio.current_task()
        return [
            t
            for t in asyncio.all_tasks()
            if t is not here
            and "_guard" not in repr(t.get_coro())
            and "serve" not in repr(t.get_coro())
        ]

    return client._shared.loop.run(running())


class TestClosedMeanwhile:
    def test_a_call_running_when_another_thread_closes(self, sync_env):
        """A call in flight when another thread closes the client ends with a
        QiscusError within its bound, not a CancelledError or a hang."""
        fake, client = sync_env
        client.negotiate()
        fake.inject(Fault.delay(2), times=1)
        outcome: list[BaseException | str] = []

        def call() -> None:
            try:
                client.get_user(ALICE)
            except BaseException as exc:  # noqa: BLE001 - the outcome is the result
                outcome.append(exc)
            else:
                outcome.append("returned")

        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        client.close()
        thread.join(10)
        assert time.monotonic() - started < 5
        assert len(outcome) == 1
        assert isinstance(outcome[0], QiscusError), outcome


class TestOneLoop:
    """A call on an idle loop runs it in its own thread; the loop is passed on."""

    def test_an_idle_loop_runs_in_the_callers_thread(self, served):
        """Nothing else in flight: the call runs the loop in the caller's
        thread, with no hand-off (two thread switches) to another."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        seen: list[threading.Thread] = []
        with SyncQiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            timeout=5,
            event_hooks={
                "response": [lambda _: seen.append(threading.current_thread())]
            },
        ) as client:
            client.get_user(ALICE)
            client.get_user(ALICE)
        assert len(seen) >= 2
        assert set(seen) == {threading.current_thread()}

    def test_calls_overlap_and_the_loop_passes_on(self, served):
        """A call made while another thread runs the loop joins it (it does
        not wait for that thread's call); a call still in flight when that
        thread's own call ends is finished by the client's daemon thread."""
        fake, url = served
        fake.reset()
        fake.add_user(ALICE)
        fake.add_user(BOB)
        answered: dict[str, str] = {}
        threads: dict[str, str] = {}

        def hook(event: object) -> None:
            threads[threading.current_thread().name] = "seen"

        client = SyncQiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            timeout=5,
            event_hooks={"response": [hook]},
        )

        def slow(name: str) -> None:
            answered[name] = client.get_user(ALICE).id

        try:
            client.negotiate()
            fake.inject(Fault.delay(0.6), times=1)
            first = threading.Thread(target=slow, args=("first",), name="first")
            first.start()
            time.sleep(0.15)  # "first" runs the loop, waiting for its answer
            started = time.monotonic()
            assert client.get_user(BOB).id == BOB
            assert time.monotonic() - started < 0.45
            fake.inject(Fault.delay(0.6), times=1)
            second = threading.Thread(target=slow, args=("second",), name="second")
            second.start()
            first.join(5)
            second.join(5)
        finally:
            client.close()
        assert answered == {"first": ALICE, "second": ALICE}
        # The second's answer came after the first's caller left the loop.
        assert "aioqiscus-sync" in threads

    def test_ctrl_c_in_the_thread_running_the_loop(self, sync_env):
        """Ctrl-C in the main thread while it runs the loop cancels its own
        call; another thread's call on the same loop still gets its answer."""
        fake, client = sync_env
        client.negotiate()
        outcome: list[object] = []

        def other() -> None:
            fake.inject(Fault.delay(0.3), times=1)
            outcome.append(client.get_user(BOB).id)

        fake.inject(Fault.delay(0.8), times=1)
        main = threading.get_ident()
        interrupt = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
        helper = threading.Timer(0.05, other)
        helper.start()
        interrupt.start()
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.get_user(ALICE)
        finally:
            interrupt.cancel()
        assert time.monotonic() - started < 0.6
        helper.join(5)
        assert outcome == [BOB]
        assert client.get_user(ALICE).id == ALICE
        # The server answers the cancelled request later: not in another test.
        time.sleep(max(0.0, started + 0.9 - time.monotonic()))


class TestThreads:
    def test_threads_share_one_client(self, sync_env):
        """Eight threads calling one client at once all get their answers."""
        _, client = sync_env
        results: list[str] = []
        failures: list[BaseException] = []
        start = threading.Barrier(8, timeout=10)

        def work() -> None:
            try:
                start.wait()
                results.extend(client.get_user(ALICE).id for _ in range(10))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == []
        assert results == [ALICE] * 80


def _jupyter() -> types.ModuleType:
    """A stand-in for IPython, as imported in a Jupyter kernel."""
    shell = type("ZMQInteractiveShell", (), {})()
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    return module


class TestBadUse:
    def test_after_close(self, served):
        """After close(), calls, listings and `with` raise ClientClosedError;
        the loop thread is gone; closing twice is fine."""
        fake, url = served
        client = SyncQiscusClient(fake.app_id, fake.secret_key, base_url=url)
        with client:
            pass
        thread = client._shared.loop.thread
        assert not thread.is_alive()
        client.close()
        with pytest.raises(ClientClosedError, match="closed by close"):
            client.get_user(ALICE)
        with pytest.raises(ClientClosedError):
            client.iter_users()
        with pytest.raises(ClientClosedError), client:
            pass

    async def test_inside_a_running_loop(self, sync_env):
        """From a coroutine, a blocking call is refused with an error that
        names the async client, instead of stalling the loop."""
        fake, client = sync_env
        sent = len(fake.journal)
        # Refused at once: nothing reaches the loop thread.
        with pytest.raises(EventLoopError, match=r"aioqiscus\.QiscusClient"):
            client.get_user(ALICE)
        with pytest.raises(EventLoopError, match="running asyncio event loop"):
            client.iter_user_rooms(ALICE)
        assert len(fake.journal) == sent

    async def test_in_a_jupyter_cell(self, sync_env, monkeypatch):
        """In a Jupyter kernel, whose cells run inside its loop and block it
        anyway, blocking calls are allowed."""
        _, client = sync_env
        monkeypatch.setitem(sys.modules, "IPython", _jupyter())
        assert client.get_user(ALICE).id == ALICE

    def test_on_its_own_loop_thread(self, served, monkeypatch):
        """Called from its own loop's thread (an event hook), where waiting
        would deadlock, a call is refused, even in Jupyter."""
        fake, url = served
        monkeypatch.setitem(sys.modules, "IPython", _jupyter())
        caught: list[BaseException] = []

        def hook(event: object) -> None:
            try:
                client.get_user_token(ALICE)
            except EventLoopError as exc:
                caught.append(exc)

        client = SyncQiscusClient(
            fake.app_id,
            fake.secret_key,
            base_url=url,
            timeout=5,
            event_hooks={"request": [hook]},
        )
        with client:
            client.negotiate()
        assert len(caught) == 1
        assert "aioqiscus.QiscusClient" in str(caught[0])

    @pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
    def test_in_a_forked_child(self, sync_env):
        """In a child forked after the client was made, whose loop thread
        stayed in the parent, a call raises instead of waiting forever."""
        _, client = sync_env
        client.get_user(ALICE)
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()

        def in_child() -> None:
            try:
                client.get_user(ALICE)
            except EventLoopError as exc:
                child.send(str(exc))
            else:
                child.send("no error")
            client.close()

        process = context.Process(target=in_child)
        process.start()
        try:
            assert parent.poll(10)
            message = parent.recv()
        finally:
            process.join(10)
        assert "before the process forked" in message
        assert client.get_user(ALICE).id == ALICE

    def test_inside_trio(self, sync_env):
        """Refused the same way inside trio."""
        _, client = sync_env

        async def call() -> None:
            client.get_user(ALICE)

        with pytest.raises(EventLoopError, match="running trio event loop"):
            anyio.run(call, backend="trio")

    def test_async_arguments(self, sync_env):
        """An async iterator or a coroutine as an argument is refused, naming
        the argument."""
        fake, client = sync_env

        async def users() -> AsyncIterator[str]:
            yield ALICE

        sent = len(fake.journal)
        with pytest.raises(InvalidArgumentError, match="argument 2 is async_generator"):
            client.get_unread_counts(ALICE, users())  # type: ignore[arg-type]
        pending = asyncio.sleep(0)
        try:
            with pytest.raises(InvalidArgumentError, match="extras= is coroutine"):
                client.post_text("1", ALICE, "hi", extras=pending)  # type: ignore[typeddict-item]
        finally:
            pending.close()
        assert len(fake.journal) == sent


def test_the_docs_testing_snippet_runs():
    """docs/sync.md's test, run as written, passes."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "sync.md").read_text()
    testing = text.split("\n## Testing\n", 1)[1]
    match = re.search(r"```python\n(.+?)\n```", testing, re.DOTALL)
    assert match is not None
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), "docs/sync.md", "exec"), namespace)  # noqa: S102 - our own docs
    test = namespace["test_alice_is_there"]
    assert callable(test)
    test()
