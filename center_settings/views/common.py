"""What the settings views share: the refusal of a master-only action, and the way back to a list."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

REFUSED_TEMPLATE = "center_settings/not_available.html"


def refuse_masters_only(request: HttpRequest) -> HttpResponse:
    """A manager asked for what only masters do: the same refusal page, saying so (403)."""
    return render(request, REFUSED_TEMPLATE, {"masters_only": True}, status=403)


def back_to_list(url_name: str, data) -> HttpResponse:
    """Redirect to a list, keeping its search and page (taken from a POST's hidden fields or a GET)."""
    back = {key: value for key in ("q", "page") if (value := data.get(key, "").strip())}
    url = reverse(url_name)
    return redirect(f"{url}?{urlencode(back)}" if back else url)
