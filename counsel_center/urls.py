from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from consultations.webhook import channel_events

admin.site.site_header = "상담 관리자센터"
admin.site.site_title = "상담 관리자센터"
admin.site.index_title = "센터 관리"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("channel/<str:slug>/events", channel_events, name="channel-events"),
    path("simulator/", include("consultations.simulator_urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
