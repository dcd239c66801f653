from django.db import models


class Hit(models.Model):
    """One received event; the unique event id gives the insert the same index work as ChannelEvent."""

    event_id = models.CharField(max_length=200, unique=True)
    user_key = models.CharField(max_length=200)
    text = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.event_id
