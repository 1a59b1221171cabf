"""Typed errors of the engine.

Core code raises these; exactly one edge per entry point (the CLI here, the HTTP app later) turns
them into exit codes or responses. Messages name the field and the value.
"""

from __future__ import annotations

__all__ = [
    "RiskEngineError",
    "InputUnreadable",
    "OutputUnwritable",
    "MappingError",
    "ConfigError",
    "ContractViolation",
    "ModelUnavailable",
    "StoreUnavailable",
    "exit_code_for",
]


class RiskEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1


class InputUnreadable(RiskEngineError):
    """A file could not be read at all: wrong delimiter, encoding, empty, unknown extension."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class OutputUnwritable(RiskEngineError):
    """An output file could not be written (a folder that cannot be made, no permission, a full
    disk); names the file and the problem."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"cannot write {path}: {problem}")
        self.path = path
        self.problem = problem


class MappingError(RiskEngineError):
    """A column mapping is invalid, or leaves a required contract field unmapped."""

    exit_code = 2


class ConfigError(RiskEngineError):
    """A configuration file or setting is invalid; names the file, the field and the problem."""

    exit_code = 2


class ContractViolation(RiskEngineError):
    """One record breaks the data contract; names the field, the value and the rule."""

    exit_code = 3

    def __init__(self, field: str, value: object, rule: str, message: str = "") -> None:
        text = message or f"{field}={value!r} breaks rule {rule}"
        super().__init__(text)
        self.field = field
        self.value = value
        self.rule = rule


class ModelUnavailable(RiskEngineError):
    """No model could be loaded (none registered, alias missing, store unreachable)."""

    exit_code = 4


class StoreUnavailable(RiskEngineError):
    """The outcome, audit and key database could not be reached or opened (server down, wrong
    host, port or password, driver missing); names the database, never its password."""

    exit_code = 5

    def __init__(self, database: str, problem: str) -> None:
        super().__init__(f"database {database}: {problem}")
        self.database = database
        self.problem = problem


def exit_code_for(error: BaseException) -> int:
    """Exit code of the CLI for an error: the one place where errors become codes."""
    if isinstance(error, RiskEngineError):
        return error.exit_code
    return 1
