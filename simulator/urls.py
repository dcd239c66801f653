"""The customer simulator's pages, included by the project at `simulator/`."""

from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/", views.simulator_page, name="simulator"),
    path("<slug:slug>/messages", views.simulator_messages, name="simulator-messages"),
]
