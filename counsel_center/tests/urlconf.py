"""The project's named URL patterns, walked from the URLconf: the tests that must list every pattern use this.

test_get_writes_nothing.py, consultations/tests/test_tenant_isolation.py and
test_permission_matrix.py each keep a table keyed by these names, so a new
view fails them until it has a row.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def named_patterns(*, admin: bool = False, resolver: URLResolver | None = None) -> Iterator[str]:
    """Every named pattern as `reverse` takes it ("namespace:name"); the Django admin's only with `admin=True`."""
    yield from _walk(resolver or get_resolver(), "", "", admin)


def _walk(resolver: URLResolver, prefix: str, namespace: str, admin: bool) -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if not admin and prefix + str(pattern.pattern) == "admin/":
                continue  # the admin's own scoping: test_admin_scoping.py
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner, admin)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name
