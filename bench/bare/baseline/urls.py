from django.urls import path

from .views import hit, rows

urlpatterns = [path("hit", hit), path("rows", rows)]
