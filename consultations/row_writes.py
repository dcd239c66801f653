"""`Model.save()` for the webhook's hottest writes, with the SQL built once per model.

Each inbound message inserts a Message, an Event and a ChannelEvent and
updates its Consultation. Through `Model.save()` each of those costs about
0.35 ms of CPU, most of it the ORM building the same statement again
(`InsertQuery`, its compiler, per-field quoting); the statement itself is
fixed for a model and a set of fields. These functions keep the statement per
(database, model, fields) and only adapt the values, with each field's own
`pre_save` and `get_db_prep_save` — the calls `save()` makes — so dates, JSON
and foreign keys are stored exactly as the ORM stores them on either database
(consultations/tests/test_row_writes.py compares the rows).

What `save()` does and these do not: send `pre_save`/`post_save` (the project
connects none to these models; each call checks, and refuses if one appears) and run
multi-table inheritance (none of these models has a parent).
"""

from __future__ import annotations

from django.db import connections, models, router
from django.db.models.signals import post_save, pre_save

_statements: dict[tuple, tuple[str, list[models.Field]]] = {}


def _check_no_receivers(model: type[models.Model]) -> None:
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise RuntimeError(f"{model.__name__} has save signal receivers: use Model.save() instead.")


def _insert_statement(model: type[models.Model], connection) -> tuple[str, list[models.Field]]:
    _check_no_receivers(model)
    key = ("insert", connection.alias, model)
    if key not in _statements:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        columns = ", ".join(quote(field.column) for field in fields)
        values = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608 (names from the model)
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(meta.pk.column)}"
        _statements[key] = (sql, fields)
    return _statements[key]


def insert(obj: models.Model) -> models.Model:
    """Insert a new instance whose primary key the database assigns, as `obj.save()` would; returns it."""
    model = type(obj)
    connection = connections[router.db_for_write(model, instance=obj)]
    sql, fields = _insert_statement(model, connection)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def update(obj: models.Model, fields: tuple[str, ...]) -> None:
    """Write `fields` of a saved instance, as `obj.save(update_fields=fields)` would."""
    model = type(obj)
    connection = connections[router.db_for_write(model, instance=obj)]
    _check_no_receivers(model)
    key = ("update", connection.alias, model, fields)
    if key not in _statements:
        meta = model._meta
        quote = connection.ops.quote_name
        field_objects = [meta.get_field(name) for name in fields]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in field_objects)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        _statements[key] = (sql, field_objects)
    sql, field_objects = _statements[key]
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in field_objects]
    params.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
