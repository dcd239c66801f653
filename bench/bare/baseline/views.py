import json

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Hit


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
