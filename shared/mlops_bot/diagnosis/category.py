"""`Category`: the coarse failure classes, in a module of its own so the classifier imports no pydantic."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Coarse failure classes; each maps to one family of remedies (add a dependency, re-run, ...).

    A `StrEnum` so that `problem.category == "timeout"` reads naturally and JSON carries the plain value.
    """

    DEPENDENCY_MISSING = "dependency_missing"
    DEPENDENCY_RESOLUTION = "dependency_resolution"
    TEST_FAILURE = "test_failure"
    FLAKY_TEST = "flaky_test"
    SYNTAX_ERROR = "syntax_error"
    LINT_FAILURE = "lint_failure"
    TIMEOUT = "timeout"
    NETWORK_TRANSIENT = "network_transient"
    OUT_OF_MEMORY = "out_of_memory"
    INFRASTRUCTURE = "infrastructure"
    DATA_MISSING = "data_missing"
    PERMISSION_DENIED = "permission_denied"
    UNKNOWN = "unknown"
