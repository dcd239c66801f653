"""Settings helpers refuse values they cannot read rather than guessing."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from counsel_center.env import env_bool, env_float, env_int, env_list


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG") is expected


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be a boolean"):
        env_bool("SOME_FLAG")


def test_it_refuses_a_bad_integer(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER must be an integer"):
        env_int("SOME_NUMBER", 1)


def test_it_reads_numbers_and_refuses_a_bad_one(monkeypatch):
    monkeypatch.setenv("SOME_SECONDS", "0.5")
    assert env_float("SOME_SECONDS", 1.0) == 0.5
    for raw in ("soon", "nan", "inf"):
        monkeypatch.setenv("SOME_SECONDS", raw)
        with pytest.raises(ImproperlyConfigured, match="SOME_SECONDS must be a number"):
            env_float("SOME_SECONDS", 1.0)


def test_it_uses_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("SOME_NUMBER", raising=False)
    monkeypatch.delenv("SOME_LIST", raising=False)
    assert env_int("SOME_NUMBER", 7) == 7
    assert env_list("SOME_LIST", ["a"]) == ["a"]


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("SOME_LIST", "a.example, b.example,")
    assert env_list("SOME_LIST", []) == ["a.example", "b.example"]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a PostgreSQL server setting")
@pytest.mark.django_db
def test_the_products_connections_run_without_parallel_workers():
    """DB_MAX_PARALLEL_WORKERS_PER_GATHER (0): short console queries are not split into parallel plans."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
