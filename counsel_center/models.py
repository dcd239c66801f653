"""Center (상담센터) and Member (센터 구성원): who works where, with which role."""

import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# R5: a member holds at most this many `waiting` consultations at once. The help
# text fixes it for every center, unlike the concurrent (in-progress) limit.
MAX_WAITING_PER_MEMBER = 5


def validate_time_zone(name: str) -> None:
    # A name zoneinfo cannot load would break every page that shows a time.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("“%(name)s” is not a known time zone, e.g. Asia/Seoul."), params={"name": name}, code="bad_time_zone"
        ) from error


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Center(models.Model):
    """One support team serving one channel; every customer row belongs to one (R1)."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True, help_text=_("Used in the channel webhook URL."))
    name = models.CharField(_("name"), max_length=100)
    concurrent_limit = models.PositiveSmallIntegerField(
        _("concurrent consultation limit"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("How many consultations one member may have in progress at once (동시 상담 수)."),
    )
    idle_close_minutes = models.PositiveIntegerField(
        _("idle auto-close time (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text=_("An in-progress consultation closes when the customer has not answered the agent for this long."),
    )
    is_operating = models.BooleanField(
        _("operating"),
        default=True,
        help_text=_("While stopped, customer messages are still received but agents cannot send (운영 중지)."),
    )
    webhook_secret = models.CharField(_("webhook secret"), max_length=200, default=new_webhook_secret)
    outbound_url = models.URLField(
        _("outbound delivery URL"),
        blank=True,
        help_text=_("Agent messages are POSTed here. Empty: they stay in the built-in customer simulator."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul", validators=[validate_time_zone])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("center")
        verbose_name_plural = _("centers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concurrent_limit__gte=1), name="center_concurrent_limit_positive"
            ),
            models.CheckConstraint(condition=models.Q(idle_close_minutes__gte=1), name="center_idle_minutes_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        """The center's time zone: its days (statistics) and the times its members see."""
        return ZoneInfo(self.time_zone)


class MemberQuerySet(models.QuerySet):
    def active(self) -> "MemberQuerySet":
        return self.filter(is_active=True, user__is_active=True)

    def admins_of(self, user) -> "MemberQuerySet":
        """Memberships through which `user` may manage a center in the admin (R2)."""
        return self.active().filter(user=user, role__in=Member.ADMIN_ROLES)


class Member(models.Model):
    """A Django user's membership in one center, with one role."""

    class Role(models.TextChoices):
        MASTER = "master", _("Master")
        MANAGER = "manager", _("Manager")
        AGENT = "agent", _("Agent")

    ADMIN_ROLES = (Role.MASTER, Role.MANAGER)

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="members", verbose_name=_("center"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    can_consult = models.BooleanField(
        _("consultation permission"),
        default=False,
        help_text=_("상담 권한: lets a manager see the statistics."),
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["center", "role", "display_name"]
        constraints = [models.UniqueConstraint(fields=["center", "user"], name="member_unique_per_center")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    @property
    def is_admin(self) -> bool:
        """Masters and managers: act on every consultation of the center (R6, R9.3)."""
        return self.role in self.ADMIN_ROLES

    @property
    def sees_statistics(self) -> bool:
        return self.role == self.Role.MASTER or (self.role == self.Role.MANAGER and self.can_consult)
