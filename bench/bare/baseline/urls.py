from django.urls import path

from .views import hit

urlpatterns = [path("hit", hit)]
