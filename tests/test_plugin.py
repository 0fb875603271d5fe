"""The pytest plugin's fixtures, used the way users' tests use them."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import anyio
import pytest

import aioqiscus
from aioqiscus import Dialect, QiscusClient, RoomType
from aioqiscus.testing import FakeQiscus, Fault

pytest_plugins = ["pytester"]


async def test_client_fixture(qiscus_fake, qiscus_client):
    """qiscus_client talks to qiscus_fake in-process and negotiates v2.1."""
    qiscus_fake.add_user("alice@example.com")
    qiscus_fake.add_user("bot@example.com")
    room = await qiscus_client.get_or_create_room_with_target(
        ["alice@example.com", "bot@example.com"]
    )
    assert room.type is RoomType.SINGLE
    assert qiscus_client.dialect is Dialect.V2_1


@pytest.mark.qiscus(dialects={"v2"}, api_version="auto")
async def test_marker_configures_dialects(qiscus_fake, qiscus_client):
    """The qiscus marker makes a v2-only fake; the client negotiates v2."""
    assert qiscus_fake.dialects == {"v2"}
    assert await qiscus_client.negotiate() is Dialect.V2


@pytest.mark.parametrize("qiscus_client", ["v2", "v2.1"], indirect=True)
async def test_client_parametrised_by_dialect(qiscus_fake, qiscus_client):
    """qiscus_client can be parametrised with an api_version."""
    qiscus_fake.add_user("a@example.com")
    qiscus_fake.add_user("b@example.com")
    room = await qiscus_client.create_room("R", ["b@example.com"], "a@example.com")
    assert room.name == "R"
    assert [e.dialect for e in qiscus_fake.journal] == [qiscus_client.dialect.value]


async def test_server_fixture(qiscus_fake: FakeQiscus, qiscus_server: str):
    """qiscus_server serves the same fake on loopback."""
    assert qiscus_server.startswith("http://127.0.0.1:")
    qiscus_fake.add_user("a@example.com")
    async with QiscusClient(
        qiscus_fake.app_id, qiscus_fake.secret_key, base_url=qiscus_server
    ) as client:
        rooms = [r async for r in client.iter_user_rooms("a@example.com")]
    assert rooms == []
    assert qiscus_fake.journal[-1].endpoint == "get_user_rooms"


def test_main_module_help(capsys):
    """python -m aioqiscus.testing refuses options that make no fake (exit 2)."""
    from aioqiscus.testing.__main__ import main

    assert main(["--dialects", "v9"]) == 2
    assert "dialects" in capsys.readouterr().err


def test_main_module_serves():
    """python -m aioqiscus.testing serves on loopback until stopped."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "aioqiscus.testing",
            "--port",
            str(port),
            "--dialects",
            "v2",
            "--user",
            "a@example.com",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v2/rest/user_profile"
        headers = {"QISCUS_SDK_SECRET": "fake-secret"}
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(
                    url, params={"user_email": "a@example.com"}, headers=headers
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.json()["results"]["user"]["email"] == "a@example.com"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------- a user's project

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_test_module() -> str:
    """The README's example test module ("Testing your code"), verbatim."""
    text = README.read_text()
    section = text[text.index("## Testing your code") :]
    return re.search(r"```python\n(.+?)\n```", section, re.DOTALL).group(1)


#: A user's test whose client has a backoff no test should sit through.
SLOW_BACKOFF_TEST = """
import anyio
import pytest
from aioqiscus import NotFoundError, RetryPolicy
from aioqiscus.testing import Fault

SLOW = RetryPolicy(max_retries=2, initial_backoff=60, max_backoff=60, jitter=0)


@pytest.fixture
def rooms_of(qiscus_client):
    # A fixture of the user's own that wraps the plugin's client.
    client = qiscus_client.with_options(retry=SLOW)

    async def rooms_of(user):
        return [r async for r in client.iter_user_rooms(user)]

    return rooms_of


async def test_retries_do_not_sleep(qiscus_fake, rooms_of):
    qiscus_fake.add_user("alice@example.com")
    qiscus_fake.inject(Fault.status(503), endpoints="get_user_rooms", times=2)
    with anyio.fail_after(20):
        assert await rooms_of("alice@example.com") == []
    assert [e.status for e in qiscus_fake.requests("get_user_rooms")] == [503, 503, 200]


async def test_through_a_fixture_only(rooms_of):
    with pytest.raises(NotFoundError):
        await rooms_of("nobody@example.com")
"""


def run_project(pytester, files, *args):
    """Run pytest in a fresh process on a project with no pytest configuration."""
    pytester.makepyfile(**files)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


class TestUserProject:
    """The plugin in a project that configures nothing (no asyncio_mode)."""

    def test_readme_tests_pass_without_any_async_plugin(self, pytester):
        """The README's tests pass with pytest-asyncio disabled and -W error."""
        result = run_project(
            pytester,
            {"test_readme": readme_test_module()},
            "-p",
            "no:asyncio",
            "-W",
            "error",
        )
        result.assert_outcomes(passed=2)

    def test_readme_tests_pass_next_to_strict_pytest_asyncio(self, pytester):
        """With pytest-asyncio installed but unconfigured (strict mode), too."""
        result = run_project(pytester, {"test_readme": readme_test_module()})
        result.assert_outcomes(passed=2)

    def test_injected_faults_do_not_sleep_through_backoff(self, pytester):
        """A fault-injected call retried with a 60 s backoff finishes in time."""
        result = run_project(
            pytester, {"test_slow": SLOW_BACKOFF_TEST}, "-p", "no:asyncio"
        )
        result.assert_outcomes(passed=2)

    def test_a_runner_marker_wins(self, pytester):
        """A test marked for anyio is left to anyio's plugin, once per backend."""
        result = run_project(
            pytester,
            {
                "test_marked": """
import pytest
import sniffio

@pytest.mark.anyio
async def test_marked(qiscus_client, anyio_backend):
    assert sniffio.current_async_library() == anyio_backend
"""
            },
            "-p",
            "no:asyncio",
            "-v",
        )
        # anyio runs it on each backend installed (trio is in the tests group).
        backends = ["asyncio"] + (["trio"] if importlib.util.find_spec("trio") else [])
        result.assert_outcomes(passed=len(backends))
        result.stdout.fnmatch_lines([f"*test_marked*{b}*PASSED*" for b in backends])

    def test_async_tests_without_our_fixtures_are_not_ours(self, pytester):
        """An async test that uses no qiscus fixture still needs its own runner."""
        result = run_project(
            pytester,
            {"test_other": "async def test_other():\n    pass\n"},
            "-p",
            "no:asyncio",
        )
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*async def functions are not natively supported*"]
        )


class TestNoBackoff:
    def test_restores_the_previous_setting(self, pytester):
        """The switch is on during the test and as it was before afterwards."""
        result = run_project(
            pytester,
            {
                "test_switch": """
from aioqiscus._retry import is_testing

def test_on(qiscus_fake):
    assert is_testing()

def test_off_again():
    assert not is_testing()
"""
            },
            "-p",
            "no:asyncio",
        )
        result.assert_outcomes(passed=2)


async def dropping_room(fake: FakeQiscus, client: QiscusClient):
    """A room whose next post_comment is stored, then its connection dropped."""
    fake.add_user("a@example.com")
    fake.add_user("b@example.com")
    room = await client.create_room("R", ["b@example.com"], "a@example.com")
    fake.inject(Fault.drop(), endpoints="post_comment", times=1)
    return room


class TestFastFaults:
    """Ambiguous sends under the fixtures settle without the grace wait."""

    async def test_dropped_send_settles_at_once(self, qiscus_fake, qiscus_client):
        """A dropped send is looked up at once, not after the 5 s default grace."""
        room = await dropping_room(qiscus_fake, qiscus_client)
        started = time.monotonic()
        with anyio.fail_after(10):
            comment = await qiscus_client.post_text(room.id, "a@example.com", "hi")
        assert time.monotonic() - started < 1.0
        assert comment.message == "hi"
        assert [c.message for c in qiscus_fake.room(room.id).comments] == ["hi"]

    @pytest.mark.qiscus(reconcile_delay=0.3)
    async def test_marker_asks_for_a_grace(self, qiscus_fake, qiscus_client):
        """The marker's reconcile_delay is waited before the look-up."""
        room = await dropping_room(qiscus_fake, qiscus_client)
        started = time.monotonic()
        with anyio.fail_after(10):
            await qiscus_client.post_text(room.id, "a@example.com", "hi")
        assert 0.3 <= time.monotonic() - started < 3.0

    async def test_a_client_of_its_own_keeps_its_delay(self, qiscus_fake):
        """A reconcile_delay given to the client is honoured in testing mode."""
        client = QiscusClient(
            qiscus_fake.app_id,
            qiscus_fake.secret_key,
            base_url="http://127.0.0.1",
            http_client=qiscus_fake.http_client(),
            reconcile_delay=0.3,
        )
        async with client:
            room = await dropping_room(qiscus_fake, client)
            started = time.monotonic()
            with anyio.fail_after(10):
                await client.post_text(room.id, "a@example.com", "hi")
        assert time.monotonic() - started >= 0.3

    def test_outside_testing_mode_the_default_grace_holds(self):
        """Testing mode replaces a default grace only; set_testing(False) restores it."""
        from aioqiscus._reconcile import Reconciler

        reconciler = Reconciler(5.0, fixed=False)
        aioqiscus.set_testing(True, reconcile_delay=0.25)
        try:
            assert reconciler.grace() == 0.25
            assert Reconciler(5.0).grace() == 5.0
        finally:
            aioqiscus.set_testing(True)
        assert reconciler.grace() == 0.0
        aioqiscus.set_testing(False)
        try:
            assert reconciler.grace() == 5.0
        finally:
            aioqiscus.set_testing(True)
