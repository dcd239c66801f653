"""What the rules of every app share: the refusal they raise, and the check that a member may act in a center.

`consultations.lifecycle` and `customers.rules` raise `Refused`; views turn it
into a message in place, the webhook into a JSON error, commands into an error
line and a non-zero exit.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Center, Member


class Refused(Exception):
    """A rule refused an action, with a message safe to show the user.

    The message is a lazy translation formatted only when read, so a refusal
    raised in one language (a Celery task, a command) reads in the language
    active where it is shown.
    """

    def __init__(self, code: str, message, **params) -> None:
        super().__init__(code)
        self.code = code
        self._message = message
        self.params = params

    @property
    def message(self) -> str:
        return self._message % self.params if self.params else str(self._message)

    def __str__(self) -> str:
        return self.message


CONSULTATION_NOT_FOUND = _("The consultation was not found.")
CUSTOMER_NOT_FOUND = _("The customer was not found.")
MESSAGE_NOT_FOUND = _("The message was not found.")


def check_member_of(center: Center, member: Member, *, missing=CONSULTATION_NOT_FOUND) -> None:
    """The acting member must be an active member of the object's center (R1)."""
    if member.center_id != center.pk:
        # Another center's object does not exist for this member.
        raise Refused("not_found", missing)
    if not (member.is_active and member.user.is_active):
        raise Refused("inactive_member", _("Your membership in this center is not active."))
