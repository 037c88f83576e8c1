"""Reading PDFs in tests the way a person or a search tool would: text via poppler and pypdf."""

from __future__ import annotations

import io
import re
import subprocess

from pypdf import PdfReader


def pdftotext(data: bytes) -> str:
    """What a reader can select and search (poppler's pdftotext, reading order kept)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def pdftotext_layout(data: bytes) -> str:
    """The page as laid out (columns side by side): a label and its value on one line."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def word_lefts(data: bytes) -> dict[str, list[float]]:
    """Where each word starts on the page, in points from the left edge (poppler's
    `pdftotext -bbox`): to check that columns line up."""
    result = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    lefts: dict[str, list[float]] = {}
    for x_min, word in re.findall(
        r'<word xMin="([\d.]+)"[^>]*>([^<]*)</word>', result.stdout.decode()
    ):
        lefts.setdefault(word, []).append(float(x_min))
    return lefts


def pypdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def squeeze(text: str) -> str:
    """Text without whitespace: extraction may put line breaks inside long Chinese runs."""
    return re.sub(r"\s+", "", text)


def embedded_fonts(data: bytes) -> list[str]:
    """BaseFont names of every font the pages use, e.g. ['ABCDEF+PRIME-PRO-Sans-SC']."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/"))
    return sorted(names)


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def string_bytes(value: object) -> bytes:
    """The bytes of a PDF string as written in the file.

    pypdf decodes a string whose bytes start like a byte-order mark as UTF-16 or UTF-8 text, so a
    random file identifier beginning FE FF reads as 7 characters; its written bytes are still 16.
    """
    return bytes(value.original_bytes)  # type: ignore[attr-defined]
