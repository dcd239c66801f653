"""Customers of a center and their blocks (고객 차단, R16).

Edits and blocks are written through customers/rules.py; the customer record
itself is created by consultations.lifecycle on first contact.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from counsel_center.models import Center, Member

# Crockford-style alphabet: no 0/O, 1/I/L confusion when read out on the phone.
_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_customer_id() -> str:
    return "C" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


class CustomerQuerySet(models.QuerySet):
    def with_block_state(self) -> "CustomerQuerySet":
        """Annotate `is_blocked_now` without a query per row."""
        return self.annotate(
            is_blocked_now=models.Exists(Block.objects.active().filter(customer=models.OuterRef("pk")))
        )


class Customer(models.Model):
    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="customers", verbose_name=_("center"))
    user_key = models.CharField(_("channel user key"), max_length=200, help_text=_("The channel's stable key."))
    customer_id = models.CharField(_("customer ID"), max_length=20, default=new_customer_id, editable=False)
    profile_nickname = models.CharField(_("KakaoTalk profile nickname"), max_length=100, blank=True)
    nickname = models.CharField(
        _("customer nickname"), max_length=100, blank=True, help_text=_("Internal only; never shown to the customer.")
    )
    memo = models.TextField(_("customer memo"), blank=True, max_length=5000)
    memo_updated_by = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("memo last edited by"),
    )
    memo_updated_at = models.DateTimeField(_("memo last edited at"), null=True, blank=True)
    is_friend = models.BooleanField(_("channel friend"), default=False)
    # R16: messages of a blocked customer are refused, and counted here.
    blocked_attempts = models.PositiveIntegerField(_("refused messages while blocked"), default=0)
    last_blocked_attempt_at = models.DateTimeField(_("last refused message"), null=True, blank=True)
    created_at = models.DateTimeField(_("first contact"), default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["center", "user_key"], name="customer_unique_user_key"),
            models.UniqueConstraint(fields=["center", "customer_id"], name="customer_unique_customer_id"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.customer_id})"

    @property
    def display_name(self) -> str:
        """The internal nickname once set, else the KakaoTalk profile name (SPEC §3)."""
        return self.nickname or self.profile_nickname or self.customer_id

    @property
    def is_blocked(self) -> bool:
        annotated = getattr(self, "is_blocked_now", None)
        if annotated is not None:
            return annotated
        return self.blocks.active().exists()


class BlockQuerySet(models.QuerySet):
    def active(self) -> "BlockQuerySet":
        """The blocks in force: not ended (R16). The one place this condition is written."""
        return self.filter(ended_at__isnull=True)

    def for_list(self, center) -> "BlockQuerySet":
        """A center's blocks with their customer and blocker, newest first: one query for a list."""
        return (
            self.filter(customer__center=center)
            .select_related("customer", "blocked_by__user", "report")
            .order_by("-blocked_at", "-pk")
        )


class Block(models.Model):
    """One block of a customer; ending it keeps the row, so history is kept."""

    class Reason(models.TextChoices):
        ABUSE = "abuse", _("Abuse (욕설)")
        PROMOTION = "promotion", _("Promotion (홍보)")
        OBSCENE = "obscene", _("Obscene (음란)")
        GAMBLING = "gambling", _("Gambling (도박)")

    # R16: reporting to the channel operator is allowed only for these.
    REPORTABLE = (Reason.OBSCENE, Reason.GAMBLING)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("customer"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    blocked_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("blocked by")
    )
    blocked_at = models.DateTimeField(_("blocked at"))
    ended_at = models.DateTimeField(_("unblocked at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("unblocked by")
    )

    objects = BlockQuerySet.as_manager()

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-blocked_at"]
        constraints = [
            # At most one active block per customer, enforced by the database.
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(ended_at__isnull=True), name="block_one_active_per_customer"
            ),  # the database's copy of BlockQuerySet.active(), as a constraint must be
        ]

    def __str__(self) -> str:
        return f"{self.customer} — {self.get_reason_display()}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Report(models.Model):
    """A block reported (신고) to the channel operator, for 음란 or 도박 only (R16), and its delivery.

    Who, when, why and the note are the block's; the report adds the excerpt
    the operator reads and the state of its delivery through the outbound
    channel (consultations/channel/report_delivery.py), retried with backoff like an
    agent's message.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    block = models.OneToOneField(Block, on_delete=models.CASCADE, related_name="report", verbose_name=_("block"))
    # The customer's last messages before the block, oldest first: [{"sent_at", "kind", "text", "file"}].
    excerpt = models.JSONField(_("excerpt"), default=list, blank=True)
    delivery_state = models.CharField(_("delivery"), max_length=10, choices=State.choices, default=State.PENDING)
    delivery_attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivery_error = models.CharField(_("last delivery error"), max_length=500, blank=True)
    delivery_due_at = models.DateTimeField(_("next delivery attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            # The stalled-delivery sweep reads only pending reports.
            models.Index(
                fields=["delivery_due_at"],
                condition=models.Q(delivery_state="pending"),
                name="report_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.block} — {self.get_delivery_state_display()}"

    @property
    def is_waiting(self) -> bool:
        """Pending with no attempt due: it was filed while the center had no outbound URL."""
        return self.delivery_state == self.State.PENDING and self.delivery_due_at is None

    @property
    def may_be_sent_again(self) -> bool:
        return self.delivery_state == self.State.FAILED or self.is_waiting
