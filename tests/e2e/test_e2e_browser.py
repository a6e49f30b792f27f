"""The workbench in a real browser: headless Chromium (Debian's) against the real server.

The session starts ``uvicorn --factory openskies.server.app:create_app`` on a
free 127.0.0.1 port over the real dataset (the suite's shared build) and
drives Debian's ``/usr/bin/chromium`` with Playwright (``executable_path``;
Playwright's own browser download is never used). Missing pieces are
installed first (the ``playwright`` package with pip, ``chromium`` with
apt-get as root or with ``sudo -n``); the tests skip, saying why, only when
Chromium cannot be installed. Every request each page makes is recorded and
must go to 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from shared_build import built_dir

CHROMIUM = Path(os.environ.get("OPENSKIES_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("OPENSKIES_SCREENSHOTS", "/tmp/openskies-e2e"))

pytestmark = pytest.mark.slow


def _install_chromium() -> str | None:
    """Install Debian's chromium if missing; the reason it is still missing, or None."""
    if CHROMIUM.exists():
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "there is no apt-get on this machine"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return "not root and no sudo"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(
            prefix + command, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if result.returncode != 0:
            return f"`{' '.join(prefix + command)}` failed: {result.stderr.strip()[-300:]}"
    return None if CHROMIUM.exists() else f"apt-get installed no {CHROMIUM}"


def _import_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "playwright"], check=False, timeout=600
        )
        from playwright.sync_api import sync_playwright
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The real app on uvicorn, on loopback, over the real dataset; stopped after the session."""
    port = _free_port()
    env = {
        **os.environ,
        "OPENSKIES_BUILD_DIR": str(built_dir()),
        "OPENSKIES_HOST": "127.0.0.1",
        "OPENSKIES_PORT": str(port),
        "OPENSKIES_WORKERS": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "openskies.server.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode} before answering")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /health within 180 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser():
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(f"Chromium could not be installed ({reason}); run scripts/setup.sh as root")
    sync_playwright = _import_playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh page; every request it makes is recorded and must stay on 127.0.0.1."""
    context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requests = requests
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"))
    context.close()
    hosts = {urlparse(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, f"requests left 127.0.0.1: {sorted(hosts)}"
    assert not errors, f"script errors: {errors}"


def _open_workbench(page) -> None:
    page.goto("/")
    page.wait_for_selector("body[data-workbench=ready]")


def _rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "[data-testid=results-table] tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))",
    )


def test_root_opens_the_editor_with_the_prefixes(page):
    _open_workbench(page)
    editor = page.locator(".cm-editor .cm-content")
    assert editor.is_visible()
    text = editor.inner_text()
    assert "PREFIX osk:" in text and "PREFIX osd:" in text
    assert page.locator(".cm-editor .tok-keyword, .cm-editor span[class]").count() > 5


def test_gallery_question_fills_the_editor_and_shows_the_rows(page, server):
    _open_workbench(page)
    page.click("a[data-question=timeline]")
    page.wait_for_selector("[data-testid=results-table] tbody tr")
    assert "SELECT ?when ?event" in page.locator(".cm-content").inner_text()
    rows = _rows(page)
    headers = page.eval_on_selector_all(
        "[data-testid=results-table] th", "t => t.map(h => h.dataset.var)"
    )
    events = [row[headers.index("event")] for row in rows]
    assert events[0] == "osd:signing-1992"
    assert events.index("osd:us-withdrawal-effective-2020-11-22") > events.index(
        "osd:us-withdrawal-notice-2020-05-22"
    )
    with urllib.request.urlopen(server + "/api/queries/timeline?format=csv") as response:
        assert len(rows) == len(response.read().decode().strip().splitlines()) - 1
    assert parse_qs(urlparse(page.url).query) == {"question": ["timeline"]}
    assert page.locator("#downloads a[data-format=csv]").count() == 1


def test_gallery_parameter_dropdown_lists_the_valid_values(page):
    _open_workbench(page)
    page.click("a[data-question=statements_by_stance]")
    select = page.locator("select#param-stance")
    select.wait_for()
    options = select.locator("option").all_inner_texts()
    assert "stance:criticism" in options
    select.select_option("https://w3id.org/openskies/stance/criticism")
    page.click("#question-params button[type=submit]")
    page.wait_for_url("**stance=*criticism*")
    page.wait_for_selector("[data-testid=results-table] tbody tr")
    assert "stance/criticism" in page.locator(".cm-content").inner_text()


def test_typed_query_runs_with_ctrl_enter_and_is_kept_in_the_url(page):
    _open_workbench(page)
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?person WHERE { ?person a osk:Person } ORDER BY ?person")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-testid=results-table] tbody tr")
    people = [row[0] for row in _rows(page)]
    assert "osd:josep-borrell" in people and "osd:sergei-ryabkov" in people
    assert len(people) == 4
    assert parse_qs(urlparse(page.url).query)["query"][0].startswith("SELECT ?person")
    page.click("th[data-var=person] button")
    page.click("th[data-var=person] button")
    assert [row[0] for row in _rows(page)] == sorted(people, reverse=True)
    page.reload()  # the shared URL runs the same query again
    page.wait_for_selector("[data-testid=results-table] tbody tr")
    assert len(_rows(page)) == 4


def test_endpoint_errors_and_construct_results_are_shown(page):
    _open_workbench(page)
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?x WHERE { ?x ?y")
    page.keyboard.press("Control+Enter")
    error = page.locator("#error")
    error.wait_for()
    assert error.inner_text().startswith("400")
    page.keyboard.press("Control+A")
    page.keyboard.type("CONSTRUCT { osd:russia ?p ?o } WHERE { osd:russia ?p ?o } LIMIT 3")
    page.keyboard.press("Control+Enter")
    turtle = page.locator("[data-testid=turtle]")
    turtle.wait_for()
    assert "russia" in turtle.inner_text()
    assert page.locator("#downloads a[data-format=turtle]").count() == 1


def test_clicking_a_result_opens_the_entity_page(page):
    page.goto("/?query=" + urllib.request.quote("SELECT ?s WHERE { VALUES ?s { osd:russia } }"))
    page.wait_for_selector("[data-testid=results-table] tbody a")
    page.click("[data-testid=results-table] tbody a")
    page.wait_for_url("**/id/russia")
    assert page.locator("h1").inner_text() == "Russia"


def test_timeline_shows_the_events_in_order(page):
    page.goto("/timeline")
    events = page.locator("svg.timeline g.event")
    dates = events.evaluate_all("gs => gs.map(g => g.dataset.date)")
    assert len(dates) >= 8 and dates == sorted(dates)
    labels = events.locator("text.label").all_text_contents()
    assert labels[0] == "Signing of the Treaty on Open Skies"
    us_effect = "US withdrawal from the Treaty on Open Skies takes effect"
    assert labels.index(us_effect) > labels.index(
        "US notice of withdrawal from the Treaty on Open Skies"
    )
    events.first.locator("a.event-link").click()
    page.wait_for_url("**/id/signing-1992")


def test_network_draws_and_filters_by_type(page):
    page.goto("/network")
    page.wait_for_selector("#network[data-ready=true] canvas")
    visible = "() => window.openSkiesNetwork.nodes(':visible').length"
    before = page.evaluate(visible)
    assert before > 40
    page.uncheck("#network-filter input[value=state]")
    assert 0 < page.evaluate(visible) < before


def test_article_highlight_shows_its_triples(page):
    page.goto("/article")
    page.locator("mark[data-span]").first.click()
    popup = page.locator(".span-popup table")
    popup.wait_for()
    assert "Treaty on Open Skies" in page.locator(".span-popup").inner_text()


def test_no_request_leaves_loopback(page):
    """Every page of the workbench, with its scripts, styles and data, comes from 127.0.0.1."""
    _open_workbench(page)
    page.click("a[data-question=people_quoted]")
    page.wait_for_selector("[data-testid=results-table] tbody tr")
    for path in ("/timeline", "/network", "/id/russia", "/article"):
        page.goto(path)
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("editor.bundle.js") for url in page.requests)
    assert any(url.endswith("cytoscape.bundle.js") for url in page.requests)
    hosts = {urlparse(url).hostname for url in page.requests}
    assert hosts == {"127.0.0.1"}
