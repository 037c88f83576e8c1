"""Plain record data -> PDF/A-3b bytes with WeasyPrint, from project assets only, failing loudly.

A `Renderer` is built once per worker: it holds one font configuration and the parsed stylesheet, so
memory stays flat and a render costs only layout. Any WeasyPrint warning or error (a missing glyph, an
unknown CSS property, a refused asset) makes the render fail instead of printing boxes, and so does a
font other than the project's face and its system fallback.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from pro_app.languages import html_lang
from pro_app.pdf import fonts
from pro_app.pdf.document import Line, RecordDocument
from pro_app.pdf.labels import labels

TEMPLATE = "pdf/record.html"
STYLESHEET = fonts.ASSETS_DIR / "record.css"
# PDF/A-3b: archival, every font embedded, and (unlike PDF/A-2) it may carry the record's JSON as
# an associated file. See docs/pdf-signing.md for why the signed file stays PDF/A.
PDF_VARIANT = "pdf/a-3b"
OUTPUT_INTENT = "prime-pro-srgb"
ALLOWED_FONT_FAMILIES = frozenset({fonts.FAMILY, fonts.SYSTEM_FAMILY})
_PLACEHOLDER = re.compile(r"(%\(pages?\)s)")


class RenderError(RuntimeError):
    """The PDF could not be rendered faithfully; the message says why."""


class AssetRefused(RenderError):
    """The document asked for a resource outside the PDF asset folder."""


class _Capture(logging.Handler):
    """Collects WeasyPrint's warnings per thread: that logger is its only report of missing glyphs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        bucket = getattr(self._local, "records", None)
        if bucket is not None:
            bucket.append(record)

    @contextmanager
    def collecting(self) -> Iterator[list[logging.LogRecord]]:
        records: list[logging.LogRecord] = []
        self._local.records = records
        try:
            yield records
        finally:
            self._local.records = None


_CAPTURE = _Capture()
_weasyprint_logger = logging.getLogger("weasyprint")
if not any(isinstance(handler, _Capture) for handler in _weasyprint_logger.handlers):
    _weasyprint_logger.addHandler(_CAPTURE)


class LocalAssetFetcher(URLFetcher):
    """Serves files under one folder and refuses everything else (network, data:, other paths)."""

    def __init__(self, root: Path) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols=("file",))
        self.root = root.resolve()

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise AssetRefused(f"refused {url!r}: PDFs use local project assets only")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise AssetRefused(f"refused {url!r}: outside the PDF asset folder {self.root}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})


class Renderer:
    """One per worker: a warm font configuration, the parsed stylesheet, the asset fetcher."""

    def __init__(self, asset_dir: Path = fonts.ASSETS_DIR) -> None:
        fonts.ensure()
        self.asset_dir = asset_dir.resolve()
        self.base_url = self.asset_dir.as_uri() + "/"
        self.fetcher = LocalAssetFetcher(self.asset_dir)
        self.font_config = FontConfiguration()
        # PDF/A needs an output intent. WeasyPrint's own 'srgb' opens its ICC file on every render
        # and never closes it; one profile read once serves every render of this worker.
        icc = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
        self.color_profiles = {
            OUTPUT_INTENT: ColorProfile(
                io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
            )
        }
        with _CAPTURE.collecting() as problems:
            self.stylesheet = CSS(
                filename=str(STYLESHEET), font_config=self.font_config, url_fetcher=self.fetcher
            )
        _raise_on(problems)

    def html(self, doc: RecordDocument) -> str:
        """The document's HTML, from the Jinja template, in the record's language."""
        template = current_app.jinja_env.get_template(TEMPLATE)
        with force_locale(doc.language):
            words = labels(doc.language)
            demo = " · ".join(filter(None, (words["demo"].text, words["demo"].en)))
            return template.render(
                doc=doc,
                t=words,
                html_lang=html_lang(doc.language),
                # css_string escapes all but letters, digits and a few punctuation marks, so these
                # can neither end the CSS string nor the <style> element.
                page_label=Markup(page_counter_css(words["page"])),  # noqa: S704
                demo_label=Markup(css_string(demo)),  # noqa: S704
                head_label=Markup(css_string(running_head(doc))),  # noqa: S704
                foot_label=Markup(css_string(running_foot(doc, words["record_hash"]))),  # noqa: S704
            )

    def render(self, doc: RecordDocument) -> bytes:
        """PDF/A-3b bytes of the record, with its canonical JSON attached as record.json."""
        attachment = Attachment(
            file_obj=io.BytesIO(doc.record_json),
            url_fetcher=self.fetcher,
            name="record.json",
            description=f"Sealed record {doc.record_sha256} (canonical JSON; its SHA-256 is the "
            "record hash)",
            created=doc.submitted_at,
            modified=doc.submitted_at,
            relationship="Data",
        )
        return self.pdf_from_html(self.html(doc), attachments=[attachment])

    def pdf_from_html(self, html: str, attachments: list[Attachment] | None = None) -> bytes:
        with _CAPTURE.collecting() as problems, _refusals_as_errors():
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                font_config=self.font_config,
                color_profiles=self.color_profiles,
                stylesheets=[self.stylesheet],
                pdf_variant=PDF_VARIANT,
                output_intent=OUTPUT_INTENT,
            )
            data = document.write_pdf(
                pdf_variant=PDF_VARIANT,
                output_intent=OUTPUT_INTENT,
                # PDF/A needs a file ID in the trailer: the signature's revision (pyHanko) writes
                # one. WeasyPrint's own would hash every object, compressing every stream twice.
                pdf_identifier=False,
                attachments=attachments or [],
                finisher=_drop_info_producer,
            )
        _raise_on(problems)
        used = {font.family for font in document.fonts.values()}
        unexpected = used - ALLOWED_FONT_FAMILIES
        if unexpected:
            raise RenderError(
                f"text fell back to font(s) {sorted(unexpected)}: a character is missing from "
                f"{fonts.FAMILY} and {fonts.SYSTEM_FAMILY}"
            )
        return bytes(data)

    def warm_up(self) -> None:
        """Load the fonts and lay out a little text once, so the first record is not slow."""
        self.pdf_from_html(
            '<html lang="zh-Hans"><body><p>PRIME-PRO 总分 躯体维度 情绪维度 0123456789</p></body></html>'
        )


@contextmanager
def _refusals_as_errors() -> Iterator[None]:
    try:
        yield
    except FatalURLFetchingError as exc:
        raise AssetRefused(str(exc.__cause__ or exc)) from exc


def _drop_info_producer(document: object, pdf: object) -> None:
    """PDF/A requires Info and XMP metadata to agree. Signing sets XMP's Producer to pyHanko's name
    but appends that name to an existing Info Producer; with none there, it writes the same value
    to both, and the signed file stays PDF/A."""
    info = getattr(pdf, "info", None)
    if info is not None:
        info.pop("Producer", None)


def _raise_on(problems: list[logging.LogRecord]) -> None:
    if problems:
        messages = "; ".join(sorted({record.getMessage() for record in problems}))
        raise RenderError(f"WeasyPrint reported: {messages}")


def running_head(doc: RecordDocument) -> str:
    """Top right of every page: whose record, which visit, which instrument and version."""
    return (
        f"{doc.study_id} · {doc.visit_name.text} · {doc.instrument_id.upper()} "
        f"v{doc.record_version}"
    )


def running_foot(doc: RecordDocument, record_hash: Line) -> str:
    """Bottom left of every page: the record hash (in English: it is read by tools and monitors)."""
    return f"{record_hash.en or record_hash.text} {doc.record_sha256} · {doc.template_version}"


def page_counter_css(label: Line) -> str:
    """'Page %(page)s of %(pages)s' in each language -> a CSS `content` value with page counters."""
    parts = [_counter_css(label.text)]
    if label.en:
        parts.append(_counter_css(label.en))
    return ' " · " '.join(parts)


def _counter_css(text: str) -> str:
    pieces = []
    for chunk in _PLACEHOLDER.split(text):
        if chunk in ("%(page)s", "%(pages)s"):
            pieces.append(f"counter({chunk[2:-2]})")
        elif chunk:
            pieces.append(css_string(chunk))
    return " ".join(pieces)


def css_string(text: str) -> str:
    """A quoted CSS string that cannot end the string, the rule or the <style> element."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;·()（），：" else f"\\{ord(ch):x} " for ch in text
    )
    return f'"{escaped}"'
