"""What the project's own models tell the rest of the product, inside their transaction.

counsel_center sends these; consultations/receivers.py answers them (an Event
for the live updates). counsel_center never imports the apps above it.
"""

from django.dispatch import Signal

# center (its new is_operating saved), at (datetime): the center was stopped (운영 중지) or restarted
center_operating_changed = Signal()
