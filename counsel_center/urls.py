from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from consultations.channel.file_links import channel_file
from consultations.channel.webhook import channel_events

from .views import choose_center_view

# Translated per request (the admin's header follows the member's language); the look is
# templates/admin/base_site.html, whose "Back to the console" link replaces "View site".
admin.site.site_header = _("Consultation Admin Center")
admin.site.site_title = _("Consultation Admin Center")
admin.site.index_title = _("Center administration")
admin.site.site_url = None

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("channel/<str:slug>/events", channel_events, name="channel-events"),
    path("channel/<str:slug>/files/<str:token>", channel_file, name="channel-file"),
    path("simulator/", include("simulator.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Every member, agents too (they have no admin): Django's views, which keep this session and end the
    # member's others (the session hash changes with the password).
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("center/", choose_center_view, name="choose-center"),
    path("", include("console.urls")),
    path("", include("stats.urls")),
    path("", include("customers.urls")),
    path("settings/", include("center_settings.urls")),
    path("", RedirectView.as_view(pattern_name="console", permanent=False)),
]

# A database error anywhere in a request (view or middleware) answers 503 rather than 500 (or, for the
# session's save, 400): counsel_center/unavailable.py.
handler400 = "counsel_center.unavailable.bad_request"
handler500 = "counsel_center.unavailable.server_error"

# Media files are never served at a public URL: attachments are downloaded
# through console/views/files.py, by members of the file's center
# (`files/<id>`) or by the channel with a signed link (`channel-file`) (R15).
