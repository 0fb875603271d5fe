"""Item 8: the smaller holes.

A forged signature header, ids no int() accepts, an app id with a final
newline, clients created by the thousand, the aiohttp grace, and the fake's
journal keeping passwords.
"""

from __future__ import annotations

import copy
import gc
import itertools
import json

import anyio
import httpx
import pytest

from aioqiscus import InvalidArgumentError, QiscusClient, _redaction, webhooks
from aioqiscus.backends import AiohttpBackend
from aioqiscus.testing import FakeQiscus

from ..conftest import ALICE, sample

TOKEN = "signing-token"


class TestWebhooks:
    def test_malformed_signature_is_false(self):
        """verify_signature answers False for any malformed header, never raises."""
        body = json.dumps(sample("webhooks/post_comment_rest")).encode()
        headers = ["é" * 64, "\u0663" * 64, "sha256=" + "€" * 57, "\x00" * 64, " ", ""]
        assert [webhooks.verify_signature(body, h, TOKEN) for h in headers] == [
            False
        ] * len(headers)
        assert webhooks.verify_signature(body, webhooks.sign(body, TOKEN), TOKEN)

    def test_parse_raises_only_webhook_error(self):
        """Odd values anywhere raise WebhookError, never ValueError or TypeError."""
        paths = [("message", "id"), ("from", "id"), ("room", "type"), ("room", "id")]
        values = ["²", "٣", 1e400, [], {"a": 1}, None, True, "x" * 10_000]
        escaped, parsed = [], 0
        for (where, key), value in itertools.product(paths, values):
            delivery = copy.deepcopy(sample("webhooks/post_comment_rest"))
            delivery["payload"][where][key] = value
            try:
                webhooks.parse(json.dumps(delivery))
            except webhooks.WebhookError:
                continue
            except Exception as exc:  # noqa: BLE001 - what escapes is the finding
                escaped.append((where, key, value, type(exc).__name__))
            else:
                parsed += 1
        assert escaped == []
        assert parsed > 0  # plausible values still parse

    def test_int_of_superscript_digit(self):
        """A comment id "²" (isdigit, yet no int) is a WebhookError naming the body."""
        delivery = copy.deepcopy(sample("webhooks/post_comment_rest"))
        delivery["payload"]["message"]["id"] = "²"
        with pytest.raises(webhooks.WebhookError, match="malformed"):
            webhooks.parse(json.dumps(delivery))


def test_app_id_with_line_breaks_refused():
    """An app id is a DNS label: a final newline no longer slips past '$'."""
    for app_id in ["app\n", "app\r\n", "\napp", "app\x00"]:
        with pytest.raises(InvalidArgumentError, match="app_id"):
            QiscusClient(app_id, "secret")


def test_secret_registry_holds_live_clients_only():
    """2,000 clients created and dropped (or closed) leave the registry as it was."""
    gc.collect()
    before = _redaction.registered()
    # One shared httpx client: building 2,000 TLS contexts would take minutes.
    shared = httpx.AsyncClient()

    async def closed_ones():
        for i in range(1000):
            client = QiscusClient("app", f"secret-closed-{i:04d}", http_client=shared)
            await client.aclose()

    anyio.run(closed_ones)
    for i in range(1000):
        QiscusClient("app", f"secret-dropped-{i:04d}", http_client=shared)
    gc.collect()
    assert _redaction.registered() == before
    live = QiscusClient("app", "secret-kept-alive", http_client=shared)
    assert _redaction.registered() == before + 1
    assert _redaction.scrub("x secret-kept-alive x") == "x *** x"
    assert repr(live).startswith("QiscusClient(")


def test_aiohttp_grace_is_its_read_timeout():
    """With aiohttp, the default reconcile_delay is the backend's timeout, as documented."""
    client = QiscusClient("app", "secret", backend=AiohttpBackend(timeout=7.0))
    assert client.reconcile_delay == 7.0


async def test_fake_journal_masks_passwords():
    """The fake's journal keeps no password in clear."""
    fake = FakeQiscus()
    async with QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    ) as client:
        await client.login_or_register(ALICE, "Alice", password="pw-123456")
    [entry] = fake.requests("login_or_register")
    assert entry.body["password"] == "***"
    assert "pw-123456" not in repr(fake.journal)
    assert fake.store.users[ALICE].password == "pw-123456"
