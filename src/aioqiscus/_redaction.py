"""Keep secrets out of log records (defence in depth: we never log them).

Strictly private. Every client registers its secret key; a filter on the
``aioqiscus`` logger masks any registered secret that reaches a record.
httpx logs full URLs at INFO on its own logger; no secret is ever in a URL
(credentials travel in headers), but user ids are: see the README.
"""

from __future__ import annotations

import logging

_secrets: set[str] = set()
MASK = "***"


def register(secret: str) -> None:
    """Mask *secret* in the ``aioqiscus`` logger's records from now on."""
    if len(secret) >= 4:  # noqa: PLR2004 - masking 1-3 chars would mangle logs
        _secrets.add(secret)


def scrub(text: str) -> str:
    """*text* with every registered secret masked."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Mask registered secrets in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


logging.getLogger("aioqiscus").addFilter(RedactingFilter())
