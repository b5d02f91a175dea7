"""The pages in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright, no browser
download) against `pipeline serve` on loopback: search, click through, read the embedded JSON-LD.
Screenshots of each kind of page go to $ZH_ARTIFACTS (default .artifacts/screenshots), not into git."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyoxigraph
import pytest

from .conftest import BASE, ROOT
from .test_pages import ARTICLE, get, local, server, site, site_release  # noqa: F401 - fixtures

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("ZH_ARTIFACTS", ROOT / ".artifacts" / "screenshots"))


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run and `make test` install it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    outside = []
    opened.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "file:",
                                                                                   "data:")) else None)
    yield opened
    context.close()
    assert outside == [], f"the pages requested addresses elsewhere: {outside}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def embedded_graph(page) -> set:
    text = page.locator('script[type="application/ld+json"]').text_content()
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.JSON_LD))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def test_search_click_through_to_an_article_and_its_author(page, server):  # noqa: F811
    page.goto(server + "/")
    assert page.locator("h1").first.inner_text()
    assert page.locator("figure.chart svg a").count() > 3  # bars are links
    shot(page, "landing")
    page.fill("#q", "血肉联系")
    page.click("form.search button")
    page.wait_for_selector("#search-results li a")
    shot(page, "search")
    page.click("#search-results li a >> text=时刻保持党同群众的血肉联系")
    page.wait_for_selector("h1")
    assert page.url.endswith(ARTICLE + ".html")  # the IRI's address, 303 to its page
    assert "时刻保持党同群众的血肉联系" in page.locator("h1").inner_text()
    assert page.locator("link[rel=canonical]").get_attribute("href") == BASE + ARTICLE
    shot(page, "article")

    # what the page tells search engines is the resource's RDF
    nt = get(server + local(BASE + ARTICLE) + ".nt").body
    expected = pyoxigraph.Dataset(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES))
    expected.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    assert embedded_graph(page) == set(expected)

    page.click("dl.facts a >> text=闻学良")
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "闻学良"
    listed = page.locator("section ol.entries a").all_inner_texts()
    assert any("时刻保持党同群众的血肉联系" in text for text in listed)
    shot(page, "author")


def test_printing_newspaper_tag_and_query_pages_render(page, server):  # noqa: F811
    page.goto(server + local(BASE + ARTICLE) + "/in/seeds")
    assert page.locator("section.body p").count() > 3
    shot(page, "printing")
    page.click("dl.facts a >> text=解放军报 1990-03-22")
    page.wait_for_selector("h1")
    shot(page, "issue")
    page.click("dl.facts a >> text=解放军报")
    assert page.locator("h2", has_text="Issues").count() == 1
    shot(page, "newspaper")
    page.goto(server + "/sparql")
    page.click("ul.queries a >> nth=0")
    page.wait_for_selector("table.results")
    shot(page, "sparql")
    page.fill("#query", "SELECT ?person WHERE { ?person a <http://schema.org/Person> } LIMIT 3")
    page.click("main form button")
    page.wait_for_selector("table.results a")
    link = page.locator("table.results a").first.get_attribute("href")
    assert link.startswith(local(BASE))  # result IRIs link to the pages here


def test_a_phone_sized_screen_needs_no_sideways_scrolling(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    phone = context.new_page()
    try:
        for address in ("/", local(BASE + ARTICLE) + "/in/seeds.html"):
            phone.goto(server + address)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375 + 1, f"{address}: {width}px wide"
        shot(phone, "phone")
    finally:
        context.close()


def test_the_static_site_works_opened_from_disk(page, site):  # noqa: F811
    page.goto((site / "index.html").as_uri())
    page.click("nav a >> text=Authors")
    page.wait_for_selector("ol.entries a")
    page.click("ol.entries a >> text=闻学良")
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "闻学良"
    page.goto((site / "search.html").as_uri() + "?q=" + "血肉联系")
    page.wait_for_selector("#search-results li a")
    page.click("#search-results li a")
    page.wait_for_selector("h1")
    assert "时刻保持党同群众的血肉联系" in page.locator("h1").inner_text()
    shot(page, "static-article")
