"""The error raised when an instrument, text pack or schedule file is broken."""

from __future__ import annotations

from pathlib import Path


class DefinitionError(RuntimeError):
    """A data file is invalid; the message names the file and the fault, so start-up stops."""

    def __init__(self, path: Path, fault: str) -> None:
        super().__init__(f"{path}: {fault}")
        self.path = path
        self.fault = fault
