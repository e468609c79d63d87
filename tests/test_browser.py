"""The learning-rate demos in a real browser: JupyterLab 4 and Notebook 7 served on loopback with a token, driven
in Debian's Chromium (headless) by Playwright. Each test opens a release notebook, runs all its cells from the
menu, drags every slider of every demo (and picks another entry of each drop-down), and checks that the figure
and the printed numbers change and that no cell shows an error. Screenshots of each demo before and after each
move are saved in test-output/browser/ (or $BROWSER_SCREENSHOTS).
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook, reference_answers, submission

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]  # a browser: `make test` only

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a machine without a display, a sandbox or outside network (Chromium would keep trying to reach
# Google's update and sync services otherwise).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", COURSE_ROOT / "test-output" / "browser"))
JUPYTER = Path(sys.executable).parent / "jupyter"
APPS = {"lab": "lab/tree/{}", "notebook": "notebooks/{}"}  # command -> notebook URL
RUN_SECONDS = 240  # a whole notebook, run from the menu (two_layer_net under the grading budget: about a minute)
MOVE_SECONDS = 60  # one slider move, to the new status line


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def jupyter_server(app, root, env=None, cwd=None):
    """Serve `root` with `jupyter lab`, `jupyter notebook` or `jupyter server` on a free loopback port, started in
    `cwd` (where nbgrader's formgrader reads nbgrader_config.py); yield (base_url, token, log)."""
    token = secrets.token_hex(16)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = Path(root).parent / f"{app}-home"
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "official Jupyter news?" prompt over the screenshots; JupyterLab and Notebook 7 read the same settings.
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {**os.environ, **(env or {}), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    command = [str(JUPYTER), app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = home / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter {app} exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter {app} did not answer in 60 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


class NotebookPage:
    """A notebook open in a browser page, and what the tests do to it."""

    def __init__(self, page, app, name, server_log):
        self.page, self.app, self.name, self.server_log = page, app, name, server_log

    def shot(self, target, label):
        """Save a screenshot of `target` (the page or one element) as <app>-<notebook>-<label>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.app}-{self.name}-{label}.png"
        target.screenshot(path=str(path))
        return path

    def run_all_cells(self):
        """Run → Run All Cells from the menu bar; wait until every code cell has run, or one shows an error.

        `open_notebook` has waited for the notebook's kernel to be attached: a Run All pressed before that runs
        (almost) nothing and opens JupyterLab's "Select Kernel" dialog, so a dialog here fails the test."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            self.page.wait_for_function(
                """() => {
                    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                        .map(e => e.textContent);
                    const errors = document.querySelectorAll('.jp-OutputArea-output[data-mime-type$="stderr"]');
                    const failed = [...errors].some(e => /Traceback|Error:/.test(e.textContent));
                    const dialog = document.querySelector('.jp-Dialog') !== null;
                    return dialog || failed || (prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t)));
                }""", timeout=RUN_SECONDS * 1000)
        except Exception as error:
            raise self._stuck(f"did not run through in {RUN_SECONDS} s") from error
        if self.page.locator(".jp-Dialog").count():
            raise self._stuck("opened a dialog during Run All")
        self.assert_no_errors()

    def _stuck(self, what):
        """An AssertionError saying where the notebook stopped, with a screenshot and the server's log."""
        prompts = self.page.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
        dialogs = [" ".join(text.split()) for text in self.page.locator(".jp-Dialog").all_text_contents()]
        return AssertionError(f"{self.app}: {self.name} {what}; prompts {prompts}, dialogs {dialogs}, screenshot "
                              f"{self.shot(self.page, 'stuck')}, server log:\n{self.server_log.read_text()[-3000:]}")

    def assert_no_errors(self):
        stderr = self.page.locator('.jp-OutputArea-output[data-mime-type$="stderr"]').all_text_contents()
        errors = [text for text in stderr
                  if re.search(r"Traceback|Error:", text)]
        assert not errors, f"a cell of {self.name} shows an error in {self.app}:\n" + "\n".join(errors)[-3000:]
        failing = [text for text in self.statuses() if text.startswith("error")]
        assert not failing, f"a demo of {self.name} shows an error in {self.app}: {failing}"

    def statuses(self):
        return self.page.locator(".lr-lab-status").all_text_contents()

    def demo(self, css_class):
        demo = self.page.locator(f".{css_class}")
        assert demo.count() == 1, f"expected one .{css_class} demo in {self.name}, found {demo.count()}"
        demo.scroll_into_view_if_needed()
        return demo

    def check_every_control(self, css_class):
        """Drag every slider of the demo and pick another entry of every drop-down; each must redraw."""
        demo = self.demo(css_class)
        self.shot(demo, f"{css_class}-0-initial")
        moves = 0
        for index in range(demo.locator(".widget-slider").count()):
            slider = demo.locator(".widget-slider").nth(index)
            label = slider.locator(".widget-label").text_content()
            self._expect_redraw(demo, f"slider '{label}'", lambda: self._drag(slider))
            moves += 1
            self.shot(demo, f"{css_class}-{moves}-{_slug(label)}")
        for index in range(demo.locator(".widget-dropdown select").count()):
            select = demo.locator(".widget-dropdown select").nth(index)
            options = select.locator("option").all_text_contents()
            current = select.input_value()
            other = next(option for option in options if option.replace("\xa0", " ") != current)
            self._expect_redraw(demo, f"drop-down {current!r} -> {other!r}",
                                lambda: select.select_option(label=other.replace("\xa0", " ")))
            moves += 1
            self.shot(demo, f"{css_class}-{moves}-{_slug(other)}")
        self.assert_no_errors()
        return moves

    def _drag(self, slider):
        """Drag the slider's handle a quarter of its track towards the middle (away from the nearer end)."""
        handle = slider.locator(".noUi-handle")
        track = slider.locator(".noUi-base").bounding_box()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        direction = 1 if x < track["x"] + track["width"] / 2 else -1
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + direction * track["width"] / 4, y, steps=8)
        self.page.mouse.up()

    def _expect_redraw(self, demo, what, action):
        status, image = demo.locator(".lr-lab-status"), demo.locator("img.lr-lab-figure")
        old_status, old_source, old_pixels = status.text_content(), image.get_attribute("src"), image.screenshot()
        action()
        try:
            self.page.wait_for_function("([element, old]) => element.textContent !== old",
                                        arg=[status.element_handle(), old_status], timeout=MOVE_SECONDS * 1000)
        except Exception as error:
            raise AssertionError(f"{self.app}: moving {what} of {self.name} did not change the printed numbers "
                                 f"(still {old_status!r})") from error
        new_status = status.text_content()
        assert not new_status.startswith("error"), f"{self.app}: {what} gave {new_status!r}"
        self.page.wait_for_function("([element, old]) => element.getAttribute('src') !== old",
                                    arg=[image.element_handle(), old_source], timeout=MOVE_SECONDS * 1000)
        assert image.screenshot() != old_pixels, f"{self.app}: {what} of {self.name} left the figure unchanged"
        assert re.search(r"\d", new_status)


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def open_notebook(browser, server, app, path):
    base, token, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/{APPS[app].format(path.name)}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    notebook = NotebookPage(page, app, path.stem, log)
    wait_for_kernel(notebook, server, path.name)
    return notebook


def wait_for_kernel(notebook, server, name, seconds=120):
    """Wait until the notebook's kernel is attached: the server has a session for the notebook whose kernel is idle
    and connected to this page, and the page shows it idle.

    The page's execution indicator says "idle" from the moment the notebook is shown, seconds before JupyterLab
    has started or attached any kernel (longer on a busy machine). Run All pressed in that window asks each cell
    to start a kernel: the requests race, JupyterLab opens "Select Kernel", and the run is lost (the prompts stay
    [ ]), as it would be for a person who pressed Run All that early."""
    base, token, _ = server
    deadline = time.monotonic() + seconds
    while True:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as response:
            sessions = json.load(response)
        kernel = next((s.get("kernel") or {} for s in sessions if s.get("path") == name), {})
        if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
            break
        if time.monotonic() > deadline:
            raise notebook._stuck(f"had no kernel attached after {seconds} s (sessions: {sessions})")
        time.sleep(0.5)
    notebook.page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=seconds * 1000)


@pytest.mark.parametrize("app", APPS)
def test_learning_rate_lab_demos_respond_in_the_browser(browser, tmp_path, app):
    root = tmp_path / "course"
    root.mkdir()
    notebook = shutil.copy(COURSE_ROOT / "release" / "learning_rate_lab" / "learning_rate_lab.ipynb", root)
    with jupyter_server(app, root) as server:
        lab = open_notebook(browser, server, app, Path(notebook))
        lab.run_all_cells()
        lab.shot(lab.page, "after-run-all")
        statuses = lab.statuses()
        assert len(statuses) == 2 and all(re.search(r"\d", s) for s in statuses), statuses
        assert lab.page.locator(".jp-OutputArea-output img").count() >= 3  # two demos and the static comparison
        assert lab.check_every_control("lr-descent") == 5  # learning rate, steps, momentum, decay; surface
        assert lab.check_every_control("lr-toy-net") == 5  # learning rate, decay, reg, hidden size; data set
        lab.page.close()


def test_two_layer_net_explorer_and_toy_net_respond_in_the_browser(browser, tmp_path):
    """The release notebook, answered with the reference solution, run under the grading budget (small runs)."""
    root = tmp_path / "course"
    root.mkdir()
    release = read_notebook(COURSE_ROOT / "release" / "two_layer_net" / "two_layer_net.ipynb")
    source = read_notebook(COURSE_ROOT / "source" / "two_layer_net" / "two_layer_net.ipynb")
    notebook = root / "two_layer_net.ipynb"
    nbformat.write(submission(release, source, reference_answers(source)), notebook)
    with jupyter_server("lab", root, env={"COURSE_GRADING_BUDGET": "1"}) as server:
        page = open_notebook(browser, server, "lab", notebook)
        page.run_all_cells()
        assert page.check_every_control("lr-explorer") == 1
        assert page.check_every_control("lr-toy-net") == 5
        page.page.close()
