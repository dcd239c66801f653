"""`manage.py block_customer`: block a customer from the shell (R16, R17), through customers/rules.py."""

from django.core.management.base import BaseCommand, no_translations

from customers import rules
from customers.management import lookups
from customers.models import Block


class Command(BaseCommand):
    help = (
        "Block a customer of a center. Their open consultation, if any, is closed at once, and their messages "
        "are refused until they are unblocked (manage.py unblock_customer)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("center", metavar="CENTER_SLUG", help="The center's slug, as in its webhook URL.")
        parser.add_argument("customer_id", metavar="CUSTOMER_ID", help="The customer ID the console shows.")
        parser.add_argument(
            "--reason",
            required=True,
            choices=Block.Reason.values,
            help="Why: abuse (욕설), promotion (홍보), obscene (음란) or gambling (도박).",
        )
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="Block as this active member of the center: an agent may block only the customer of an open "
            "consultation assigned to them, masters and managers any customer. Default: the operator.",
        )
        parser.add_argument("--note", default="", help="A note kept with the block (up to 2000 characters).")
        parser.add_argument(
            "--report",
            action="store_true",
            help="Also report them to the channel operator, with their last 20 messages (obscene and gambling "
            "only; refused for abuse and promotion). Sent through the center's outbound URL.",
        )

    @no_translations  # operators' tool: messages in English, names as stored
    def handle(
        self, *args, center: str, customer_id: str, reason: str, by: str | None, note: str, report: bool, **options
    ):
        center_ = lookups.center_by_slug(center)
        customer = lookups.customer_of(center_, customer_id)
        actor = lookups.member_of(center_, by) if by is not None else None
        # For the message only: the rule itself closes what is open under its lock.
        open_one = customer.consultations.filter(closed_at__isnull=True).first()
        with lookups.refusals_as_errors():
            block = rules.do_block_customer(customer, actor=actor, reason=reason, note=note, report=report)
        outcome = f"their open consultation {open_one} was closed" if open_one else "they had no open consultation"
        self.stdout.write(
            f"Blocked {customer.display_name} ({customer.customer_id}) for {block.get_reason_display()}, "
            f"by {lookups.actor_name(actor)}; {outcome}."
        )
        if report:
            where = "" if center_.outbound_url else " (no outbound URL is set: it waits)"
            self.stdout.write(f"Reported to the channel operator; delivery {block.report.delivery_state}{where}.")
