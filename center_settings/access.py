"""Who may do what on the settings pages, and the objects they may touch (R1, R2).

The roles are the admin's own (counsel_center/admin.py, consultations/admin_assist.py),
read from the same ModelAdmin classes, so the two doors never disagree: masters
change the center and its members, managers look at them; masters and managers
edit the Q&A base and the templates. Agents get a page that says so (403).
Every object is looked up inside `member.center`: another center's id is a 404.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404

from consultations.admin_assist import CenterContentAdmin
from counsel_center.admin import CenterAdmin, MemberAdmin
from counsel_center.membership import member_required_for
from counsel_center.models import Member


def may_open_settings(member: Member) -> bool:
    """Masters and managers: the roles that see the center and its members in the admin."""
    return member.role in (*CenterAdmin.view_roles, *MemberAdmin.view_roles)


def may_change_center(member: Member) -> bool:
    return member.role in CenterAdmin.change_roles


def may_manage_members(member: Member) -> bool:
    return member.role in MemberAdmin.add_roles and member.role in MemberAdmin.change_roles


def may_edit_content(member: Member) -> bool:
    """Q&A and templates."""
    return member.role in CenterContentAdmin.change_roles


# Agents are told what they would need, as on the 통계 and 차단고객관리 pages.
settings_required = member_required_for(may_open_settings, refused_template="center_settings/not_available.html")


def access_member(member: Member, pk: int) -> Member:
    """A member of the acting member's center; another center's is a 404."""
    return get_object_or_404(Member.objects.select_related("user"), center_id=member.center_id, pk=pk)


def access_content(member: Member, queryset: QuerySet, pk: int) -> Model:
    """A Q&A entry or template of the acting member's center; another center's is a 404."""
    return get_object_or_404(queryset, center_id=member.center_id, pk=pk)
