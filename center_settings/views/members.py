"""구성원: the center's members; masters add and edit them, managers look (the admin's rules, R2)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from counsel_center.forms import sync_staff_flag
from counsel_center.models import Member

from ..access import access_member, may_manage_members, settings_required
from ..forms import MemberAddForm, MemberEditForm
from .common import refuse_masters_only

# Masters first, then managers, then agents.
ROLE_ORDER = Case(
    *(When(role=role, then=Value(n)) for n, role in enumerate(Member.Role.values)), output_field=IntegerField()
)


@require_GET
@settings_required
def member_list(request: HttpRequest) -> HttpResponse:
    members = (
        Member.objects.filter(center_id=request.member.center_id)
        .select_related("user")
        .order_by(ROLE_ORDER, "display_name", "user__username")
    )
    context = {"members": members, "may_manage": may_manage_members(request.member), "section": "members"}
    return render(request, "center_settings/members.html", context)


@require_http_methods(["GET", "POST"])
@settings_required
def member_add(request: HttpRequest) -> HttpResponse:
    if not may_manage_members(request.member):
        return refuse_masters_only(request)
    form = MemberAddForm(request.POST or None, instance=Member(center=request.member.center))
    if request.method == "POST" and form.is_valid():
        member = form.save()  # the user and the membership together, in one transaction
        messages.success(request, _("%(name)s is added to the center.") % {"name": member.name})
        return redirect("settings:members")
    context = {"form": form, "section": "members", "adding": True}
    return render(request, "center_settings/member_form.html", context)


@require_http_methods(["GET", "POST"])
@settings_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    may_manage = may_manage_members(request.member)
    member = access_member(request.member, pk)  # another center's id is a 404 for everyone, before the role (R1)
    if request.method == "POST":
        if not may_manage:
            return refuse_masters_only(request)
        # One transaction: the form's last-master check locks the center row until the save commits.
        with transaction.atomic():
            form = MemberEditForm(request.POST, instance=member)
            if form.is_valid():
                form.save()
                if {"role", "is_active"} & set(form.changed_data):
                    sync_staff_flag(member.user)
                messages.success(request, _("%(name)s is saved.") % {"name": member.name})
                return redirect("settings:members")
    else:
        form = MemberEditForm(instance=member, read_only=not may_manage)
    context = {"form": form, "subject": member, "may_manage": may_manage, "section": "members"}
    return render(request, "center_settings/member_form.html", context)
