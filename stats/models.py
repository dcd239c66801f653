"""Daily rollups of a center's consultations (SPEC §6, docs/stats.md).

One row per center per local day holds counts and sums, never averages: any
range's average is its sums divided by its counts (an average of averages
would weigh a quiet day like a busy one). The conversation time's count is
`completed`: the same consultations (closed that day, answered).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from counsel_center.models import Center


class DailyStatQuerySet(models.QuerySet):
    def for_range(self, center: Center, first, last):
        """The center's rows from `first` to `last` (dates, both included), oldest first."""
        return self.filter(center=center, day__gte=first, day__lte=last).order_by("day")


class DailyStat(models.Model):
    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="daily_stats", verbose_name=_("center"))
    day = models.DateField(_("day"), help_text=_("In the center's time zone."))
    inbound = models.PositiveIntegerField(_("inbound"), default=0)
    completed = models.PositiveIntegerField(_("completed"), default=0)
    closed_same_day = models.PositiveIntegerField(_("of the inbound, closed the same day"), default=0)
    first_response_count = models.PositiveIntegerField(_("first responses"), default=0)
    first_response_seconds = models.PositiveBigIntegerField(_("first response time, total seconds"), default=0)
    conversation_seconds = models.PositiveBigIntegerField(_("conversation time, total seconds"), default=0)
    rolled_up_at = models.DateTimeField(_("rolled up at"))

    objects = DailyStatQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily statistics")
        verbose_name_plural = _("daily statistics")
        ordering = ["center", "day"]
        constraints = [
            models.UniqueConstraint(fields=["center", "day"], name="dailystat_one_row_per_center_day"),
            models.CheckConstraint(
                condition=models.Q(closed_same_day__lte=models.F("inbound")), name="dailystat_same_day_within_inbound"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.day}"
