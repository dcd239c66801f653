"""Event.xid: the inserting transaction's id, the live-update stream's order (docs/architecture.md, "Live updates").

On PostgreSQL the rows already there all get the id of the transaction that
runs this migration, so they keep their id order among themselves and come
before every later Event. On SQLite the column is 0 (writers take turns, ids
follow commit order). The stream's index becomes (center, xid, id).
"""

from django.db import migrations, models

import consultations.models


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0007_attachment_image_and_thumbnail"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="event",
            name="event_center_cursor",
        ),
        migrations.AddField(
            model_name="event",
            name="xid",
            field=models.BigIntegerField(
                db_default=consultations.models.TransactionId(), editable=False, verbose_name="transaction"
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["center", "xid", "id"], name="event_center_stream_order"),
        ),
    ]
