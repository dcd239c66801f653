"""The agent console's URLs (included at the site root): the page, then each pane's own."""

from django.urls import path

from .views import assist, chat, details, files, stream, updates
from .views import list as list_views

urlpatterns = [
    *updates.urlpatterns,
    path("consultations/", list_views.console, name="console"),
    path("consultations/<str:public_id>/", list_views.console, name="console-consultation"),
    *chat.urlpatterns,
    *details.urlpatterns,
    *assist.urlpatterns,
    *files.urlpatterns,
    path("events/stream", stream.event_stream, name="event-stream"),
]
