"""The rows every inbound message reads — its center, and its customer and open consultation locked — in plain SQL.

These run once per webhook event, the product's hottest path. Built through
the ORM (an `Exists` annotation, `select_for_update`, a limit) the two locks
cost about 0.8 and 0.5 ms of CPU each to compile; the same SQL written out,
built once and read into `Model.from_db`, costs about 0.15 ms (docs/perf.md,
"Webhook"). Table and column names come from the models,
so a rename cannot leave these behind silently; `FOR UPDATE` is left out where
the database has none (SQLite, whose IMMEDIATE transactions lock the whole
database instead). Writes of the same path: row_writes.py.
"""

from __future__ import annotations

from django.db import connection

from counsel_center.models import Center
from customers.models import Block, Customer

from .models import Consultation, Status

_selects: dict[tuple, tuple[str, list[str]]] = {}


def _for_update(alias: str) -> str:
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {alias}" if connection.features.has_select_for_update_of else " FOR UPDATE"


def _select(model, alias: str, where, *, extra=None, lock: bool = False) -> tuple[str, list[str]]:
    """`SELECT <the model's columns>[, extra()] FROM <table> alias WHERE …`, built once per database and query.

    `where(columns)` gets the quoted column names by field name; `extra()`
    gives more selected expressions, each after a comma. Rows are made
    with `Model.from_db`, which is what a queryset calls per row, without a
    `RawQuerySet`'s per-query work of matching the cursor's columns to fields.
    """
    key = (connection.alias, model, alias, where, extra, lock)
    if key not in _selects:
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        columns = {field.name: quote(field.column) for field in fields}
        selected = ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
        more = extra() if extra is not None else ""
        sql = f"SELECT {selected}{more} FROM {quote(model._meta.db_table)} {alias} WHERE {where(columns)}"  # noqa: S608
        _selects[key] = (sql + (_for_update(alias) if lock else ""), [field.attname for field in fields])
    return _selects[key]


def _one(model, sql: str, attnames: list[str], params: list) -> tuple:
    """The first row as an instance, and the extra values after the model's columns; (None, ()) if none."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None, ()
    n = len(attnames)
    return model.from_db(connection.alias, attnames, row[:n]), row[n:]


def _center_where(c: dict[str, str]) -> str:
    return f"ce.{c['slug']} = %s"


def center_by_slug(slug: str) -> Center | None:
    sql, attnames = _select(Center, "ce", _center_where)
    return _one(Center, sql, attnames, [slug])[0]


def _customer_where(c: dict[str, str]) -> str:
    return f"cu.{c['center']} = %s AND cu.{c['user_key']} = %s"


def _is_blocked_column() -> str:
    quote = connection.ops.quote_name
    blocks = quote(Block._meta.db_table)
    customer = quote(Block._meta.get_field("customer").column)
    ended_at = quote(Block._meta.get_field("ended_at").column)
    customer_pk = quote(Customer._meta.pk.column)
    # Identifiers come from the models, quoted; values are parameters.
    return f", EXISTS (SELECT 1 FROM {blocks} bl WHERE bl.{customer} = cu.{customer_pk} AND bl.{ended_at} IS NULL)"  # noqa: S608


def locked_customer(center_id: int, user_key: str) -> Customer | None:
    """The center's customer of `user_key`, row-locked, with `is_blocked_now` (R16), or None."""
    sql, attnames = _select(Customer, "cu", _customer_where, extra=_is_blocked_column, lock=True)
    customer, more = _one(Customer, sql, attnames, [center_id, user_key])
    if customer is None:
        return None
    customer.is_blocked_now = bool(more[0])  # SQLite answers 0 or 1
    return customer


def _open_where(c: dict[str, str]) -> str:
    return f"co.{c['customer']} = %s AND co.{c['status']} <> %s"


def locked_open_consultation(customer_id: int) -> Consultation | None:
    """The customer's open consultation (at most one, R3), row-locked, or None."""
    sql, attnames = _select(Consultation, "co", _open_where, lock=True)
    return _one(Consultation, sql, attnames, [customer_id, Status.CLOSED])[0]
