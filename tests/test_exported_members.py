"""The public surface: ``__all__`` is sorted and complete."""

from __future__ import annotations

import aioqiscus


def test_all_sorted():
    """__all__ is sorted."""
    assert aioqiscus.__all__ == sorted(aioqiscus.__all__)


def test_all_complete():
    """Every public name of the package is exported, and every export exists."""
    public = {
        name
        for name in dir(aioqiscus)
        if name.isidentifier() and not name.startswith("_")
    }
    # Sub-packages imported as a side effect and the __future__ flag.
    public -= {"annotations", "dialects", "testing"}
    assert public | {"__version__"} == set(aioqiscus.__all__)
    for name in aioqiscus.__all__:
        assert hasattr(aioqiscus, name)
