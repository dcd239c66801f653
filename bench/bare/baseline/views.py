import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .models import Hit, Item

ROWS = 50


@require_POST
def hit(request: HttpRequest) -> JsonResponse:
    """Parse the event JSON and insert one row: the least a webhook can do."""
    try:
        event = json.loads(request.body)
        row = Hit.objects.create(
            event_id=event["event_id"],
            user_key=event["user_key"],
            text=event["message"]["text"],
            received_at=timezone.now(),
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "invalid_event"}, status=400)
    return JsonResponse({"id": row.pk})


@require_GET
def rows(request: HttpRequest) -> HttpResponse:
    """One indexed query of 50 rows (`?group=`, newest first) rendered by a template: the least a list page does."""
    group = request.GET.get("group", "1")
    items = Item.objects.filter(group=int(group) if group.isdigit() else 1).order_by("-created_at")[:ROWS]
    return render(request, "baseline/rows.html", {"items": items})
