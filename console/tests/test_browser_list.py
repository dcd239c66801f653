"""The list pane in a real browser: dense rows, a head that stays, the open consultation highlighted (SPEC §3).

Debian's Chromium (consultations/tests/browser.py) against the browser tests'
uvicorn server (console/tests/conftest.py), in Korean, at 1440×900.
"""

import pytest

from consultations.models import Status
from consultations.tests import browser

pytestmark = pytest.mark.django_db(transaction=True)

SCREEN = {"width": 1440, "height": 900}
UNASSIGNED = "/consultations/?scope=all&tab=unassigned"
ACCENT_SOFT = "rgb(232, 240, 254)"  # console.css --accent-soft: the open row's background

# Boxes of the pane, its head (scope, filters, tabs), the tabs and each row, as the viewport shows them.
BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  const pane = document.querySelector('#list-pane');
  return {
    pane: box(pane),
    head: box(pane.querySelector('.list-head')),
    tabs: box(pane.querySelector('.tabs')),
    rows: [...pane.querySelectorAll('a.row')].map(box),
    viewport: window.innerHeight,
  };
}"""


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def open_console(chromium, server, user, path: str):
    context = browser.session_context(chromium, base_url(server), browser.session_of(user), viewport=SCREEN)
    tab = browser.open_tab(context)
    tab.page.goto(base_url(server) + path)
    tab.page.wait_for_selector("#list-pane a.row")
    return tab


def fully_visible_rows(boxes: dict) -> int:
    """Rows wholly inside the part of the pane below its head and above the bottom of the screen."""
    top, bottom = boxes["head"]["bottom"], min(boxes["pane"]["bottom"], boxes["viewport"])
    return sum(1 for row in boxes["rows"] if row["top"] >= top - 0.5 and row["bottom"] <= bottom + 0.5)


def tabs_in_view(boxes: dict) -> bool:
    return boxes["tabs"]["top"] >= boxes["pane"]["top"] - 0.5 and boxes["tabs"]["bottom"] <= boxes["viewport"]


@pytest.fixture
def thirty_unassigned(make_consultation):
    return [make_consultation(status=Status.UNASSIGNED) for _ in range(30)]


def test_at_1440_by_900_fourteen_rows_or_more_show_whole_below_the_tabs(chromium, server, agent, thirty_unassigned):
    tab = open_console(chromium, server, agent.user, UNASSIGNED)

    boxes = tab.page.evaluate(BOXES)

    assert len(boxes["rows"]) == 30
    assert fully_visible_rows(boxes) >= 14, boxes
    assert all(48 <= row["bottom"] - row["top"] <= 58 for row in boxes["rows"])  # about 50 px each
    assert tab.errors == []


def test_a_row_opened_from_the_list_is_highlighted_and_the_tabs_stay_in_view(
    chromium, server, agent, thirty_unassigned
):
    tab = open_console(chromium, server, agent.user, UNASSIGNED)
    page = tab.page
    row = page.locator("#list-pane a.row").nth(20)  # below the fold: the click scrolls the list to it
    public_id = row.get_attribute("data-consultation")

    row.click()
    page.wait_for_selector(f'#chat[data-consultation="{public_id}"]')

    opened = page.locator(f'#list-pane a.row[data-consultation="{public_id}"]')
    assert opened.get_attribute("aria-current") == "true"
    assert "is-open" in opened.get_attribute("class")
    assert opened.evaluate("el => getComputedStyle(el).backgroundColor") == ACCENT_SOFT
    assert "inset" in opened.evaluate("el => getComputedStyle(el).boxShadow")  # the accent bar at its left
    boxes = page.evaluate(BOXES)
    assert tabs_in_view(boxes), boxes
    # The list kept its place: the opened row is still on screen, below the head.
    box = opened.bounding_box()
    assert box["y"] >= boxes["head"]["bottom"] - 0.5 and box["y"] + box["height"] <= SCREEN["height"]
    assert page.locator("#list-pane a.row[aria-current]").count() == 1
    assert tab.errors == []


def test_a_consultation_opened_by_its_url_from_another_tab_is_on_top_as_the_opened_consultation(
    chromium, server, agent, agent2, make_consultation, thirty_unassigned
):
    elsewhere = make_consultation(status=Status.IN_PROGRESS, assignee=agent2)

    tab = open_console(chromium, server, agent.user, f"/consultations/{elsewhere.public_id}/?scope=all&tab=unassigned")
    page = tab.page

    section = page.locator("#list-pane .rows-label")
    assert section.inner_text().strip() == "열린 상담"
    opened = page.locator("#list-pane .rows-opened a.row")
    assert opened.get_attribute("data-consultation") == elsewhere.public_id
    assert opened.get_attribute("aria-current") == "true"
    assert opened.evaluate("el => getComputedStyle(el).backgroundColor") == ACCENT_SOFT
    assert page.locator("#list-pane a.row").count() == 31  # the tab's 30, and the open one above them

    # Another tab of the list keeps the consultation open, on top.
    page.click("#list-pane .tabs a.tab:has-text('대기')")
    page.wait_for_selector("#list-pane .tabs a.tab.is-on:has-text('대기')")
    assert page.locator("#list-pane .rows-opened a.row").get_attribute("data-consultation") == elsewhere.public_id
    assert elsewhere.public_id in page.url
    assert tab.errors == []


def test_scrolling_the_list_keeps_the_tabs_in_view(chromium, server, agent, thirty_unassigned):
    tab = open_console(chromium, server, agent.user, UNASSIGNED)
    page = tab.page

    page.hover("#list-pane a.row >> nth=5")
    page.mouse.wheel(0, 5000)
    page.wait_for_function("() => document.querySelector('#list-pane').scrollTop > 0")

    boxes = page.evaluate(BOXES)
    assert tabs_in_view(boxes), boxes
    assert boxes["rows"][-1]["bottom"] <= SCREEN["height"] + 0.5  # the last row came into view
    assert fully_visible_rows(boxes) >= 14
