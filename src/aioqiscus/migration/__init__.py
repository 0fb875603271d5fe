"""Moving an app: from one Qiscus app or dialect to another.

- :func:`copy_app` copies users, rooms and comments from one client's app
  to another's, resumable from an SQLite checkpoint, and verifies the copy;
  it returns a :class:`MigrationReport`.
- :func:`plan_import` checks import records against every rule of the
  "Data Backup and Import" documents and packs them into files the server
  accepts (at most 4 MB each), users before rooms before comments.
- :func:`compare_dialects` reads the same users and rooms through a v2 and a
  v2.1 client and lists where the normalised models differ, so migration
  code can verify before it switches.
"""

from __future__ import annotations

from ._checkpoint import CheckpointError, MigrationError
from ._compare import DialectComparison, Difference, compare_dialects
from ._copy import copy_app
from ._imports import (
    IMPORT_LIMIT,
    ImportChunk,
    ImportComment,
    ImportPlanError,
    ImportProblem,
    ImportRecord,
    ImportRoom,
    ImportUser,
    plan_import,
)
from ._progress import MigrationHooks, MigrationProgress, ProgressCallback
from ._report import Failure, KindCounts, MigrationReport, NotCarried, Problem

__all__ = [
    "IMPORT_LIMIT",
    "CheckpointError",
    "DialectComparison",
    "Difference",
    "Failure",
    "ImportChunk",
    "ImportComment",
    "ImportPlanError",
    "ImportProblem",
    "ImportRecord",
    "ImportRoom",
    "ImportUser",
    "KindCounts",
    "MigrationError",
    "MigrationHooks",
    "MigrationProgress",
    "MigrationReport",
    "NotCarried",
    "Problem",
    "ProgressCallback",
    "compare_dialects",
    "copy_app",
    "plan_import",
]
