"""The channel (SPEC §7, docs/channel.md): how the center talks to the messaging channel, both ways.

- `webhook`: the view `POST /channel/<slug>/events`, the channel's way in;
- `inbound`: the inbound event JSON, parsed and validated (no database);
- `signing`: the request signature, used both ways;
- `delivery`: agent messages out, by Celery task, retried;
- `report_delivery`: reports (신고) out, the same way;
- `file_links`: signed links to an agent's file, and `channel_file`, the view
  that serves them to the channel without a session.

The Celery tasks keep the names they had before this package existed
(`consultations.delivery.*`, `consultations.report_delivery.*`), so tasks
already queued still run; so do the loggers.

This `__init__` imports nothing: `lifecycle` imports `delivery` late, and
these modules import the models and `lifecycle`.
"""
