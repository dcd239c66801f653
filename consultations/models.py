"""Consultations (상담), their messages, and the append-only Event log.

State, assignee and flags are written only by consultations.lifecycle; the
models describe the data and offer read-side QuerySet methods.
"""

import secrets

from django.core.exceptions import SuspiciousFileOperation
from django.db import models
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from counsel_center.models import Center, Member
from customers.models import Customer

_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_TEMPLATE_LENGTH = 10_000  # a template fills the composer, whose messages are at most 10,000 characters


def new_public_id() -> str:
    # Random rather than sequential: an ID read off a screen reveals nothing
    # about volume and cannot be enumerated.
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


class Status(models.TextChoices):
    UNASSIGNED = "unassigned", _("Unassigned")  # 할당 전
    WAITING = "waiting", _("Waiting")  # 대기
    IN_PROGRESS = "in_progress", _("In progress")  # 상담 중
    CLOSED = "closed", _("Closed")  # 종료


OPEN_STATUSES = (Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS)


class CloseReason(models.TextChoices):
    CUSTOMER_END = "customer_end", _("The customer sent !종료")  # R9.1
    CHATBOT_SWITCH = "chatbot_switch", _("The customer switched to the chatbot")  # R9.2
    AGENT = "agent", _("Closed by a member")  # R9.3
    IDLE_TIMEOUT = "idle_timeout", _("No answer from the customer (idle timeout)")  # R9.4
    CUSTOMER_BLOCKED = "customer_blocked", _("The customer was blocked")  # R9.5


class ConsultationQuerySet(models.QuerySet):
    def open(self) -> "ConsultationQuerySet":
        return self.exclude(status=Status.CLOSED)

    def waiting_for(self, member: Member) -> "ConsultationQuerySet":
        return self.filter(assignee=member, status=Status.WAITING)

    def in_progress_for(self, member: Member) -> "ConsultationQuerySet":
        return self.filter(assignee=member, status=Status.IN_PROGRESS)

    def for_list(self, member: Member, scope: str) -> "ConsultationQuerySet":
        """The console's lists (상담목록): 내 상담 ("mine") or 전체 상담 ("all") of the member's center.

        Joined with what a row shows (customer, assignee, last message), so a
        page of rows is one query whatever its length.
        """
        queryset = self.filter(center_id=member.center_id)
        if scope == "mine":
            queryset = queryset.filter(assignee=member)
        # How far this member has read each row, for the unread mark (`is_unread`).
        read_upto = ReadMark.objects.filter(member=member, consultation=models.OuterRef("pk"))
        return (
            queryset.select_related("customer", "assignee__user", "last_message")
            .annotate(read_upto=models.Subquery(read_upto.values("last_read_message_id")[:1]))
            .order_by("-last_activity_at", "-id")
        )


class Consultation(models.Model):
    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="consultations", verbose_name=_("center"))
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consultations", verbose_name=_("customer")
    )
    public_id = models.CharField(
        _("consultation ID"), max_length=20, unique=True, default=new_public_id, editable=False
    )
    status = models.CharField(_("state"), max_length=12, choices=Status.choices, default=Status.UNASSIGNED)
    assignee = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        # RESTRICT, not PROTECT: a member with consultations cannot be deleted
        # alone (deactivate instead), but deleting the whole center still cascades.
        on_delete=models.RESTRICT,
        related_name="assigned_consultations",
        verbose_name=_("assignee"),
    )
    is_important = models.BooleanField(_("important"), default=False)
    is_on_hold = models.BooleanField(_("on hold"), default=False)
    requested_at = models.DateTimeField(_("requested at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=20, choices=CloseReason.choices, blank=True)
    closed_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("closed by")
    )
    # Denormalised for the lists (preview, newest activity first) and for the
    # idle sweep (R9.4 needs "the last message was the assignee's").
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("last message")
    )
    last_activity_at = models.DateTimeField(_("last activity"))

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            # 전체 상담 tabs: one state of one center, newest activity first.
            models.Index(fields=["center", "status", "-last_activity_at"], name="cons_center_status_activity"),
            # 내 상담 tabs, and the per-member limit counts of R5/R7.
            models.Index(fields=["assignee", "status", "-last_activity_at"], name="cons_assignee_status_activity"),
            # The idle sweep scans only in-progress rows.
            models.Index(fields=["status", "is_on_hold"], name="cons_status_hold"),
            # The status filters 중요 / 보류 (and 중요/보류, through either): small partial copies of the two
            # list indexes, so a flag's tab counts and pages read only its rows (docs/perf.md).
            models.Index(
                fields=["center", "status", "-last_activity_at"],
                condition=models.Q(is_important=True),
                name="cons_center_important",
            ),
            models.Index(
                fields=["center", "status", "-last_activity_at"],
                condition=models.Q(is_on_hold=True),
                name="cons_center_hold",
            ),
            models.Index(
                fields=["assignee", "status", "-last_activity_at"],
                condition=models.Q(is_important=True),
                name="cons_assignee_important",
            ),
            models.Index(
                fields=["assignee", "status", "-last_activity_at"],
                condition=models.Q(is_on_hold=True),
                name="cons_assignee_hold",
            ),
            # The daily statistics (stats/rollup.py) read one center's consultations by each of
            # the three moments a day counts: requested, first answered, closed.
            models.Index(fields=["center", "requested_at"], name="cons_center_requested"),
            models.Index(fields=["center", "first_response_at"], name="cons_center_first_response"),
            models.Index(fields=["center", "closed_at"], name="cons_center_closed"),
        ]
        constraints = [
            # R3: a customer has at most one open consultation, whatever races.
            models.UniqueConstraint(
                fields=["customer"],
                condition=~models.Q(status=Status.CLOSED),
                name="cons_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=[Status.WAITING, Status.IN_PROGRESS], assignee__isnull=True),
                name="cons_assigned_states_have_assignee",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=Status.UNASSIGNED, assignee__isnull=False),
                name="cons_unassigned_has_no_assignee",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_on_hold=True, status__in=[Status.UNASSIGNED, Status.WAITING]),
                name="cons_hold_only_once_started",
            ),
            models.CheckConstraint(
                condition=models.Q(status=Status.CLOSED, closed_at__isnull=False)
                | (~models.Q(status=Status.CLOSED) & models.Q(closed_at__isnull=True)),
                name="cons_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    def is_unread_for(self, member: Member) -> bool:
        """A customer message came after the member last looked (needs `for_list`'s `read_upto`, their read mark).

        Only while the consultation is open: a closed one takes no more messages (the customer's next one opens a
        new consultation, R3, marked in its turn), so the 종료 tab, the center's whole history, carries no marks.
        A member who never opened it is waited on only when it is theirs or nobody's yet (할당 전); another
        member's consultation is marked for them once they have looked at it, as they then follow it.
        """
        last = self.last_message
        if self.status == Status.CLOSED or last is None or last.sender != Message.Sender.CUSTOMER:
            return False
        read_upto = getattr(self, "read_upto", None)
        if read_upto is None:
            return self.assignee_id is None or self.assignee_id == member.pk
        return read_upto < last.pk


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # No outbound URL: the message stays inside, for the customer simulator.
    LOCAL = "local", _("In the simulator")


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        FILE = "file", _("File")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("consultation")
    )
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"))
    channel_event_id = models.CharField(_("channel event ID"), max_length=200, blank=True)
    channel_sent_at = models.DateTimeField(_("sent at (channel)"), null=True, blank=True)
    # Outbound delivery of agent messages (SPEC §7); empty for customer and system lines.
    delivery_state = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryState.choices, blank=True, default=""
    )
    delivery_attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivery_error = models.CharField(_("last delivery error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # While pending: when the next attempt is due, or when a running attempt is
    # given up for lost. The stalled-delivery sweep re-queues messages past it.
    delivery_due_at = models.DateTimeField(_("next delivery attempt"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["consultation", "id"], name="msg_consultation_id"),
            models.Index(
                fields=["delivery_due_at"],
                condition=models.Q(delivery_state="pending"),
                name="msg_pending_delivery_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(sender="agent", author__isnull=True), name="msg_agent_message_has_author"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.text[:40]}"


class TransactionId(models.Func):
    """The id of the transaction that inserts the row: PostgreSQL's `pg_current_xact_id()`, as a bigint.

    An xid8 is a 64-bit counter that never wraps, so the bigint orders as the
    ids do. On SQLite it is 0: writers there take turns (IMMEDIATE
    transactions), so Event ids alone follow commit order.
    """

    template = "pg_current_xact_id()::text::bigint"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "0", []


class Event(models.Model):
    """Append-only log of every transition and message (R12).

    Rows are never updated or deleted by the application. `(xid, id)` is the
    live-update stream's order and cursor (consultations/live/feed.py): on
    PostgreSQL every transaction below the oldest one still running has ended,
    so the Events below it are final, whatever order their transactions
    committed in.
    """

    class Kind(models.TextChoices):
        CREATED = "consultation.created", _("Consultation opened")
        ASSIGNED = "consultation.assigned", _("Assigned")
        ASSIGNEE_CHANGED = "consultation.assignee_changed", _("Assignee changed")
        STARTED = "consultation.started", _("Consultation started")
        CLOSED = "consultation.closed", _("Consultation closed")
        IMPORTANT_SET = "consultation.important", _("Important flag changed")
        HOLD_SET = "consultation.hold", _("Hold flag changed")
        MESSAGE = "message.created", _("Message")
        DELIVERY = "message.delivery", _("Delivery state changed")
        FILE_READY = "message.file_ready", _("Thumbnail made")
        CUSTOMER_UPDATED = "customer.updated", _("Customer details edited")
        CUSTOMER_BLOCKED = "customer.blocked", _("Customer blocked")
        CUSTOMER_UNBLOCKED = "customer.unblocked", _("Customer unblocked")
        CENTER_CHANGED = "center.changed", _("Center stopped or restarted")

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="events", verbose_name=_("center"))
    consultation = models.ForeignKey(
        Consultation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("consultation"),
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    created_at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Set by the database as the row is inserted (db_default): the inserting transaction's id.
    xid = models.BigIntegerField(_("transaction"), db_default=TransactionId(), editable=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["id"]
        # The stream's reads: a center's Events after a cursor, in (xid, id) order (one index seek).
        indexes = [models.Index(fields=["center", "xid", "id"], name="event_center_stream_order")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Events are append-only.")
        super().save(*args, **kwargs)


def attachment_storage_name(center_id: int, filename: str) -> str:
    """Where a center's file is stored: a random folder per file, under a sanitised name.

    The folder is unguessable and names never collide; the name as sent is kept
    in `Attachment.name` for display and download.
    """
    try:
        safe = get_valid_filename(filename)
    except SuspiciousFileOperation:  # "", ".", ".."
        safe = "file"
    # File systems cap a name at 255 bytes, not characters: keep the extension
    # and cut the stem to fit 120 bytes of UTF-8.
    stem, dot, extension = safe.rpartition(".")
    if not dot or len(extension.encode()) > 16:
        stem, dot, extension = safe, "", ""
    budget = 120 - len(dot + extension)
    stem = stem.encode()[:budget].decode("utf-8", "ignore") or "file"
    safe = stem + dot + extension
    return f"attachments/{center_id}/{secrets.token_hex(16)}/{safe}"


def thumbnail_storage_name(center_id: int, extension: str) -> str:
    return f"thumbnails/{center_id}/{secrets.token_hex(16)}.{extension}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return attachment_storage_name(instance.message.consultation.center_id, filename)


class Attachment(models.Model):
    """The one file of a message (SPEC §4; the rules: file_policy, uploads, images).

    `file` is stored under a random path (`attachment_storage_name`); `name`
    is the name as sent, shown and given back on download. The message's kind
    is the file's category, `image` only for content Pillow verified (R15);
    such an image gets `thumbnail` from a task after commit.
    """

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="attachment", verbose_name=_("message")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    thumbnail = models.FileField(_("thumbnail"), max_length=300, blank=True)
    # A verified image whose thumbnail task has not finished: the sweep's (small, partial) index.
    thumbnail_pending = models.BooleanField(_("thumbnail pending"), default=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            models.Index(
                fields=["message"], condition=models.Q(thumbnail_pending=True), name="attachment_thumbnail_pending"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        """A verified image (R15): shown inline, with a thumbnail."""
        return self.message.kind == Message.Kind.IMAGE


class ChannelEvent(models.Model):
    """One accepted inbound webhook event, kept for idempotency (SPEC §7).

    A repeat of `event_id` in the same center is answered from `response`; the
    unique constraint makes two copies arriving at once give one winner.
    """

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+", verbose_name=_("center"))
    event_id = models.CharField(_("event ID"), max_length=200)
    type = models.CharField(_("type"), max_length=30)
    received_at = models.DateTimeField(_("received at"))
    response = models.JSONField(_("response"), default=dict)

    class Meta:
        verbose_name = _("channel event")
        verbose_name_plural = _("channel events")
        constraints = [models.UniqueConstraint(fields=["center", "event_id"], name="channel_event_unique_id")]

    def __str__(self) -> str:
        return self.event_id


class ReadMark(models.Model):
    """How far a member has read a consultation: rows with newer customer messages show as unread."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member"))
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="read_marks", verbose_name=_("consultation")
    )
    last_read_message_id = models.BigIntegerField(_("last read message"), default=0)

    class Meta:
        verbose_name = _("read mark")
        verbose_name_plural = _("read marks")
        constraints = [models.UniqueConstraint(fields=["member", "consultation"], name="readmark_unique")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.consultation}: {self.last_read_message_id}"


class QnA(models.Model):
    """A Q&A entry of the center's knowledge base, searched from the chat pane (SPEC §3 즐겨찾기)."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="qnas", verbose_name=_("center"))
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"), max_length=5000)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True, help_text=_("Separated by commas."))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Q&A")
        verbose_name_plural = _("Q&A")
        ordering = ["question"]
        indexes = [models.Index(fields=["center", "is_active"], name="qna_center_active")]

    def __str__(self) -> str:
        return self.question


class Template(models.Model):
    """A reply template (템플릿): previewed and inserted into the composer."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="templates", verbose_name=_("center"))
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("body"), max_length=MAX_TEMPLATE_LENGTH)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("template")
        verbose_name_plural = _("templates")
        ordering = ["title"]
        indexes = [models.Index(fields=["center", "is_active"], name="template_center_active")]

    def __str__(self) -> str:
        return self.title


class Favorite(models.Model):
    """A member's pinned Q&A search term or template (즐겨찾기), private to that member."""

    class Kind(models.TextChoices):
        QNA_TERM = "qna_term", _("Q&A search term")
        TEMPLATE = "template", _("Template")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    term = models.CharField(_("search term"), max_length=100, blank=True)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("template")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("favorite")
        verbose_name_plural = _("favorites")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "term"], condition=models.Q(kind="qna_term"), name="favorite_unique_term"
            ),
            models.UniqueConstraint(
                fields=["member", "template"], condition=models.Q(kind="template"), name="favorite_unique_template"
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="qna_term") & ~models.Q(term="") & models.Q(template__isnull=True))
                | (models.Q(kind="template") & models.Q(template__isnull=False)),
                name="favorite_kind_matches_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.term if self.kind == self.Kind.QNA_TERM else str(self.template)
