"""SAS transport v5 (.xpt) files written by pyreadstat, a chunk of rows at a time.

pyreadstat writes a whole DataFrame at once. To keep memory flat, each chunk of rows is written
by pyreadstat to a scratch file with the same variables, labels and lengths, and the files are
spliced: the first chunk's header, then every chunk's observation records. In a v5 file the
observations are fixed-width records after the header, padded with spaces to a multiple of 80
bytes only at the very end; a chunk of a multiple of 80 rows has no padding, so the splice is
byte for byte the file pyreadstat writes for all rows at once (a test holds it to that).

Character lengths are fixed in advance (the longest value, found while the rows were gathered):
the first row of each chunk is padded with spaces to that length, which is how pyreadstat takes
a length and how v5 stores the value anyway (space-padded), so nothing is changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

CHUNK_ROWS = 80 * 100
OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    numeric: bool


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _frame(
    chunk: Sequence[Mapping[str, Any]], variables: Sequence[Variable], lengths: Mapping[str, int]
) -> Any:
    import pandas as pd

    data: dict[str, Any] = {}
    for variable in variables:
        if variable.numeric:
            values = [row.get(variable.name) for row in chunk]
            data[variable.name] = pd.Series(
                [float("nan") if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            texts = [str(row.get(variable.name) or "") for row in chunk]
            texts[0] = texts[0].ljust(lengths.get(variable.name, 1))
            data[variable.name] = pd.Series(texts, dtype=object)
    return pd.DataFrame(data)


def _pyreadstat_bytes(
    frame: Any, scratch: Path, name: str, label: str, variables: Sequence[Variable]
) -> bytes:
    import pyreadstat

    pyreadstat.write_xport(
        frame,
        str(scratch),
        file_format_version=5,
        table_name=name,
        file_label=label,
        column_labels=[v.label for v in variables],
    )
    return scratch.read_bytes()


def row_length(variables: Sequence[Variable], lengths: Mapping[str, int]) -> int:
    return sum(8 if v.numeric else max(lengths.get(v.name, 1), 1) for v in variables)


def write(
    out: IO[bytes],
    *,
    name: str,
    label: str,
    variables: Sequence[Variable],
    lengths: Mapping[str, int],
    rows: Iterable[Mapping[str, Any]],
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write the dataset `name` to `out`; returns the number of rows. `chunk_rows` must be a
    multiple of 80 so that no chunk but the last has padding."""
    if chunk_rows % 80:
        raise ValueError("chunk_rows must be a multiple of 80")
    width = row_length(variables, lengths)
    count = 0
    with tempfile.TemporaryDirectory(prefix="prime-xpt-") as folder:
        scratch = Path(folder) / f"{name.lower()}.xpt"
        pending: bytes | None = None
        for index, chunk in enumerate(_chunks(rows, chunk_rows)):
            data = _pyreadstat_bytes(
                _frame(chunk, variables, lengths), scratch, name, label, variables
            )
            start = data.index(OBS_HEADER) + 80
            if pending is not None:
                out.write(pending)
            if index == 0:
                out.write(data[:start])
            observations = data[start:]
            if len(chunk) == chunk_rows and len(observations) != len(chunk) * width:
                raise AssertionError("a full chunk must end without padding")
            # Held back one chunk: only the last one keeps the closing padding.
            pending = observations
            count += len(chunk)
        if pending is None:
            # No rows: pyreadstat's file for an empty frame of these variables.
            frame = _empty_frame(variables)
            out.write(_pyreadstat_bytes(frame, scratch, name, label, variables))
        else:
            out.write(pending)
    return count


def _empty_frame(variables: Sequence[Variable]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {v.name: pd.Series([], dtype="float64" if v.numeric else object) for v in variables}
    )
