"""Where an export's files go: a folder, a zip archive, or one open binary stream.

Each file is written through `open(name)` as a stream, one at a time, so nothing is held whole
in memory: a zip member is compressed as it is written.
"""

from __future__ import annotations

import shutil
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pro_app import clock


class Target(ABC):
    """A place to write an export's named files."""

    @abstractmethod
    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A binary stream for one file; closed (and added) when the block ends."""

    def copy_file(self, name: str, source: Path) -> None:
        with self.open(name) as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, 1024 * 1024)

    def close(self) -> None:  # noqa: B027 (most targets have nothing to finish)
        """Finish the target (a zip writes its central directory)."""


class FolderTarget(Target):
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        with (self.folder / name).open("wb") as out:
            yield out


class ZipTarget(Target):
    def __init__(self, file: Path | IO[bytes]) -> None:
        self.archive = zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED)

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        now = clock.utcnow()
        info = zipfile.ZipInfo(name, (now.year, now.month, now.day, now.hour, now.minute, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with self.archive.open(info, "w", force_zip64=True) as out:
            yield out

    def close(self) -> None:
        self.archive.close()


class StreamTarget(Target):
    """A single-file export (ODM) written straight into an open stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        yield self.stream


def target_for(path: Path) -> Target:
    """A zip for a path ending in .zip, otherwise a folder."""
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        return ZipTarget(path)
    return FolderTarget(path)
