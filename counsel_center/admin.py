"""Admin for centers and their members, scoped to the user's own centers (R2).

Masters edit their center's settings and its members; managers may look;
only superusers create or delete centers.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_scoping import ADMIN_ROLES, MASTER_ONLY, CenterScopedAdmin, is_superuser
from .forms import CenterForm, MemberChangeForm, MemberCreationForm, announce_operating_change, sync_staff_flag
from .login_throttle import with_login_failures
from .models import Center, Member

# --- centers ------------------------------------------------------------------------


@admin.register(Center)
class CenterAdmin(CenterScopedAdmin, admin.ModelAdmin):
    center_field = "pk"
    view_roles = ADMIN_ROLES
    change_roles = MASTER_ONLY
    # add and delete: superusers only (no roles grant them)

    form = CenterForm
    list_display = ("name", "slug", "is_operating", "concurrent_limit", "idle_close_minutes", "time_zone")
    list_filter = ("is_operating",)
    search_fields = ("name", "slug")

    def get_fieldsets(self, request: HttpRequest, obj=None):
        channel = ["outbound_url"]
        # The webhook secret signs customer events: only those who may change the center see it.
        if obj is None or self.has_change_permission(request, obj):
            channel.append("webhook_secret")
        return [
            (None, {"fields": ("name", "slug", "is_operating", "created_at")}),
            (_("Consultations"), {"fields": ("concurrent_limit", "idle_close_minutes", "time_zone")}),
            (_("Channel"), {"fields": channel}),
        ]

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # Open consoles show the new state at once (an Event, in the admin's transaction).
            announce_operating_change(obj, form.changed_data)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if is_superuser(request):
            return ("created_at",)
        # The slug is in the channel's webhook URL: changing it breaks the channel, so only operators may.
        return ("slug", "created_at")


# --- members -------------------------------------------------------------------------


@admin.register(Member)
class MemberAdmin(CenterScopedAdmin, admin.ModelAdmin):
    view_roles = ADMIN_ROLES
    add_roles = MASTER_ONLY
    change_roles = MASTER_ONLY
    # delete: superusers only; masters deactivate instead, which keeps the member's history.

    form = MemberChangeForm
    add_form = MemberCreationForm
    list_display = ("member_name", "username", "role", "can_consult", "is_active", "login_locked", "created_at")
    actions = ["unlock_login"]
    list_filter = ("role", "can_consult", "is_active")
    list_select_related = ("user",)
    search_fields = ("display_name", "user__username", "user__first_name", "user__last_name", "user__email")
    fieldsets = (
        (None, {"fields": ("center", "username", "display_name")}),
        (_("Role"), {"fields": ("role", "can_consult", "is_active", "created_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("center", "username", "display_name", "password1", "password2")}),
        (_("Role"), {"fields": ("role", "can_consult")}),
    )

    @admin.display(description=_("name"), ordering="display_name")
    def member_name(self, obj: Member) -> str:
        return obj.name

    # A method, not "user__username": Django labels a lookup column "User  username", in English only.
    @admin.display(description=_("username"), ordering="user__username")
    def username(self, obj: Member) -> str:
        return obj.user.get_username()

    @admin.display(description=_("login locked"), boolean=True)
    def login_locked(self, obj: Member) -> bool:
        return obj.login_failures >= settings.AXES_FAILURE_LIMIT

    @admin.action(description=_("Unlock login"), permissions=["change"])
    def unlock_login(self, request: HttpRequest, queryset) -> None:
        """Forget the selected members' failed logins (django-axes' reset), which lifts a lockout at once.

        Only members of centers where the user may change members: the list also shows those of a center
        where the user is a manager. A lock on an address (failures for many usernames) is the operators'
        (`manage.py axes_reset_ip`).
        """
        if not is_superuser(request):
            queryset = queryset.filter(center_id__in=self.writable_center_ids(request))
        members = list(queryset.select_related("user"))
        for member in members:
            axes_reset(username=member.user.get_username())
        self.message_user(
            request,
            ngettext(
                "Unlocked the login of %(count)d member.", "Unlocked the login of %(count)d members.", len(members)
            )
            % {"count": len(members)},
            messages.SUCCESS,
        )

    def get_queryset(self, request: HttpRequest):
        return with_login_failures(super().get_queryset(request).select_related("user"))

    def get_fieldsets(self, request: HttpRequest, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return () if obj is None else ("center", "username", "created_at")

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request: HttpRequest, obj: Member, form, change: bool) -> None:
        if not change:
            obj.user.save()  # built unsaved by MemberCreationForm; the membership needs its id
        super().save_model(request, obj, form, change)
        if change and {"role", "is_active"} & set(form.changed_data):
            sync_staff_flag(obj.user)
