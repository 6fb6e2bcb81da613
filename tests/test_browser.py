"""The workbook in a real browser, as a student uses it: JupyterLab, Run All, and what shows.

Starts JupyterLab on 127.0.0.1 with the options `workbook.py lab` uses, over a copy of the
notebooks (so autosave never touches the repository), opens lessons in headless Chromium
(Debian's `chromium` package, driven by Playwright), runs every cell and checks what a
student must see. Screenshots land in tests/artifacts/ so a failure can be looked at.

Needs /usr/bin/chromium: `.ci/run` installs it. Elsewhere the test is skipped unless
WORKBOOK_REQUIRE_BROWSER=1, which CI sets so that a missing browser fails instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import nbformat
import pytest

from helpers.checks.verdicts import VERDICT_MIME, Verdict
from instructor.feedback import write_feedback
from instructor.grade_report import write_html
from instructor.grades import Row, Stop
from instructor.grading import shipped_lessons
from instructor.site import FRONT_PAGE, build_site
from workbook import lab_options, slides_url
from workbook_base.environment import with_test_environment
from workbook_base.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
RUN_ALL_TIMEOUT_S = 120

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    if os.environ.get("WORKBOOK_REQUIRE_BROWSER") == "1":
        raise RuntimeError("the browser test needs Debian's chromium package: apt-get install chromium")
    pytest.skip("no /usr/bin/chromium (apt-get install chromium) to drive JupyterLab", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    root: Path  # the copy of the notebooks it serves


@contextmanager
def jupyterlab(root: Path, stream_speed: str) -> Iterator[Server]:
    """JupyterLab serving `root`, its kernels replaying streams at `stream_speed` (0: at once, 1: as recorded)."""
    port, token = free_port(), secrets.token_hex(16)
    env = with_test_environment(
        WORKBOOK_STREAM_SPEED=stream_speed,
        WORKBOOK_LIVE_DISPLAY="auto",  # widgets, as a student sees them (stored outputs use plain text)
        JUPYTER_CONFIG_DIR=str(root / ".jupyter"),
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        *lab_options(root),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log_path = root / f"jupyterlab-{port}.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not start listening within 60 s")
        yield Server(base, token, root)
    finally:
        stop_process(server, grace_s=20)
        log.close()


@pytest.fixture(scope="module")
def workbook_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of notebooks/ and solutions/, so autosave never touches the repository."""
    root = tmp_path_factory.mktemp("workbook")
    for folder in ("notebooks", "solutions"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


@pytest.fixture(scope="module")
def lab(workbook_copy: Path) -> Iterator[Server]:
    """JupyterLab whose replays arrive at once: for every lesson that has nothing to watch arrive."""
    with jupyterlab(workbook_copy, stream_speed="0") as server:
        yield server


@pytest.fixture(scope="module")
def paced_lab(workbook_copy: Path) -> Iterator[Server]:
    """JupyterLab replaying streams at their recorded pace (lecture mode): only for what must be seen growing."""
    with jupyterlab(workbook_copy, stream_speed="1") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


class Lesson:
    """One notebook open in JupyterLab."""

    def __init__(self, page: object, path: str, copy_root: Path) -> None:
        self.page, self.path, self.file = page, path, copy_root / path

    def open(self, server: Server) -> None:
        # A workspace of its own, reset, so no tab from another test is restored beside it.
        workspace = Path(self.path).stem.replace("_", "-")
        self.page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{self.path}?token={server.token}&reset")
        self.page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
        self.page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=60_000)
        news = self.page.get_by_role("button", name="No", exact=True)  # JupyterLab's news prompt
        if news.count():
            news.first.click()

    def run_all(self) -> None:
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    def wait_until_done(self) -> None:
        """Run All is done when every code cell has a number and none shows [*]."""
        deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
        while time.monotonic() < deadline:
            prompts = self.page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
            if prompts and all(any(ch.isdigit() for ch in text) for text in prompts):
                return
            time.sleep(0.5)
        self.screenshot("timeout")
        pytest.fail(f"{self.path}: Run All did not finish within {RUN_ALL_TIMEOUT_S} s")

    def saved_notebook(self) -> dict:
        """Save from the browser, then read what JupyterLab wrote."""
        before = self.file.stat().st_mtime_ns
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while self.file.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.2)
        return json.loads(self.file.read_text())

    def output_texts(self) -> str:
        return "\n".join(self.page.locator(".jp-OutputArea-output").all_text_contents())

    def screenshot(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{Path(self.path).stem}-{label}.png"
        self.page.screenshot(path=str(target), full_page=False)
        return target


def errors_outside_raising_cells(notebook: dict) -> list[str]:
    problems = []
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                problems.append(f"cell {number}: {output['ename']}: {output['evalue'][:200]}")
    return problems


@pytest.fixture
def open_lesson(request: pytest.FixtureRequest, browser) -> Iterator[object]:
    pages = []

    def opener(path: str) -> Lesson:
        # Only a lesson with something to watch while it runs waits for streams at their recorded pace.
        server = request.getfixturevalue("paced_lab" if Path(path).stem in WHILE_RUNNING else "lab")
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        pages.append(page)
        lesson = Lesson(page, path, server.root)
        lesson.open(server)
        return lesson

    yield opener
    for page in pages:
        page.context.close()


def lessons_in(folder: str) -> list[str]:
    return sorted(f"{folder}/{path.name}" for path in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def expect_a_plot(lesson: Lesson, label: str) -> None:
    plots = lesson.page.locator(".jp-OutputArea-output img")
    assert plots.count() >= 1, f"{lesson.path}: no plot image in the outputs"
    plots.first.scroll_into_view_if_needed()
    width = plots.first.evaluate("img => img.naturalWidth")
    lesson.screenshot(label)
    assert width > 300, f"{lesson.path}: the plot image is {width} px wide: did it render?"


def expect_the_agent_plots(lesson: Lesson) -> None:
    """Lesson 06 plots the run's input tokens, then the whole history against the summarized one."""
    expect_a_plot(lesson, "agent-token-growth")
    plots = lesson.page.locator(".jp-OutputArea-output img").count()
    assert plots >= 2, f"{lesson.path}: {plots} plot(s); expected the token growth and the comparison"


def expect_the_live_display_to_grow(lesson: Lesson) -> None:
    """While Run All is going: lesson 04's box fills step by step as the stream is replayed at recorded pace."""
    box = lesson.page.locator(".workbook-live-text").first
    box.wait_for(timeout=90_000)
    box.scroll_into_view_if_needed()
    lengths: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lengths.append(len(box.text_content() or ""))
        if len(set(lengths)) >= 3 and lengths[-1] > 200:
            break
        time.sleep(0.2)
    lesson.screenshot("live-display")
    growth = sorted(set(lengths))
    assert len(growth) >= 3, f"the live display did not grow in steps while streaming: {growth[:10]}"
    assert lengths == sorted(lengths), "the live display's text should only grow"


def expect_live_display_full(lesson: Lesson) -> None:
    text = lesson.page.locator(".workbook-live-text").first.text_content() or ""
    assert len(text) > 200, "the finished live display should hold the whole reply"


def expect_verdicts_saved_but_not_shown(lesson: Lesson, notebook: dict) -> None:
    """Each check publishes a verdict for programs; JupyterLab keeps it on save and shows nothing of it."""
    verdicts = [
        output["data"][VERDICT_MIME]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "display_data" and VERDICT_MIME in output.get("data", {})
    ]
    assert verdicts, f"{lesson.path}: no machine-readable verdict in the saved notebook"
    assert all(verdict["passed"] is False for verdict in verdicts), "a student edition's checks should not pass"
    shown = lesson.output_texts()
    assert VERDICT_MIME not in shown and "renderer" not in shown.lower(), f"{lesson.path}: the verdict shows"
    for verdict in verdicts:
        assert shown.count(verdict["hint"]) == 1, (
            f"{lesson.path}: the hint of exercise {verdict['exercise']} shows twice"
        )
    total = len({verdict["exercise"] for verdict in verdicts})
    assert f"0 of {total} exercise" in shown, f"{lesson.path}: no progress line at the end"


# What a student must see in particular lessons, besides what every lesson must show.
WHILE_RUNNING = {"04_streaming": expect_the_live_display_to_grow}
AFTER_RUN_ALL = {
    "03_statelessness": lambda lesson: expect_a_plot(lesson, "token-growth-plot"),
    "04_streaming": expect_live_display_full,
    "05_errors_and_retries": lambda lesson: expect_a_plot(lesson, "retry-timeline"),
    "06_agent_loop": expect_the_agent_plots,
    "07_many_calls": lambda lesson: expect_a_plot(lesson, "calls-timeline"),
}


def test_the_lessons_with_special_checks_exist():
    stems = {Path(path).stem for path in lessons_in("notebooks")}
    missing = (WHILE_RUNNING.keys() | AFTER_RUN_ALL.keys()) - stems
    assert not missing, f"renamed or removed lessons still have browser checks: {sorted(missing)}"


@pytest.mark.release  # every lesson again, after nbval ran it
@pytest.mark.parametrize("path", lessons_in("notebooks"), ids=lambda p: Path(p).stem)
def test_a_student_runs_all_cells_and_sees_what_the_lesson_shows(open_lesson, path):
    stem = Path(path).stem
    lesson = open_lesson(path)
    lesson.run_all()
    if stem in WHILE_RUNNING:
        WHILE_RUNNING[stem](lesson)
    lesson.wait_until_done()
    lesson.screenshot("after-run-all")
    saved = lesson.saved_notebook()
    problems = errors_outside_raising_cells(saved)
    assert not problems, f"{path}: error output in cells not meant to raise:\n" + "\n".join(problems)
    assert "Not yet" in lesson.output_texts(), f"{path}: no exercise feedback visible"
    expect_verdicts_saved_but_not_shown(lesson, saved)
    if stem in AFTER_RUN_ALL:
        AFTER_RUN_ALL[stem](lesson)


def test_the_grades_page_shows_a_table_per_lesson_with_marks_hints_and_totals(browser, tmp_path):
    lessons = shipped_lessons()
    first = lessons["01"]

    def row(name: str, passed: set[int], note: str = "") -> Row:
        verdicts = [
            Verdict(
                "01", e.number, e.title, e.number in passed, "fine" if e.number in passed else f"<b>fix {e.number}</b>"
            )
            for e in first.exercises
        ]
        return Row(name, first, note, True, verdicts, 3.0)

    rows = [
        row("alice/01.ipynb", {1, 2, 3}),
        row("bob/01.ipynb", {1}, note="code cell 4 raised NameError: name 'x' is not defined"),
        Row("carol/01.ipynb", None, "not graded: not a notebook that can be read (Expecting value)"),
    ]
    page_file = write_html(rows, tmp_path / "grades.html")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        page.goto(page_file.as_uri())
        table = page.locator('table.grades[data-lesson="01"]')
        headers = table.locator("thead th").all_text_contents()
        assert headers == ["Notebook", *[e.label for e in first.exercises], "Passed", "Note"]
        body = table.locator("tbody tr")
        assert body.count() == 2
        assert body.nth(0).locator("td.verdict").all_text_contents() == ["✅", "✅", "✅"]
        assert body.nth(1).locator("td.verdict").all_text_contents() == ["✅", "❌", "❌"]
        assert body.nth(1).locator("td.verdict").nth(1).get_attribute("title") == "<b>fix 2</b>"  # escaped, as text
        assert "raised NameError" in body.nth(1).locator("td.note").inner_text()
        assert table.locator("tfoot td").all_text_contents()[1:5] == ["2 of 2", "1 of 2", "1 of 2", "1 of 2 complete"]
        skipped = page.locator("table.not-graded tbody tr")
        assert skipped.count() == 1 and "carol/01.ipynb" in skipped.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "grades-page.png"), full_page=True)
    finally:
        page.context.close()


# --- slides: a lesson in RISE, a cell run from its slide ------------------------------------------------

SLIDES_LESSON = "02"


@pytest.fixture(scope="module")
def slides_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of notebooks/ whose slides lesson has no stored outputs, so an output that shows was just made."""
    root = tmp_path_factory.mktemp("slides")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    path = next((root / "notebooks").glob(f"{SLIDES_LESSON}_*.ipynb"))
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)
    return root


def test_a_lesson_opens_as_slides_and_a_cell_runs_from_its_slide(browser, slides_copy):
    notebook = nbformat.read(next((slides_copy / "notebooks").glob(f"{SLIDES_LESSON}_*.ipynb")), as_version=4)
    sections = sum(cell.metadata.get("slideshow", {}).get("slide_type") == "slide" for cell in notebook.cells)
    with jupyterlab(slides_copy, stream_speed="0") as server:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        try:
            page.goto(f"{server.url}{slides_url(SLIDES_LESSON, slides_copy)}?token={server.token}")
            current = page.locator(".reveal .slides > section.present")
            current.wait_for(timeout=90_000)
            assert page.locator(".reveal .slides > section").count() == sections, "not one slide per section"
            assert current.locator("h1").first.inner_text().startswith(SLIDES_LESSON), "the first slide is no title"
            # The title slide by its id, as it stays the same slide whatever RISE shows next.
            title = current.locator("section.present").first.get_attribute("id")
            cell = page.locator(f"section#{title} .jp-CodeCell").first
            assert cell.locator(".jp-OutputArea-output").count() == 0, "the copy should have no stored output"
            page.locator(".jp-Toolbar", has_text="Idle").first.wait_for(state="attached", timeout=90_000)  # kernel up
            output = cell.locator(".jp-OutputArea-output").first
            deadline = time.monotonic() + 90
            while not output.count() and time.monotonic() < deadline:
                if "*" not in cell.locator(".jp-InputPrompt").inner_text():  # not yet asked, or the keys were lost
                    cell.locator(".cm-content").click()
                    page.keyboard.press("Control+Enter")  # run it and stay on the slide (Shift+Enter moves on)
                time.sleep(5)
            assert output.count(), "the cell run from the slide showed no output within 90 s"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "slides-cell-run.png"))
            assert "Replaying" in output.inner_text(), f"the cell's output on the slide: {output.inner_text()[:200]}"
        finally:
            page.context.close()


# --- the reading edition: the site, opened from disk -----------------------------------------------------


def test_the_reading_edition_opens_from_disk_and_every_link_resolves(browser, tmp_path):
    """Every page reachable from the front page, every link to a page or a heading resolving, every image
    drawn. Links that leave the site (the API's docs) are not followed: the test runs offline."""
    site = tmp_path / "site"
    pages = build_site(site)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    ids: dict[str, set[str]] = {}
    wanted: dict[str, set[str]] = {}  # page -> the anchors links ask for in it
    broken: list[str] = []
    queue = [FRONT_PAGE]
    try:
        while queue:
            name = queue.pop(0)
            if name in ids:
                continue
            page.goto((site / name).as_uri())
            ids[name] = set(page.eval_on_selector_all("[id]", "elements => elements.map(e => e.id)"))
            widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
            assert all(width > 0 for width in widths), f"{name}: an image that does not draw"
            if name != FRONT_PAGE:
                note = page.locator(".run-note")
                assert note.count() == 1 and "workbook.py lab" in note.inner_text(), f"{name}: no note on running it"
            folds = page.locator("details.going-further")
            if folds.count():
                folds.first.locator("summary").click()
                assert folds.first.evaluate("fold => fold.open"), f"{name}: a going-further fold does not open"
            if page.locator("h3", has_text=re.compile(r"^Exercise \d")).count():
                assert page.locator("section.exercise .exercise-label").count() >= 1, f"{name}: exercises unmarked"
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                url, fragment = urldefrag(href)
                parsed = urlparse(url)
                if parsed.scheme in ("http", "https"):
                    continue
                target = Path(unquote(parsed.path))
                if parsed.scheme != "file" or target.parent != site or not target.is_file():
                    broken.append(f"{name}: {href}")
                    continue
                if target.suffix == ".html":
                    queue.append(target.name)
                if fragment:
                    wanted.setdefault(target.name, set()).add(fragment)
        page.screenshot(path=str(tmp_path / "last-page.png"))
    finally:
        page.context.close()
    assert not broken, "links to nothing:\n" + "\n".join(broken)
    assert sorted(ids) == sorted(pages), f"pages the links never reach: {sorted(set(pages) - set(ids))}"
    missing = [
        f"{name}#{fragment}"
        for name, fragments in wanted.items()
        for fragment in fragments
        if fragment not in ids[name] and unquote(fragment) not in ids[name]
    ]
    assert not missing, "links to headings that are not there:\n" + "\n".join(sorted(missing))
    assert b"solutions/" not in b"".join(path.read_bytes() for path in site.iterdir()), "the site points to solutions/"


# --- feedback pages, one per submission ------------------------------------------------------------------


def test_each_feedback_page_shows_its_own_marks_hints_stop_and_how_to_check_again(browser, tmp_path):
    first = shipped_lessons()["01"]

    def row(name: str, passed: set[int], stopped: Stop | None = None) -> Row:
        verdicts = [
            Verdict("01", e.number, e.title, e.number in passed, f"{name} hint {e.number}") for e in first.exercises
        ]
        return Row(name, first, "", True, verdicts, 1.0, stopped)

    rows = [
        row("alice/01.ipynb", {1, 2, 3}),
        row("bob/01.ipynb", {1}, Stop(4, "print(bobs_own_secret_code)", "raised NameError: name 'x' is not defined")),
        Row("carol/01.ipynb", None, "not a notebook that can be read (Expecting value)"),
    ]
    pages, _ = write_feedback(rows, tmp_path)
    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    try:
        for path, submission in zip(pages, rows, strict=True):
            page.goto(path.as_uri())
            text = page.locator("body").inner_text()
            others = [other.notebook for other in rows if other is not submission]
            assert not any(other in text for other in others), f"{path.name} shows another submission"
            if not submission.graded:
                assert "not graded" in text
                continue
            marks = page.locator("li.exercise .mark").all_text_contents()
            assert marks == ["✅" if v.passed else "❌" for v in submission.verdicts], f"{path.name}: {marks}"
            hints = page.locator("li.exercise .hint").all_text_contents()
            assert hints == [v.hint for v in submission.verdicts]
            assert page.locator(".rerun").is_visible() and "workbook.py lab" in page.locator(".rerun").inner_text()
            stopped = page.locator(".stopped")
            if submission.stopped:
                assert "Code cell 4" in stopped.inner_text() and "bobs_own_secret_code" in stopped.inner_text()
            else:
                assert stopped.count() == 0 and "bobs_own_secret_code" not in text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"feedback-{path.stem}.png"), full_page=True)
    finally:
        page.context.close()
