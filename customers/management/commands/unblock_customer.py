"""`manage.py unblock_customer`: end a customer's block from the shell (R17), through customers/rules.py."""

from django.core.management.base import BaseCommand, no_translations

from customers import rules
from customers.management import lookups


class Command(BaseCommand):
    help = "Unblock a blocked customer of a center: their messages are received again. The block stays in history."

    def add_arguments(self, parser) -> None:
        parser.add_argument("center", metavar="CENTER_SLUG", help="The center's slug, as in its webhook URL.")
        parser.add_argument("customer_id", metavar="CUSTOMER_ID", help="The customer ID the console shows.")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="Unblock as this active member of the center; only masters and managers may. Default: the operator.",
        )

    @no_translations  # operators' tool: messages in English, names as stored
    def handle(self, *args, center: str, customer_id: str, by: str | None, **options) -> None:
        center_ = lookups.center_by_slug(center)
        customer = lookups.customer_of(center_, customer_id)
        actor = lookups.member_of(center_, by) if by is not None else None
        with lookups.refusals_as_errors():
            block = rules.do_unblock_customer(customer, actor=actor)
        self.stdout.write(
            f"Unblocked {customer.display_name} ({customer.customer_id}), by {lookups.actor_name(actor)}; "
            f"blocked for {block.get_reason_display()} since {lookups.local_iso(block.blocked_at, center_)}."
        )
