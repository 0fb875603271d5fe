"""Fixtures of the hostile suite: a fake behind a misbehaving gateway."""

from __future__ import annotations

import pytest

from aioqiscus.testing import FakeQiscus, serve

from ..conftest import ALICE, BOB
from ._servers import Gateway, Hook


@pytest.fixture(name="gateway")
def _gateway():
    """Start a fake behind a gateway whose hook a test sets; yields a starter.

    ``start(hook, dialects=...)`` returns ``(fake, base_url)`` with ALICE and
    BOB registered; the servers stop when the test ends.
    """
    stack = []

    def start(hook: Hook, *, dialects=("v2", "v2.1")):
        fake = FakeQiscus(dialects=dialects)
        fake.add_user(ALICE, "Alice")
        fake.add_user(BOB, "Bob")
        context = serve(Gateway(fake, hook))
        url = context.__enter__()
        stack.append(context)
        return fake, url

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)
