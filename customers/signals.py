"""What customers' rules tell the rest of the product, inside their transaction.

customers/rules.py sends these; consultations/receivers.py answers them (a
blocked customer's open consultation closes, every change is an Event for the
live updates). customers never imports consultations: the dependency runs
one way (DESIGN.md), and a receiver's error rolls the whole change back.
"""

from django.dispatch import Signal

# customer, actor (Member or None), at (datetime), fields (names changed)
customer_updated = Signal()
# customer, block, report (a Report, or None when not reported), actor, at
customer_blocked = Signal()
# customer, block, actor, at
customer_unblocked = Signal()
# report, actor, at: a report to send (again) through the outbound channel once the transaction commits
report_queued = Signal()
