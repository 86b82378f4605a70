"""The built book, read in a real browser: Debian's headless Chromium, driven by Selenium.

Checks what only a browser can: that the pages link up, that every image
loads, that choosing a framework in one tab set switches the others, and that
each notebook page has its Colab launch link. A screenshot of the side-by-side
page is kept in test-artifacts/.
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from d2lutils.notebooks import read_notebook

pytest.importorskip("selenium", reason="the book is read in the readers' environment")
from notebook_status import toc_entries  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def toc_pages():
    return toc_entries(ROOT)


@pytest.fixture(scope="module")
def site(built_book):
    """The book served over HTTP on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for program in (CHROMIUM, CHROMEDRIVER):
        assert Path(program).exists(), (
            f"{program} is missing: `make test` installs Debian's chromium and "
            f"chromium-driver (sh scripts/apt-install.sh chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Headless, and nothing that reaches for the network this machine lacks.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_next_links_walk_the_table_of_contents(site, browser):
    browser.get(site)  # index.html redirects to the first page
    visited = []
    for _ in range(len(toc_pages()) + 1):
        # Wait for the page itself: the redirect from index.html happens after loading.
        heading = WebDriverWait(browser, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "article h1")))
        assert heading.text  # the page rendered
        visited.append(browser.current_url.removeprefix(site).removesuffix(".html"))
        following = browser.find_elements(By.CSS_SELECTOR, "a.right-next")
        if not following:
            break
        browser.get(following[0].get_attribute("href"))
    assert visited == toc_pages()


def stored_figures(page):
    """How many figures the page's notebook stores among its outputs (0 for a Markdown page)."""
    notebook = ROOT / (page + ".ipynb")
    if not notebook.exists():
        return 0
    return sum(any(kind.startswith("image/") for kind in output.get("data", {}))
               for cell in read_notebook(notebook)["cells"] if cell["cell_type"] == "code"
               for output in cell["outputs"])


@pytest.mark.parametrize("page", toc_pages())
def test_every_image_loads(site, browser, page):
    browser.get(site + page + ".html")
    assert browser.find_element(By.CSS_SELECTOR, "article h1").text  # the page, not a 404
    broken = browser.execute_script(
        "return [...document.images]"
        ".filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);")
    assert broken == []
    # Every figure the notebook stores is on its page (Sphinx copies them to _images/).
    figures = browser.execute_script(
        "return [...document.images].filter(img => img.src.includes('/_images/')).length;")
    assert figures == stored_figures(page)


@pytest.mark.parametrize("page", [p for p in toc_pages() if p.startswith("notebooks/")])
def test_notebook_pages_launch_on_colab(site, browser, page):
    browser.get(site + page + ".html")
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    name = page.removeprefix("notebooks/")
    assert any(href and href.startswith("https://colab.research.google.com/github/")
               and href.endswith(f"/notebooks/{name}.ipynb") for href in links)


def test_choosing_a_framework_switches_every_tab_set(site, browser):
    browser.get(site + "book/alexnet_side_by_side.html")
    tab_sets = browser.find_elements(By.CSS_SELECTOR, ".sd-tab-set")
    assert len(tab_sets) == 2

    def selected():
        return [s.find_element(By.CSS_SELECTOR, "input:checked + label").text
                for s in tab_sets]

    assert selected() == ["PyTorch", "PyTorch"]
    for framework in ("TensorFlow/Keras", "JAX/Flax", "MXNet Gluon", "PyTorch"):
        label = tab_sets[0].find_element(By.XPATH, f".//label[normalize-space()='{framework}']")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        label.click()
        assert selected() == [framework, framework]
    # What the second set shows is the table for the chosen framework.
    tab_sets[0].find_element(By.XPATH, ".//label[normalize-space()='TensorFlow/Keras']").click()
    visible = [panel.text for panel in tab_sets[1].find_elements(By.CSS_SELECTOR, ".sd-tab-content")
               if panel.is_displayed()]
    assert len(visible) == 1 and "output shape: (1, 54, 54, 96)" in visible[0]

    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0);")
    assert browser.save_screenshot(str(ARTIFACTS / "alexnet_side_by_side.png"))


@pytest.mark.parametrize("page", ["notebooks/alexnet_paper", "notebooks/hardware"])
def test_formulas_are_typeset_by_the_books_own_mathjax(site, browser, page):
    # This machine has no internet, as a reader offline has none: if MathJax came
    # from a CDN, nothing would be typeset.
    browser.get(site + page + ".html")
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.CSS_SELECTOR, "script")]
    mathjax = [src for src in scripts if src and "mathjax" in src.lower()]
    assert mathjax and all(src.startswith(site) for src in mathjax), mathjax
    typeset = WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "mjx-container"))
    assert len(typeset) >= 3
    assert not browser.find_elements(By.CSS_SELECTOR, "mjx-merror")  # no TeX errors
