"""The pytest plugin's fixtures, used the way users' tests use them."""

from __future__ import annotations

import pytest

from aioqiscus import Dialect, QiscusClient, RoomType
from aioqiscus.testing import FakeQiscus


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
    """python -m aioqiscus.testing parses its arguments."""
    from aioqiscus.testing.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["--dialects", "v9"])
    assert info.value.code == 2
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
