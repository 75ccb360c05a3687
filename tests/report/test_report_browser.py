"""report.html in a real browser: Debian's headless Chromium, driven over DevTools (cdp.py).

Skipped with the reason when chromium is not installed (scripts/install-browser.sh installs it;
tox's ``py`` env runs that script first, so CI runs these).
"""

from __future__ import annotations

import pytest

from tests.report.cdp import Browser, find_chromium

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (sudo scripts/install-browser.sh)"
    ),
]
FAILED = "#s-report-fail"
PASSED = "#s-report-pass"
VISIBLE_ROWS = (
    "[...document.querySelectorAll('table.list tr[data-verdict]')]"
    ".filter(r => !r.classList.contains('hidden')).map(r => r.dataset.verdict)"
)


@pytest.fixture(scope="module")
def page(sample_run):
    with Browser(CHROMIUM) as browser:
        browser.open(sample_run.report)
        yield browser


def test_loads_without_a_console_error(page):
    assert page.js("document.body.dataset.ready") == "1"
    assert page.console_errors() == []


def test_overview_counts_match_the_run(page, sample_run):
    statuses = [row["status"] for row in sample_run.results()]
    shown = page.js(
        "Object.fromEntries([...document.querySelectorAll('[id^=count-]')]"
        ".map(e => [e.id.slice(6), +e.textContent]))"
    )
    assert shown["passed"] == statuses.count("passed") == 1
    assert shown["failed"] == statuses.count("failed") == 1
    assert shown["skipped"] == statuses.count("skipped")
    assert shown["ran"] == len(statuses) - statuses.count("skipped")


def test_a_failed_timeline_shows_fault_events_and_packets_in_time_order(page):
    rows = page.js(
        f"[...document.querySelectorAll('{FAILED} table.events tr[data-lane]')]"
        ".map(r => [+r.cells[0].dataset.ms, r.dataset.lane, r.cells[2].textContent])"
    )
    times = [ms for ms, _, _ in rows]
    assert times == sorted(times)
    lanes = [lane for _, lane, _ in rows]
    assert "fault" in lanes and "events" in lanes and "expectation" in lanes
    assert any(":" in lane for lane in lanes), "packets on a link endpoint (node:ifname)"
    applied = next(ms for ms, lane, text in rows if lane == "fault" and "applied" in text)
    assert any(lane == "events" and ms > applied for ms, lane, _ in rows)
    assert any("deadline" in text and "FAILED" in text for _, _, text in rows)
    assert page.js(f"document.querySelector('{FAILED}').open") is True
    assert page.js(f"document.querySelectorAll('{FAILED} svg.tl line.fault').length") >= 1


def test_verdict_filter_shows_only_failures(page):
    page.js("document.querySelector('input[name=verdict][value=failed]').click()")
    try:
        assert page.js(VISIBLE_ROWS) == ["failed"]
        assert page.js(f"document.querySelector('{PASSED}').classList.contains('hidden')")
    finally:
        page.js("document.querySelector('input[name=verdict][value=failed]').click()")
    assert sorted(page.js(VISIBLE_ROWS)) == ["failed", "passed"]


def test_tag_and_matrix_filters(page):
    page.js(
        "var s=document.getElementById('f-tag');s.value='missing-routes';"
        "s.dispatchEvent(new Event('change'))"
    )
    assert page.js(VISIBLE_ROWS) == ["failed"]
    page.js(
        "var s=document.getElementById('f-tag');s.value='';s.dispatchEvent(new Event('change'))"
    )
    page.js("document.querySelector(\".cell[data-family='nft-drop-igmp']\").click()")
    assert page.js(VISIBLE_ROWS) == ["passed"]
    page.js("document.getElementById('cause-clear').click()")
    page.js(
        "var s=document.getElementById('f-step');s.value='';s.dispatchEvent(new Event('change'))"
    )
    assert len(page.js(VISIBLE_ROWS)) == 2


def test_screenshots_of_a_passing_and_a_failing_scenario(page, screenshots):
    page.js(f"document.querySelector('{PASSED}').open=true")
    page.js("document.querySelector('.filters').style.position='static'")
    failing = page.screenshot(screenshots / "report-failed-scenario.png", FAILED)
    passing = page.screenshot(screenshots / "report-passed-scenario.png", PASSED)
    overview = page.screenshot(screenshots / "report-overview.png")
    for shot in (failing, passing, overview):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert page.console_errors() == []


def test_a_page_of_sections_alone_loads_without_a_console_error(tmp_path):
    """faultlab explore's report.html: no scenario filters, and the page script still runs."""
    from harness import htmlreport

    section = htmlreport.Section("Explore: call site x errno", "<table></table>", "explore")
    path = htmlreport.write(tmp_path / "report.html", [], [section], title="explore x.yaml")
    with Browser(CHROMIUM) as browser:
        browser.open(path)
        assert browser.js("document.body.dataset.ready") == "1"
        assert browser.console_errors() == []
        assert browser.js("document.querySelectorAll('[id^=count-]').length") == 0
