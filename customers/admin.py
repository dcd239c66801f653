"""Admin for customers and their blocks (R16, R17), scoped to the user's centers (R2).

Customers come from the channel, so nobody adds them here. Their nickname and
memo, and every block and unblock, are written by customers/rules.py, as
everywhere else; this module only collects the input and shows refusals.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from counsel_center.admin_scoping import ADMIN_ROLES, CenterScopedAdmin, ReadOnlyInline, with_attrs
from counsel_center.models import Member
from counsel_center.rules import Refused

from . import rules as customer_rules
from .models import Block, Customer

BOTH_LOCATIONS = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


def _unblock(model_admin: CenterScopedAdmin, request: HttpRequest, customers) -> None:
    """Unblock each customer through customers.rules and report what happened (R17)."""
    actor_for = model_admin.actor_for(request)
    actors: dict[int, Member | None] = {}
    done = 0
    for customer in customers:
        if customer.center_id not in actors:
            actors[customer.center_id] = actor_for(customer.center_id)
        try:
            customer_rules.do_unblock_customer(customer, actor=actors[customer.center_id])
        except Refused as refusal:
            model_admin.message_user(request, f"{customer}: {refusal.message}", messages.WARNING)
        else:
            done += 1
    if done:
        model_admin.message_user(
            request,
            ngettext_lazy("%(count)d customer was unblocked.", "%(count)d customers were unblocked.", done)
            % {"count": done},
            messages.SUCCESS,
        )


# --- customers ---------------------------------------------------------------------


class BlockedFilter(admin.SimpleListFilter):
    title = _("blocked")
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        # `is_blocked_now` is annotated by CustomerAdmin.get_queryset (with_block_state).
        if self.value() == "yes":
            return queryset.filter(is_blocked_now=True)
        if self.value() == "no":
            return queryset.filter(is_blocked_now=False)
        return queryset


class CustomerForm(forms.ModelForm):
    """Nickname and memo only; saved by customer_rules.do_update_customer, which records who edited the memo."""

    actor: Member | None = None  # set per request by CustomerAdmin.get_form

    class Meta:
        model = Customer
        fields = ("nickname", "memo")

    def clean(self):
        cleaned = super().clean()
        if self.actor is None:
            # customers.rules records the memo's editor as a member; a superuser outside the center has none.
            raise ValidationError(
                _("Only a member of this customer's center can edit the customer."), code="not_member"
            )
        return cleaned


class BlockInline(ReadOnlyInline):
    model = Block
    fields = ("reason", "note", "blocked_by", "blocked_at", "ended_at", "ended_by")
    verbose_name_plural = _("block history")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("blocked_by__user", "ended_by__user")


@admin.register(Customer)
class CustomerAdmin(CenterScopedAdmin, admin.ModelAdmin):
    view_roles = ADMIN_ROLES
    change_roles = ADMIN_ROLES
    # delete: superusers only (add: nobody, see has_add_permission)

    form = CustomerForm
    list_display = ("customer_id", "name", "profile_nickname", "is_friend", "blocked", "created_at")
    list_display_links = ("customer_id", "name")
    list_filter = (BlockedFilter, "is_friend")
    list_select_related = ()
    search_fields = ("customer_id", "nickname", "profile_nickname", "user_key")
    readonly_fields = (
        "blocked_attempts",
        "last_blocked_attempt_at",
        "customer_id",
        "center",
        "profile_nickname",
        "is_friend",
        "blocked",
        "created_at",
        "memo_updated_by",
        "memo_updated_at",
        "user_key",
    )
    fieldsets = (
        (None, {"fields": ("customer_id", "center", "profile_nickname", "is_friend", "blocked", "created_at")}),
        (_("Internal"), {"fields": ("nickname", "memo", "memo_updated_by", "memo_updated_at")}),
        (_("Channel"), {"fields": ("user_key", "blocked_attempts", "last_blocked_attempt_at")}),
    )
    inlines = (BlockInline,)
    actions = ("unblock_customers",)

    @admin.display(description=_("name"), ordering="nickname")
    def name(self, obj: Customer) -> str:
        return obj.display_name

    @admin.display(description=_("blocked"), boolean=True, ordering="is_blocked_now")
    def blocked(self, obj: Customer) -> bool:
        return obj.is_blocked

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).with_block_state().select_related("memo_updated_by__user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers come from the channel (R3); consultations.lifecycle creates them on first contact

    def has_unblock_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, ADMIN_ROLES)

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return with_attrs(form, actor=self.actor_for(request)(obj.center_id) if obj is not None else None)

    def save_model(self, request: HttpRequest, obj: Customer, form, change: bool) -> None:
        # Never obj.save(): customers.rules writes the fields, stamps the memo's editor, and the Event follows (R12).
        customer_rules.do_update_customer(
            obj, actor=form.actor, nickname=form.cleaned_data["nickname"], memo=form.cleaned_data["memo"]
        )

    @admin.action(description=_("Unblock selected customers"), permissions=["unblock"], location=BOTH_LOCATIONS)
    def unblock_customers(self, request: HttpRequest, queryset) -> None:
        _unblock(self, request, queryset)


# --- blocks ---------------------------------------------------------------------------


class ActiveBlockFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.active()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.active().values("pk"))
        return queryset


class BlockAddForm(forms.ModelForm):
    """Block a customer (R16). Validating the form *is* the block.

    The admin has no hook between validation and saving that can still show an
    error, and "already blocked" is decided only under the rules' lock. So
    clean() calls customer_rules.do_block_customer, which closes the customer's open
    consultation (R9.5), and turns a refusal into a form error; the admin's save
    then has nothing left to write. It runs inside the admin's POST transaction,
    and this form has no inlines that could fail after it.
    """

    actor_for: Callable[[int], Member | None]  # set per request by BlockAdmin.get_form
    report = forms.BooleanField(
        label=_("Also report to the channel operator (obscene or gambling only)"), required=False
    )

    class Meta:
        model = Block
        fields = ("customer", "reason", "note", "report")

    def clean(self):
        # Not super().clean(): its constraint check would refuse an active block in Django's generic words;
        # customers.rules refuses it with our message.
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        customer = cleaned["customer"]
        try:
            self.instance = customer_rules.do_block_customer(
                customer,
                actor=self.actor_for(customer.center_id),
                reason=cleaned["reason"],
                note=cleaned.get("note", ""),
                report=cleaned.get("report", False),
            )
        except Refused as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from refusal
        return cleaned


@admin.register(Block)
class BlockAdmin(CenterScopedAdmin, admin.ModelAdmin):
    center_field = "customer__center"
    view_roles = ADMIN_ROLES
    add_roles = ADMIN_ROLES
    # change and delete: nobody; a block row is history, ended by unblocking (R17)

    form = BlockAddForm
    list_display = ("customer", "reason", "blocked_by", "blocked_at", "ended_at", "active", "report_state")
    list_filter = (ActiveBlockFilter, "reason")
    list_select_related = ("customer", "blocked_by__user", "report")
    search_fields = ("customer__customer_id", "customer__nickname", "customer__profile_nickname")
    autocomplete_fields = ("customer",)
    actions = ("unblock",)

    @admin.display(description=_("active"), boolean=True, ordering="ended_at")
    def active(self, obj: Block) -> bool:
        return obj.is_active

    @admin.display(description=_("report"))
    def report_state(self, obj: Block) -> str:
        report = getattr(obj, "report", None)
        return report.get_delivery_state_display() if report else "—"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("customer", "blocked_by__user", "ended_by__user", "report")

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ("customer", "reason", "note", "report")
        return ("customer", "reason", "note", "blocked_by", "blocked_at", "ended_at", "ended_by", "report_state")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_unblock_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, ADMIN_ROLES)

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return with_attrs(form, actor_for=staticmethod(self.actor_for(request)))

    def save_model(self, request: HttpRequest, obj: Block, form, change: bool) -> None:
        """Nothing to write: BlockAddForm.clean() blocked the customer through customers.rules."""

    @admin.action(description=_("Unblock the customers of the selected blocks"), permissions=["unblock"])
    def unblock(self, request: HttpRequest, queryset) -> None:
        customers = [block.customer for block in queryset.active()]
        if not customers:
            self.message_user(request, _("None of the selected blocks is active."), messages.WARNING)
            return
        _unblock(self, request, customers)
