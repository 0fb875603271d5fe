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
    # Sub-packages imported as a side effect (or by other tests: the
    # Omnichannel package is imported on its own) and the __future__ flag.
    public -= {"annotations", "dialects", "omnichannel", "testing"}
    assert public | {"__version__"} == set(aioqiscus.__all__)
    for name in aioqiscus.__all__:
        assert hasattr(aioqiscus, name)


def test_omnichannel_all_sorted_and_complete():
    """aioqiscus.omnichannel's __all__ names every public name (ruff sorts it)."""
    import aioqiscus.omnichannel as omni

    assert len(omni.__all__) == len(set(omni.__all__))
    public = {n for n in dir(omni) if n.isidentifier() and not n.startswith("_")}
    public -= {"annotations", "models"}
    assert public == set(omni.__all__)
