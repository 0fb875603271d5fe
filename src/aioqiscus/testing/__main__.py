"""``python -m aioqiscus.testing --port 8080 --dialects v2,v2.1``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._fake import DIALECTS, FakeQiscus


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a fake Qiscus app on loopback until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m aioqiscus.testing",
        description="Serve a fake Qiscus app (both REST dialects) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--dialects", default=",".join(DIALECTS))
    parser.add_argument("--app-id", default="fake-app")
    parser.add_argument("--secret-key", default="fake-secret")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID",
        help="register a user up front (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        fake = FakeQiscus(
            app_id=args.app_id,
            secret_key=args.secret_key,
            dialects=[d.strip() for d in args.dialects.split(",") if d.strip()],
        )
    except ValueError as exc:
        parser.error(str(exc))
    for user in args.user:
        fake.add_user(user)
    import uvicorn  # noqa: PLC0415 - optional dependency

    sys.stdout.write(
        f"fake Qiscus app {args.app_id!r} serving {sorted(fake.dialects)} on "
        f"http://{args.host}:{args.port}\n"
    )
    sys.stdout.flush()
    uvicorn.run(fake, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
