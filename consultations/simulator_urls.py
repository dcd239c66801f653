"""The customer simulator's pages, included by the project at `simulator/`."""

from django.urls import path

from . import simulator

urlpatterns = [
    path("<slug:slug>/", simulator.simulator_page, name="simulator"),
    path("<slug:slug>/messages", simulator.simulator_messages, name="simulator-messages"),
]
