"""Admin for the Q&A base and the reply templates, scoped to the user's centers (R2).

Masters and managers add, change and delete their own center's entries;
superusers every center's. The console (console/views/assist.py) shows
only active ones: unticking "active" retires an entry without losing members'
favorites of it. Imported by consultations/admin.py, which registers these.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from counsel_center.admin_scoping import ADMIN_ROLES, CenterScopedAdmin

from .models import QnA, Template


class CenterContentAdmin(CenterScopedAdmin, admin.ModelAdmin):
    """Content a center writes for itself: every master and manager of the center may edit it."""

    view_roles = ADMIN_ROLES
    add_roles = ADMIN_ROLES
    change_roles = ADMIN_ROLES
    delete_roles = ADMIN_ROLES

    list_filter = ("is_active",)
    list_per_page = 50


@admin.register(QnA)
class QnAAdmin(CenterContentAdmin):
    list_display = ("question", "answer_start", "keywords", "is_active", "updated_at")
    search_fields = ("question", "keywords", "answer")
    fields = ("center", "question", "answer", "keywords", "is_active")

    @admin.display(description=_("answer"))
    def answer_start(self, obj: QnA) -> str:
        return Truncator(obj.answer).chars(60)


@admin.register(Template)
class TemplateAdmin(CenterContentAdmin):
    list_display = ("title", "body_start", "is_active", "updated_at")
    search_fields = ("title", "body")
    fields = ("center", "title", "body", "is_active")

    @admin.display(description=_("body"))
    def body_start(self, obj: Template) -> str:
        return Truncator(obj.body).chars(60)
