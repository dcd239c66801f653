"""Shared by the 통계 screen tests: a fixed "yesterday", and daily rows made by hand."""

from datetime import date

import pytest
from django.utils import timezone

from stats.models import DailyStat

LAST = date(2026, 3, 15)  # "yesterday" of the screen tests


@pytest.fixture
def fixed_yesterday(monkeypatch):
    """The screens' last day is LAST, whatever today is (the live server runs in this process too)."""
    monkeypatch.setattr("stats.report.last_finished_day", lambda center, now=None: LAST)
    return LAST


@pytest.fixture
def stat():
    """Make one center's row of a day with the given numbers (the rest zero)."""

    def make(center, day: date, **numbers) -> DailyStat:
        return DailyStat.objects.create(center=center, day=day, rolled_up_at=timezone.now(), **numbers)

    return make
