"""설정 (included under settings/ by the project's URLconf)."""

from django.urls import path

from .views import center, content, members

app_name = "settings"

urlpatterns = [
    path("", center.center_page, name="center"),
    path("webhook-secret", center.new_secret, name="new-secret"),
    path("members/", members.member_list, name="members"),
    path("members/add/", members.member_add, name="member-add"),
    path("members/<int:pk>/", members.member_edit, name="member-edit"),
]
for kind in ("qna", "templates"):
    urlpatterns += [
        path(f"{kind}/", content.content_list, {"kind": kind}, name=kind),
        path(f"{kind}/add/", content.content_edit, {"kind": kind}, name=f"{kind}-add"),
        path(f"{kind}/<int:pk>/", content.content_edit, {"kind": kind}, name=f"{kind}-edit"),
        path(f"{kind}/<int:pk>/active", content.content_set_active, {"kind": kind}, name=f"{kind}-active"),
    ]
