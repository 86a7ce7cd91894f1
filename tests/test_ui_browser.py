"""``bulkpo ui`` driven in a real headless Chromium: drop, remap, fix, import, reload, download.

Needs Debian's chromium and chromium-driver (``.ci/run`` installs them); without them the
tests fail saying so. ``BULKPO_UI_SCREENSHOTS=1`` saves the screenshots the README shows
into docs/.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import openpyxl
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from bulkpo.config import Settings
from bulkpo.sandbox import SandboxServer
from bulkpo.saved_mapping import read_mapping
from tests.conftest import REPO, settings_for
from tests.ui_fixtures import BAD_ROW, COST_COL, QUANTITY_COL, messy_workbook, page

T = TypeVar("T")
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVER = ("/usr/bin/chromedriver", "chromedriver")


def _found(names: tuple[str, ...]) -> str | None:
    return next((p for p in (shutil.which(n) for n in names) if p), None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, driver = _found(CHROMIUM), _found(DRIVER)
    if chromium is None or driver is None:
        pytest.fail(
            "the page's browser tests need Chromium and its driver: "
            "apt-get install chromium chromium-driver (.ci/run does it)", pytrace=False)
    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1360,900"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
    })
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield chrome
    finally:
        chrome.quit()


def _wait(what: str, probe: Callable[[], T | None], seconds: float = 20) -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            got = probe()
        except Exception:  # the element is being replaced by htmx: look again
            got = None
        if got:
            return got
        assert time.monotonic() < deadline, f"waited {seconds}s for {what}"
        time.sleep(0.05)


def _shot(browser: WebDriver, name: str, center: WebElement | None = None) -> None:
    if os.environ.get("BULKPO_UI_SCREENSHOTS") == "1":
        if center is None:
            browser.execute_script("window.scrollTo(0, 0)")
        else:
            browser.execute_script(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center'})", center)
        (REPO / "docs").mkdir(exist_ok=True)
        browser.save_screenshot(str(REPO / "docs" / f"ui-{name}.png"))


def _summary(browser: WebDriver) -> str:
    return browser.find_element(By.CSS_SELECTOR, "section.sheet .summary").text


def test_drop_remap_fix_import_reload_and_download(
    browser: WebDriver, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slow enough that a reload lands in the middle of the run.
    settings = settings_for(sandbox, rate=4.0, concurrency=1)
    path = messy_workbook(tmp_path / "orders.xlsx")
    monkeypatch.chdir(tmp_path)  # mappings/ beside the files, as `bulkpo ui` keeps them
    with page(settings, tmp_path, mappings_dir=Path("mappings")) as server:
        browser.get(server.url)
        assert "token" not in browser.current_url  # the link's key became a cookie
        browser.find_element(By.ID, "file").send_keys(str(path))
        _wait("the file's page", lambda: "/u/" in browser.current_url and
              browser.find_elements(By.ID, "grid-purchase-orders"))
        assert _summary(browser) == "8 rows: 8 invalid"
        assert "header row 1" in browser.find_element(By.CSS_SELECTOR, "section.sheet h2").text

        # Remap the column bulkpo could not name, and save the mapping for next time.
        column = Select(browser.find_element(By.NAME, f"col-{QUANTITY_COL}"))
        assert column.first_selected_option.text == "not imported"
        column.select_by_value("quantity")
        browser.find_element(By.NAME, "name").send_keys("lamps-export")
        browser.find_element(By.ID, "apply-mapping").click()
        _wait("the remapped check", lambda: _summary(browser) == "8 rows: 6 valid, 2 invalid")
        assert read_mapping(tmp_path / "mappings" / "lamps-export.toml").columns["Stück"] == (
            "quantity")
        assert "--map mappings/lamps-export.toml" in browser.find_element(By.ID, "work").text

        # The bad cell is red with its message; bulkpo's own fix is yellow.
        bad = browser.find_element(
            By.CSS_SELECTOR, f'tr[data-row="{BAD_ROW}"] td[data-col="{COST_COL}"]')
        assert "error" in bad.get_attribute("class")
        assert '"abc" is not a number' in bad.get_attribute("title")
        fixed = browser.find_element(By.CSS_SELECTOR, 'tr[data-row="2"] td[data-col="3"]')
        assert "fixed" in fixed.get_attribute("class")
        assert fixed.get_attribute("title").startswith("fixed by bulkpo: ")

        # Only the rows with problems: the bad row and its PO's other line.
        browser.find_element(By.CSS_SELECTOR, "input.only-problems").click()
        shown = [r for r in browser.find_elements(By.CSS_SELECTOR, "#grid-purchase-orders tbody tr")
                 if r.is_displayed()]
        assert [r.get_attribute("data-row") for r in shown] == ["4", str(BAD_ROW)]
        _shot(browser, "fix", center=bad)

        # Fix the cell in place: checked again at once.
        cell = bad.find_element(By.TAG_NAME, "input")
        # Typed over, as a person does (selenium's clear() would send a blank first).
        cell.send_keys(Keys.CONTROL, "a")
        cell.send_keys("4.5", Keys.TAB)
        _wait("the fixed check", lambda: _summary(browser) == "8 rows: 8 valid")
        browser.find_element(By.CSS_SELECTOR, "input.only-problems").click()

        button = browser.find_element(By.ID, "import")
        assert button.text == "Import 4 POs"
        button.click()
        _wait("the first row sent", lambda: browser.find_elements(By.CSS_SELECTOR,
              "#run-panel table.statuses tbody tr"))
        browser.refresh()  # the run goes on without the page
        panel = _wait("the run after the reload",
                      lambda: browser.find_element(By.ID, "run-panel"))
        assert panel.get_attribute("data-finished") == "no", "the run ended before the reload"
        # The live figures: requests sent, the rate, 429 answers, read from the running import.
        sent = _wait("requests counted live", lambda: int(browser.find_element(
            By.CSS_SELECTOR, "#run-panel .live .requests").text))
        assert sent > 0 and "throttled (429)" in browser.find_element(By.ID, "run-panel").text
        _shot(browser, "import")
        _wait("the end of the run", lambda: browser.find_element(
            By.ID, "run-panel").get_attribute("data-finished") == "yes", seconds=40)
        statuses = {
            r.get_attribute("data-row"): r.find_element(By.CSS_SELECTOR, "td.status").text
            for r in browser.find_elements(By.CSS_SELECTOR, "#run-panel table.statuses tbody tr")
        }
        assert statuses == {str(n): "created" for n in range(2, 10)}
        assert "8 rows: 8 created" in browser.find_element(By.ID, "run-panel").text
        _shot(browser, "done")

        link = browser.find_element(By.PARTIAL_LINK_TEXT, "Result report")
        link.click()
        report = browser.downloads / "orders-report.xlsx"  # type: ignore[attr-defined]
        _wait("the downloaded report", lambda: report.is_file() and not list(
            report.parent.glob("*.crdownload")))
        sheet = openpyxl.load_workbook(report)["Orders"]
        headers = [c.value for c in sheet[1]]
        status = headers.index("Status") + 1
        assert [sheet.cell(r, status).value for r in range(2, 10)] == ["created"] * 8
        assert sheet.cell(BAD_ROW, headers.index("Unit Cost") + 1).value == 4.5


def test_a_file_dropped_on_the_drop_zone_is_read(
    browser: WebDriver, sandbox_settings: Settings, tmp_path: Path
) -> None:
    with page(sandbox_settings, tmp_path) as server:
        browser.get(server.url)
        # What the browser hands the page when a file is dragged onto it from the desktop.
        browser.execute_script("""
            const file = new File(
                ["PO Number,Seller,SKU,Product Name,Quantity,Unit Cost,Currency\\r\\n" +
                 "PO-D-1,Acme Supplier,A-1,Lamp,10,2.5,USD\\r\\n"], "dropped.csv",
                {type: "text/csv"});
            const data = new DataTransfer();
            data.items.add(file);
            const zone = document.getElementById("dropzone");
            for (const name of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(name, {dataTransfer: data, bubbles: true}));
            }
        """)
        _wait("the dropped file's page", lambda: browser.find_elements(By.CSS_SELECTOR,
              "section.sheet .summary"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "dropped.csv"
        assert _summary(browser) == "1 rows: 1 valid"
        assert browser.find_element(By.ID, "import").text == "Import 1 PO"
