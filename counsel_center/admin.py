"""Admin for centers and their members, scoped to the user's own centers (R2).

Masters edit their center's settings and its members; managers may look;
only superusers create or delete centers.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin, UsernameField
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import clock
from .admin_scoping import ADMIN_ROLES, MASTER_ONLY, CenterScopedAdmin, is_superuser
from .models import Center, Member
from .signals import center_operating_changed

User = get_user_model()


# --- centers ------------------------------------------------------------------------


class CenterForm(forms.ModelForm):
    class Meta:
        model = Center
        fields = (
            "name",
            "slug",
            "is_operating",
            "concurrent_limit",
            "idle_close_minutes",
            "time_zone",
            "outbound_url",
            "webhook_secret",
        )


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
        if change and "is_operating" in form.changed_data:
            # Open consoles show the new state at once (an Event, in the admin's transaction).
            center_operating_changed.send(sender=Center, center=obj, at=clock.now())

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if is_superuser(request):
            return ("created_at",)
        # The slug is in the channel's webhook URL: changing it breaks the channel, so only operators may.
        return ("slug", "created_at")


# --- members -------------------------------------------------------------------------


def sync_staff_flag(user) -> None:
    """Masters and managers need `is_staff` to log in to the admin; agents work in the console only."""
    should_be_staff = user.is_superuser or Member.objects.admins_of(user).exists()
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])


class MemberCreationForm(SetPasswordMixin, forms.ModelForm):
    """A new member together with their Django user (username and password)."""

    # The model field's character validator does not travel with formfield(): pass it (length does).
    username = User._meta.get_field(User.USERNAME_FIELD).formfield(
        form_class=UsernameField, validators=[User.username_validator]
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = Member
        fields = ("center", "username", "display_name", "password1", "password2", "role", "can_consult")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # As Django's UserCreationForm: names that differ only in case are the same person to a reader.
        if User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
            raise ValidationError(_("A user with that username already exists."), code="unique")
        return username

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def _post_clean(self) -> None:
        super()._post_clean()
        # Validate the password against the user it will belong to (the similarity validator reads the username).
        self.new_user = User(**{User.USERNAME_FIELD: self.cleaned_data.get("username", "")})
        self.validate_password_for_user(self.new_user)

    def save(self, commit: bool = True) -> Member:
        member = super().save(commit=False)
        user = self.new_user
        user.is_staff = member.role in ADMIN_ROLES
        self.set_password_and_save(user, commit=False)
        member.user = user
        if commit:
            with transaction.atomic():
                user.save()
                member.save()
        return member


class MemberChangeForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ("display_name", "role", "can_consult", "is_active")

    def clean(self):
        cleaned = super().clean()
        member = self.instance  # still the saved values: the form writes onto it only after clean()
        stays_master = cleaned.get("role", member.role) == Member.Role.MASTER and cleaned.get(
            "is_active", member.is_active
        )
        if member.role == Member.Role.MASTER and member.is_active and not stays_master:
            with transaction.atomic():
                # Lock the center row so that two masters demoting each other at once cannot both pass
                # (PostgreSQL; on SQLite the admin's POST transaction already holds the write lock). The
                # lock lasts until the admin's transaction around the save commits.
                Center.objects.select_for_update().filter(pk=member.center_id).first()
                other_masters = (
                    Member.objects.active()
                    .filter(center_id=member.center_id, role=Member.Role.MASTER)
                    .exclude(pk=member.pk)
                    .exists()
                )
            if not other_masters:
                raise ValidationError(
                    _("%(name)s is the last active master of this center. Make another member a master first."),
                    params={"name": member.name},
                    code="last_master",
                )
        return cleaned


@admin.register(Member)
class MemberAdmin(CenterScopedAdmin, admin.ModelAdmin):
    view_roles = ADMIN_ROLES
    add_roles = MASTER_ONLY
    change_roles = MASTER_ONLY
    # delete: superusers only; masters deactivate instead, which keeps the member's history.

    form = MemberChangeForm
    add_form = MemberCreationForm
    list_display = ("member_name", "user__username", "role", "can_consult", "is_active", "created_at")
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

    @admin.display(description=_("username"))
    def username(self, obj: Member) -> str:
        return obj.user.get_username()

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("user")

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
