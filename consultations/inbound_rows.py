"""The rows every inbound message reads — its center, and its customer and open consultation locked — in plain SQL.

These run once per webhook event, the product's hottest path. Built through
the ORM (an `Exists` annotation, `select_for_update`, a limit) the two locks
cost about 0.8 and 0.5 ms of CPU each to compile; the same SQL written out
costs about 0.2 ms (docs/perf.md, "Webhook"). Table and column names come from the models,
so a rename cannot leave these behind silently; `FOR UPDATE` is left out where
the database has none (SQLite, whose IMMEDIATE transactions lock the whole
database instead).
"""

from __future__ import annotations

from django.db import connection

from counsel_center.models import Center
from customers.models import Block, Customer

from .models import Consultation, Status


def _for_update(alias: str) -> str:
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {alias}" if connection.features.has_select_for_update_of else " FOR UPDATE"


def _names(model) -> tuple[str, dict[str, str]]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), {field.name: quote(field.column) for field in model._meta.concrete_fields}


def center_by_slug(slug: str) -> Center | None:
    centers, n = _names(Center)
    rows = list(Center.objects.raw(f"SELECT * FROM {centers} WHERE {n['slug']} = %s", [slug]))  # noqa: S608
    return rows[0] if rows else None


def locked_customer(center_id: int, user_key: str) -> Customer | None:
    """The center's customer of `user_key`, row-locked, with `is_blocked_now` (R16), or None."""
    customers, c = _names(Customer)
    blocks, b = _names(Block)
    # Identifiers come from the models, quoted; values are parameters.
    is_blocked = (
        f"EXISTS (SELECT 1 FROM {blocks} bl WHERE bl.{b['customer']} = cu.{c['id']} AND bl.{b['ended_at']} IS NULL)"  # noqa: S608
    )
    where = f"cu.{c['center']} = %s AND cu.{c['user_key']} = %s"
    sql = f"SELECT cu.*, {is_blocked} AS is_blocked_now FROM {customers} cu WHERE {where}{_for_update('cu')}"  # noqa: S608
    rows = list(Customer.objects.raw(sql, [center_id, user_key]))
    if not rows:
        return None
    customer = rows[0]
    customer.is_blocked_now = bool(customer.is_blocked_now)  # SQLite answers 0 or 1
    return customer


def locked_open_consultation(customer_id: int) -> Consultation | None:
    """The customer's open consultation (at most one, R3), row-locked, or None."""
    consultations, o = _names(Consultation)
    where = f"co.{o['customer']} = %s AND co.{o['status']} <> %s"
    sql = f"SELECT * FROM {consultations} co WHERE {where}{_for_update('co')}"  # noqa: S608
    rows = list(Consultation.objects.raw(sql, [customer_id, Status.CLOSED]))
    return rows[0] if rows else None
