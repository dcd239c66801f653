"""센터 설정: the center's settings form (masters edit, managers read), and a new webhook secret."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from counsel_center.models import Center, new_webhook_secret

from ..access import may_change_center, settings_required
from ..forms import CenterSettingsForm
from .common import refuse_masters_only


@require_http_methods(["GET", "POST"])
@settings_required
def center_page(request: HttpRequest) -> HttpResponse:
    may_change = may_change_center(request.member)
    if request.method == "POST":
        if not may_change:
            return refuse_masters_only(request)
        with transaction.atomic():
            # A fresh, locked row: two masters' saves do not interleave, `changed_data` compares with what is
            # stored now, and an invalid post leaves the top bar's center (request.member.center) as it is.
            center = Center.objects.select_for_update().get(pk=request.member.center_id)
            form = CenterSettingsForm(request.POST, instance=center)
            if form.is_valid():
                form.save()  # sends center_operating_changed when the switch changed, as the admin does
                messages.success(request, _("The center's settings are saved."))
                return redirect("settings:center")
    else:
        form = CenterSettingsForm(instance=request.member.center, read_only=not may_change)
    context = {"form": form, "may_change": may_change, "section": "center"}
    return render(request, "center_settings/center.html", context)


@require_POST
@settings_required
def new_secret(request: HttpRequest) -> HttpResponse:
    """A new webhook secret (the old one stops signing at once); only those who change the center see it."""
    if not may_change_center(request.member):
        return refuse_masters_only(request)
    with transaction.atomic():
        center = Center.objects.select_for_update().get(pk=request.member.center_id)
        center.webhook_secret = new_webhook_secret()
        center.save(update_fields=["webhook_secret"])
    messages.success(
        request,
        _(
            "A new webhook secret is set. Give it to the channel: "
            "events signed with the old one are refused from now on."
        ),
    )
    return redirect("settings:center")
