"""The 통계 screens (SPEC §6): the page with its two tabs, and its daily table as CSV.

Both read `report_for` alone, one query on the daily rollups (never the
consultations), of the acting member's own center (R1), and only for members
who see statistics (`Member.sees_statistics`); others get a page that says so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from counsel_center.membership import member_required_for

from .report import Report, report_for
from .templatetags.stats_chart import line_chart, period
from .templatetags.stats_format import Change, Measure, change

INBOUND = Measure("inbound", gettext_lazy("Inbound"), "count")
COMPLETED = Measure("completed", gettext_lazy("Completed"), "count")
SAME_DAY_RATE = Measure("same_day_rate", gettext_lazy("Same-day completion rate"), "rate")
FIRST_RESPONSE = Measure("first_response_average", gettext_lazy("Average first response time"), "duration")
CONVERSATION = Measure("conversation_average", gettext_lazy("Average conversation time"), "duration")


@dataclass(frozen=True)
class Tab:
    label: str | Promise
    chart: tuple[Measure, ...]  # drawn by 7-day periods, with the change against the previous period
    table: tuple[Measure, ...]  # 일별 지표 상세보기


TABS = {
    "counts": Tab(gettext_lazy("Number of consultations"), (INBOUND, COMPLETED), (INBOUND, COMPLETED, SAME_DAY_RATE)),
    "times": Tab(gettext_lazy("Consultation time"), (FIRST_RESPONSE, CONVERSATION), (FIRST_RESPONSE, CONVERSATION)),
}


@dataclass(frozen=True)
class Tile:
    """A chart measure over the latest 7 days, and its change against the 7 before."""

    measure: Measure
    value: str
    change: Change


# Masters, and managers with 상담 권한 (SPEC §6); anyone else is told why.
statistics_required = member_required_for(
    lambda member: member.sees_statistics, refused_template="stats/not_available.html"
)


def tiles(report: Report, measures: tuple[Measure, ...]) -> list[Tile]:
    return [Tile(m, m.show(report.latest.totals), change(report.change(m.key), m)) for m in measures]


@require_GET
@statistics_required
def stats_page(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("tab") if request.GET.get("tab") in TABS else "counts"
    tab, report = TABS[key], report_for(request.member.center)
    context = {"report": report, "tab": tab, "tab_key": key, "tabs": TABS}
    context["STATS_TABLE_CACHE_SECONDS"] = settings.STATS_TABLE_CACHE_SECONDS
    if not report.is_empty:
        context |= {"chart": line_chart(report.buckets, tab.chart), "tiles": tiles(report, tab.chart)}
        context |= {"latest_period": period(report.latest), "days": report.days[::-1]}  # newest day first
    return render(request, "stats/stats.html", context)


def _csv_cell(measure: Measure, value: float | None) -> str | int:
    """Plain numbers a spreadsheet can add up: whole seconds, rates with one decimal, empty for none."""
    if value is None:
        return ""
    return f"{value:.1f}" if measure.kind == "rate" else round(value)


def _csv_heading(measure: Measure) -> str:
    units = {"rate": "%", "duration": _("seconds")}
    return f"{measure.label} ({units[measure.kind]})" if measure.kind in units else str(measure.label)


@require_GET
@statistics_required
def stats_csv(request: HttpRequest) -> HttpResponse:
    """The daily table of both tabs, oldest day first, headed in the member's language."""
    center = request.member.center
    report = report_for(center)
    measures = (INBOUND, COMPLETED, SAME_DAY_RATE, FIRST_RESPONSE, CONVERSATION)
    name = f"stats-{center.slug}-{report.first:%Y%m%d}-{report.last:%Y%m%d}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
    response.write("\ufeff")  # Excel reads a file as UTF-8 (the Korean header) only after this byte order mark
    writer = csv.writer(response)
    writer.writerow([_("Day"), *(_csv_heading(m) for m in measures)])
    for day in report.days:
        writer.writerow([day.day.isoformat(), *(_csv_cell(m, m.of(day.totals)) for m in measures)])
    return response
