"""The rows every inbound message reads — its center, and its customer and open consultation locked.

These run once per webhook event, the product's hottest path. The center and
the open consultation are read in plain SQL: built through the ORM (a
`select_for_update`, a limit) the consultation's lock costs about 0.5 ms of
CPU to compile; the same SQL written out, built once and read into
`Model.from_db`, about 0.15 ms (docs/perf.md, "Webhook"). The customer's lock
goes through the ORM since the block rules moved to customers/ (issue 15), so
that "is blocked" is written once, there; measured before, that costs 0.8–1.1
ms of CPU per event instead of about 0.2 ms. Table and column names come from
the models, so a rename cannot leave these behind silently; `FOR UPDATE` is
left out where the database has none (SQLite, whose IMMEDIATE transactions lock the whole
database instead). Writes of the same path: row_writes.py.
"""

from __future__ import annotations

from django.db import connection

from counsel_center.models import Center
from customers.models import Customer

from .models import Consultation, Status

_selects: dict[tuple, tuple[str, list[str], list[tuple[int, list]]]] = {}


def _for_update(alias: str) -> str:
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {alias}" if connection.features.has_select_for_update_of else " FOR UPDATE"


def _select(model, alias: str, where, *, extra=None, lock: bool = False) -> tuple[str, list[str], list]:
    """`SELECT <the model's columns>[, extra()] FROM <table> alias WHERE …`, built once per database and query.

    `where(columns)` gets the quoted column names by field name; `extra()`
    gives more selected expressions, each after a comma. Also returned: the
    attnames in column order and, per column that has any, the converters
    the ORM applies to it (aware datetimes on SQLite, JSON on PostgreSQL).
    """
    key = (connection.alias, model, alias, where, extra, lock)
    if key not in _selects:
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        columns = {field.name: quote(field.column) for field in fields}
        selected = ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
        more = extra() if extra is not None else ""
        sql = f"SELECT {selected}{more} FROM {quote(model._meta.db_table)} {alias} WHERE {where(columns)}"  # noqa: S608
        converters = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((i, [(convert, column) for convert in found]))
        attnames = [field.attname for field in fields]
        _selects[key] = (sql + (_for_update(alias) if lock else ""), attnames, converters)
    return _selects[key]


def _one(model, query: tuple[str, list[str], list], params: list) -> tuple:
    """The first row as an instance, and the extra values after the model's columns; (None, ()) if none."""
    sql, attnames, converters = query
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None, ()
    values = list(row[: len(attnames)])
    for i, column_converters in converters:
        for convert, column in column_converters:
            values[i] = convert(values[i], column, connection)
    return model.from_db(connection.alias, attnames, values), row[len(attnames) :]


def _center_where(c: dict[str, str]) -> str:
    return f"ce.{c['slug']} = %s"


def center_by_slug(slug: str) -> Center | None:
    return _one(Center, _select(Center, "ce", _center_where), [slug])[0]


def locked_customer(center_id: int, user_key: str) -> Customer | None:
    """The center's customer of `user_key`, row-locked, with `is_blocked_now` (R16), or None.

    Through the ORM, not a written-out statement: the "is blocked" condition is
    written once (customers.models.BlockQuerySet.active, via with_block_state).
    """
    return (
        Customer.objects.with_block_state()
        .select_for_update(of=("self",))
        .filter(center_id=center_id, user_key=user_key)
        .first()
    )


def _open_where(c: dict[str, str]) -> str:
    return f"co.{c['customer']} = %s AND co.{c['status']} <> %s"


def locked_open_consultation(customer_id: int) -> Consultation | None:
    """The customer's open consultation (at most one, R3), row-locked, or None."""
    query = _select(Consultation, "co", _open_where, lock=True)
    return _one(Consultation, query, [customer_id, Status.CLOSED])[0]
