"""The forms that change a center and its members, shared by the Django admin (admin.py) and the
console's own settings pages (center_settings/): one set of rules, wherever a master edits.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin, UsernameField
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import clock
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


def announce_operating_change(center: Center, changed_data: list[str]) -> None:
    """After a saved change of the operating switch: open consoles show the new state at once.

    Call inside the transaction of the save: the receiver appends an Event there (consultations/receivers.py).
    """
    if "is_operating" in changed_data:
        center_operating_changed.send(sender=Center, center=center, at=clock.now())


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
        user.is_staff = member.role in Member.ADMIN_ROLES
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
