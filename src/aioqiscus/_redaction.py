"""Keep secrets out of error messages and log records.

Strictly private. Every live client registers its secret key
(:func:`register`, counted, so two clients sharing a key keep it masked
until both are gone) and releases it when closed or collected
(:func:`release`), so the registry holds only the keys of live clients
however many clients a process creates. :func:`scrub` masks every
registered key in a text with one compiled pattern (one scan, whatever the
number of keys); :func:`clip` masks first and cuts after, so a key that
straddles the cut never leaves a prefix behind. Every
:class:`~aioqiscus.errors.QiscusError` scrubs its message and attributes
when it is built, and a filter on the ``aioqiscus`` logger masks any
registered key that reaches a record. httpx logs full URLs at INFO on its
own logger; no secret is ever in a URL (credentials travel in headers),
but user ids are: see the README.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

MASK = "***"
#: Shorter secrets are not masked: masking 1-3 characters would mangle text.
MIN_LENGTH = 4

_counts: Counter[str] = Counter()
# The pattern is rebuilt lazily, at the first scrub after the keys changed:
# creating and closing many clients costs no regex compilation at all.
_state: dict[str, re.Pattern[str] | None] = {}


def _pattern() -> re.Pattern[str] | None:
    try:
        return _state["pattern"]
    except KeyError:
        pass
    # Longest first, so a key that contains another is masked whole.
    keys = sorted(_counts, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, keys))) if keys else None
    _state["pattern"] = pattern
    return pattern


def register(secret: str) -> None:
    """Mask *secret* from now on, until :func:`release` balances this call."""
    if len(secret) >= MIN_LENGTH:
        _counts[secret] += 1
        _state.clear()


def release(secret: str) -> None:
    """Balance one :func:`register`; the last release stops masking *secret*."""
    if _counts.get(secret, 0) > 0:
        _counts[secret] -= 1
        if not _counts[secret]:
            del _counts[secret]
            _state.clear()


def registered() -> int:
    """How many distinct secrets are masked now (for tests and diagnostics)."""
    return len(_counts)


def scrub(text: str) -> str:
    """*text* with every registered secret masked."""
    pattern = _pattern()
    if pattern is None:
        return text
    return pattern.sub(MASK, text)


def clip(text: str, limit: int) -> str:
    """*text* scrubbed, then cut to *limit* characters (in that order)."""
    return scrub(text)[:limit]


class RedactingFilter(logging.Filter):
    """Mask registered secrets in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _counts:
            message = record.getMessage()
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


logging.getLogger("aioqiscus").addFilter(RedactingFilter())
