"""What payload fields must hold: the checks both payload builders share.

The payload classes (:mod:`aioqiscus.payloads`) run them at construction;
the wire reader (``dialects/_payloads.py``) runs them before it builds a
payload without its validators. Strictly private.
"""

from __future__ import annotations

#: The HTTP methods a postback button may call.
METHODS = frozenset({"get", "post", "put", "patch", "delete"})
_SCHEMES = ("https://", "http://")


def is_http_url(value: str) -> bool:
    r"""Whether *value* is an http(s) URL with a host and no whitespace.

    The test ``re.fullmatch(r"https?://[^/?#\s]+(?:[/?#]\S*)?", value,
    re.IGNORECASE)`` made, in string methods (``\s`` and :meth:`str.isspace`
    share one notion of whitespace): parsing a page checks every button's
    URL, and the regex cost a microsecond each. Unlike the regex, it does
    not take U+017F (long s) for an ``s`` in the scheme.
    """
    if value.startswith(_SCHEMES):  # one call for the usual URL
        host = 8 if value[4] == "s" else 7
    else:
        scheme = value[:8].lower()
        if scheme == "https://":
            host = 8
        elif scheme.startswith("http://"):
            host = 7
        else:
            return False
    if len(value) == host or value[host] in "/?#":
        return False
    # Every whitespace character but the space is unprintable: two scans in
    # C settle the usual URL; an unprintable one is split to be sure.
    if " " in value:
        return False
    return value.isprintable() or value.split() == [value]
