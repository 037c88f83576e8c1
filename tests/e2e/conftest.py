"""A live server on a committed SQLite database and Debian's Chromium driven by Playwright.

Browser tests run once (not per database backend): they check what a person sees and does.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Iterator
from itertools import pairwise, takewhile
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from pro_app import create_app
from pro_app.config import REPO_ROOT
from pro_app.extensions import db
from pro_app.web.ratelimits import limiter_of
from tests.conftest import make_settings
from tests.factories import issue_token, make_participant

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {"width": 360, "height": 740}
SCREENS = REPO_ROOT / "test-artifacts" / "screens"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{instance / 'e2e.sqlite3'}"
    app = create_app({"TESTING": True}, settings=make_settings(url, Path(instance)))
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Each browser test starts with no rate-limit counts (one address serves them all)."""
    for name in ("live_app", "long_app"):
        if name in request.fixturenames:
            limiter_of(request.getfixturevalue(name)).reset()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live_app.config["PRO_SETTINGS"] = dataclasses.replace(
        live_app.config["PRO_SETTINGS"], base_url=f"http://127.0.0.1:{server.port}"
    )
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A small phone: 360x740 CSS pixels, touch, no stored cookies."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def participant_link(
    app: Flask, study_id: str, language: str = "zh_Hans", visit: str = "baseline"
) -> str:
    """Enrol a participant in the live database (committed) and return the path of a visit link."""
    with app.app_context():
        participant = make_participant(study_id, language=language)
        token = issue_token(participant, visit)
        db.session.commit()
    return f"/s/{token}"


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page under test-artifacts/screens/ for a person to look at. The window is
    made as tall as the page for it: Playwright's full-page screenshot lays the page out again at
    the browser's usual text size (a test's large-text setting is dropped until the next page)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    size = page.viewport_size
    if size is None:  # a window without a set size: no setting of ours to keep
        page.screenshot(path=str(path), full_page=True)
        return path
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


# Chinese typography never starts a line with these (nor English with the Latin ones).
CLOSING_PUNCTUATION = "）)：:。，,、；;！!？?」』》"


# Each element's text as the lines it shows: a character starts a line when it sits below the one
# before it. A line is [its text (a run of spaces as one space), whether it is "joined": it goes on
# from the line before in the same text, with no space between (a break inside a word or phrase)].
_TEXT_LINES = """(selector) => [...document.querySelectorAll(selector)].map((root) => {
  const lines = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let previous = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let joined = false;
    for (let i = 0; i < node.data.length; i++) {
      if (/\\s/.test(node.data[i])) {
        if (lines.length && !lines.at(-1)[0].endsWith(' ')) lines.at(-1)[0] += ' ';
        joined = false;
        continue;
      }
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (!previous || box.top >= previous.bottom - 1) lines.push(['', joined]);
      lines.at(-1)[0] += node.data[i];
      previous = box;
      joined = true;
    }
    if (lines.length && !lines.at(-1)[0].endsWith(' ')) lines.at(-1)[0] += ' ';
  }
  return [root.textContent.trim(), lines.map(([text, joined]) => [text.trim(), joined])];
})"""

Line = tuple[str, bool]  # its text, and whether a break inside a word or phrase starts it


def text_lines(page: Page, selector: str) -> list[tuple[str, list[Line]]]:
    """Each element that `selector` matches, as its text and the lines it shows (none if hidden)."""
    return [
        (text, [(line, joined) for line, joined in lines])
        for text, lines in page.evaluate(_TEXT_LINES, selector)
    ]


def line_counts(page: Page, selector: str) -> list[tuple[str, int]]:
    """Each element that `selector` matches, as its text and the number of lines it takes."""
    return [(text, len(lines)) for text, lines in text_lines(page, selector)]


def _latin(character: str) -> bool:
    return character.isascii() and character.isalnum()


def line_starts(page: Page) -> list[tuple[str, str, str]]:
    """Each line in <main> after its first, as (the Latin word the line before ends with, if the
    break falls inside it; the line's first few characters; the Latin word the line starts with).
    A word on both sides is a word cut in two."""
    [(_text, lines)] = text_lines(page, "main")
    starts = []
    for (above, _joined), (line, joined) in pairwise(lines):
        before = "".join(takewhile(_latin, reversed(above)))[::-1] if joined else ""
        starts.append((before, line[:8], "".join(takewhile(_latin, line))))
    return starts


# A phone's browser hyphenates an English word this long or longer at a syllable when it is wider
# than the line (`hyphens: auto`, `hyphenate-limit-chars: 12`); Debian's Chromium (the tests'),
# without a dictionary, breaks it where the line ends, with a following comma on the next line.
HYPHENATED = 12


def lines_starting_with_closing_punctuation(page: Page) -> list[str]:
    """Each line in <main> that starts with a closing mark, as its first few characters (except a
    mark left by a word that a phone would hyphenate)."""
    return [
        start
        for before, start, _after in line_starts(page)
        if start[0] in CLOSING_PUNCTUATION and len(before) < HYPHENATED
    ]


def words_cut_in_two(page: Page, shorter_than: int = HYPHENATED) -> list[str]:
    """Each Latin word in <main> shorter than `shorter_than` letters that a line break cuts in two
    (a word wider than its line: a longer one is hyphenated on a phone)."""
    return [
        before + after
        for before, _start, after in line_starts(page)
        if before and after and len(before + after) < shorter_than
    ]


_BLOCKS = "main p, main h1, main h2, main li, main dd, main .button, main label"


def lone_last_lines(page: Page) -> list[str]:
    """Each paragraph, heading or button in <main> whose last line holds one Chinese character
    (alone or with its closing mark), as its last two lines: "...喜欢的事 / 情？"."""
    found = []
    for _text, lines in text_lines(page, _BLOCKS):
        if len(lines) < 2:
            continue
        ending = [c for c in lines[-1][0] if c != " " and c not in CLOSING_PUNCTUATION]
        if len(ending) == 1 and "\u3400" <= ending[0] <= "\u9fff":
            found.append(f"{lines[-2][0][-4:]} / {lines[-1][0]}")
    return found
