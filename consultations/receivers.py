"""The consultations' answers to customers' rules (customers/signals.py) and to the center's own changes
(counsel_center/signals.py), inside the same transaction."""

from django.dispatch import receiver

from counsel_center.signals import center_operating_changed
from customers.signals import customer_blocked, customer_unblocked, customer_updated, report_queued

from . import lifecycle


@receiver(customer_blocked, dispatch_uid="consultations.close_on_block")
def close_on_block(sender, *, customer, block, report, actor, at, **kwargs) -> None:
    lifecycle.on_customer_blocked(customer, block=block, report=report, actor=actor, at=at)


@receiver(customer_unblocked, dispatch_uid="consultations.record_unblock")
def record_unblock(sender, *, customer, block, actor, at, **kwargs) -> None:
    lifecycle.on_customer_unblocked(customer, block=block, actor=actor, at=at)


@receiver(customer_updated, dispatch_uid="consultations.record_update")
def record_update(sender, *, customer, actor, at, fields, **kwargs) -> None:
    lifecycle.on_customer_updated(customer, actor=actor, at=at, fields=fields)


@receiver(report_queued, dispatch_uid="consultations.queue_report")
def queue_report(sender, *, report, actor, at, **kwargs) -> None:
    lifecycle.on_report_queued(report)


@receiver(center_operating_changed, dispatch_uid="consultations.record_center_state")
def record_center_state(sender, *, center, at, **kwargs) -> None:
    lifecycle.on_center_operating_changed(center, at=at)
