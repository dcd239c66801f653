"""차단고객관리 (R17), included at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("blocked/", views.blocked_customers, name="blocked-customers"),
    path("blocked/<str:customer_id>/unblock", views.unblock_customer, name="blocked-customers-unblock"),
]
