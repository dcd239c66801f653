"""Read-only admin for consultations and their event log, scoped to the user's centers (R2).

Consultations change only through consultations.lifecycle, from the console;
here masters and managers look things up. Nobody, superusers included, adds,
changes or deletes a consultation, a message or an event in the admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from counsel_center.admin_scoping import ADMIN_ROLES, CenterScopedAdmin, CenterScopedRelatedFilter, ReadOnlyInline

from .models import Attachment, Consultation, Event, Message


class ReadOnlyAdmin(CenterScopedAdmin, admin.ModelAdmin):
    view_roles = ADMIN_ROLES
    # A consultation with 100,000s of siblings: one COUNT per changelist page is enough.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "sender", "kind", "text", "file", "author", "delivery_state", "delivery_attempts")
    readonly_fields = ("file",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("author__user", "attachment")

    @admin.display(description=_("file"))
    def file(self, obj: Message) -> str:
        """The attachment's name and size, linked to the download view that checks the center (R15)."""
        try:
            attachment = obj.attachment
        except Attachment.DoesNotExist:
            return "—"
        return format_html(
            '<a href="{}?download=1">{}</a> ({})',
            reverse("file-download", args=[attachment.pk]),
            attachment.name,
            filesizeformat(attachment.size),
        )


class EventInline(ReadOnlyInline):
    model = Event
    fk_name = "consultation"
    fields = ("created_at", "kind", "actor", "data")
    verbose_name_plural = _("history")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor__user")


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "customer_name",
        "status",
        "assignee",
        "is_important",
        "is_on_hold",
        "requested_at",
        "last_activity_at",
        "close_reason",
    )
    list_filter = (
        "status",
        "is_important",
        "is_on_hold",
        ("assignee", CenterScopedRelatedFilter),
        "close_reason",
    )
    list_select_related = ("customer", "assignee__user")
    search_fields = ("public_id", "customer__nickname", "customer__profile_nickname", "customer__customer_id")
    readonly_fields = ("public_id",)
    fieldsets = (
        (None, {"fields": ("public_id", "center", "customer", "status", "assignee", "is_important", "is_on_hold")}),
        (
            _("Times"),
            {
                "fields": (
                    "requested_at",
                    "assigned_at",
                    "first_response_at",
                    "last_activity_at",
                    "closed_at",
                    "close_reason",
                    "closed_by",
                )
            },
        ),
    )
    inlines = (MessageInline, EventInline)

    @admin.display(description=_("customer"), ordering="customer__nickname")
    def customer_name(self, obj: Consultation) -> str:
        return obj.customer.display_name


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "consultation", "customer", "actor")
    list_filter = ("kind",)
    list_select_related = ("consultation", "customer", "actor__user")
    search_fields = ("=consultation__public_id", "=customer__customer_id")
    fields = ("created_at", "kind", "center", "consultation", "customer", "actor", "data")


from . import admin_assist  # noqa: E402, F401 - registers the Q&A and template admins
