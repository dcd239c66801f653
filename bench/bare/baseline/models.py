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


class Item(models.Model):
    """A row of a list: bench/console_bench.py's baseline reads 50 of one group, newest first, by the index."""

    group = models.IntegerField()
    title = models.CharField(max_length=100)
    preview = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "baseline"
        indexes = [models.Index(fields=["group", "-created_at"], name="item_group_created")]

    def __str__(self) -> str:
        return self.title
