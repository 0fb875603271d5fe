from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import aioqiscus

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> Any:
    """The decoded sample file tests/samples/<name>.json."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _no_backoff():
    """Retries happen in tests, but without sleeping."""
    aioqiscus.set_testing(True)
    yield
    aioqiscus.set_testing(False)
