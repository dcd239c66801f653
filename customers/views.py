"""차단고객관리, the blocked customers page (R17): a center's blocks in force, searched and paged, each with 차단 해제.

For masters and managers only (R16a: only they unblock); agents get a page that
says so (403) and no link in the top bar. Everything is looked up inside
`request.member.center` (R1): another center's customer ID is a 404. The
unblock goes through `customers.rules.do_unblock_customer` and answers with a
redirect back to the list where it was posted from (same search and page),
with a message; an htmx form picks the list out of that page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from counsel_center.membership import member_required_for
from counsel_center.rules import Refused

from .access import access_customer
from .models import Block
from .rules import do_unblock_customer, may_manage_blocks

TEMPLATE = "customers/blocked.html"
PER_PAGE = 30
SEARCH_MAX_LENGTH = 100


# Masters and managers: only they unblock (R16a); an agent is told why.
admin_required = member_required_for(may_manage_blocks, refused_template="customers/not_available.html")


def search_blocks(blocks, q: str):
    """Narrow blocks to customers whose nickname or profile nickname contains `q`, or whose ID starts with it."""
    if not q:
        return blocks
    return blocks.filter(
        Q(customer__nickname__icontains=q)
        | Q(customer__profile_nickname__icontains=q)
        | Q(customer__customer_id__istartswith=q)
    )


def search_term(data) -> str:
    return data.get("q", "").strip()[:SEARCH_MAX_LENGTH]


@require_GET
@admin_required
def blocked_customers(request: HttpRequest) -> HttpResponse:
    q = search_term(request.GET)
    blocks = search_blocks(Block.objects.active().for_list(request.member.center), q)
    page = Paginator(blocks, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "q": q}
    # An htmx request (the unblock form, after its redirect) takes the list alone; the permission check is above.
    return render(request, f"{TEMPLATE}#blocked" if request.htmx else TEMPLATE, context)


@require_POST
@admin_required
def unblock_customer(request: HttpRequest, customer_id: str) -> HttpResponse:
    """R17: end the customer's block, then back to the list (same search and page) with a message."""
    customer = access_customer(request.member, customer_id)
    try:
        do_unblock_customer(customer, actor=request.member)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("%(name)s is unblocked.") % {"name": customer.display_name})
    back = {key: value for key in ("q", "page") if (value := request.POST.get(key, "").strip())}
    url = reverse("blocked-customers")
    return redirect(f"{url}?{urlencode(back)}" if back else url)
