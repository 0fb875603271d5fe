"""Test doubles for code that uses aioqiscus.

:class:`FakeQiscus` is a stateful Qiscus server in memory (an ASGI app)
serving both REST dialects with the documented JSON shapes, with seeded fault
injection and a request journal. Use it in-process::

    fake = FakeQiscus()
    fake.add_user("alice@example.com", "Alice")
    client = QiscusClient(fake.app_id, fake.secret_key,
                          http_client=fake.http_client())

or on a loopback socket with :func:`serve`. To test a bot, the fake also
plays the app's user: :meth:`FakeQiscus.say` and :meth:`FakeQiscus.tap` post
as a user's app would and deliver ``post_comment_mobile`` webhooks (see
:meth:`FakeQiscus.deliver_webhooks`). The pytest plugin (installed with
``aioqiscus[testing]``) provides the ``qiscus_fake``, ``qiscus_client`` and
``qiscus_server`` fixtures.
"""

from __future__ import annotations

from ._fake import ConnectionDropped, FakeQiscus, JournalEntry, WebhookDelivery
from ._faults import Fault, FaultRule, RateRule
from ._server import serve

__all__ = [
    "ConnectionDropped",
    "FakeQiscus",
    "Fault",
    "FaultRule",
    "JournalEntry",
    "RateRule",
    "WebhookDelivery",
    "serve",
]
