"""The Django admin, scoped to the centers a user manages (R2).

Masters and managers manage their own center in the admin; superusers see every
center; agents never get in. What a user may see and do is decided by their
active master/manager memberships (`Member.objects.admins_of`), never by
Django's model permissions: a model permission granted by mistake must not open
another center's data (R1).

`CenterScopedAdmin` is mixed into every ModelAdmin of center data. Each admin
names the path from its model to the center (`center_field`) and the roles that
may view, add, change and delete in that center.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Center, Member

ADMIN_ROLES: tuple[str, ...] = tuple(Member.ADMIN_ROLES)
MASTER_ONLY: tuple[str, ...] = (Member.Role.MASTER,)


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and user.is_superuser


def admin_roles(request: HttpRequest) -> dict[int, str]:
    """{center id: role} of the user's active master/manager memberships, read once per request."""
    roles = getattr(request, "_center_admin_roles", None)
    if roles is None:
        user = request.user
        roles = {}
        if user.is_authenticated and user.is_active:
            roles = dict(Member.objects.admins_of(user).order_by().values_list("center_id", "role"))
        request._center_admin_roles = roles
    return roles


def center_ids_with(request: HttpRequest, roles: Collection[str]) -> list[int]:
    return [center_id for center_id, role in admin_roles(request).items() if role in roles]


def acting_member(request: HttpRequest, center_id: int) -> Member | None:
    """The user's active membership in the center: the actor lifecycle records.

    Always found for a master or manager acting in their own center; a superuser
    who is no member of the center gets None.
    """
    return Member.objects.active().select_related("user").filter(user=request.user, center_id=center_id).first()


def center_lookup_for(model: type[models.Model], admin_site: admin.AdminSite) -> str | None:
    """The lookup from `model` to its center, taken from the model's scoped admin; None if unknown."""
    if model is Center:
        return "pk"
    try:
        model_admin = admin_site.get_model_admin(model)
    except NotRegistered:
        return None
    return model_admin.center_field if isinstance(model_admin, CenterScopedAdmin) else None


def scoped_to_centers(
    queryset: models.QuerySet, center_ids: Collection[int], admin_site: admin.AdminSite
) -> models.QuerySet:
    """Narrow `queryset` to rows of the given centers; a model without a known center path gives nothing."""
    lookup = center_lookup_for(queryset.model, admin_site)
    if lookup is None:
        return queryset.none()  # fail closed: an unknown relation must not list another center's rows
    return queryset.filter(**{f"{lookup}__in": center_ids})


def with_attrs(form_class: type, **attrs) -> type:
    """A subclass of `form_class` carrying request-bound attributes (the actor, a callable)."""
    return type(form_class.__name__, (form_class,), attrs)


class CenterScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter that lists only the related rows of the user's centers.

    Django's own filter lists every row of the related model, which would name
    the members (or centers) of other centers.
    """

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        queryset = related._default_manager.all()
        if not is_superuser(request):
            queryset = scoped_to_centers(queryset, model_admin.visible_center_ids(request), model_admin.admin_site)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        if related is Member:
            queryset = queryset.select_related("user")  # Member.__str__ may fall back to the user's name
        target = field.target_field.attname
        return [(getattr(obj, target), str(obj)) for obj in queryset]


class CenterScopedAdmin:
    """Mix into a ModelAdmin (before it) to scope it to the user's centers (R2).

    - `center_field`: lookup path from the model to its Center, e.g. "center" or
      "customer__center"; "pk" for Center itself.
    - `view_roles`, `add_roles`, `change_roles`, `delete_roles`: member roles that
      grant each action in the object's center. Superusers may do everything an
      admin does not refuse outright by overriding `has_*_permission`.

    Non-superusers see only rows of centers where they hold a listed role; an
    object outside that queryset is a 404, never Django's "perhaps it was
    deleted" redirect, so a URL tells nothing about another center (a user who
    administers no center at all gets the 403 the lists give). Foreign-key
    choices list only rows of the centers where the user may write.
    """

    center_field: str = "center"
    view_roles: tuple[str, ...] = ADMIN_ROLES
    add_roles: tuple[str, ...] = ()
    change_roles: tuple[str, ...] = ()
    delete_roles: tuple[str, ...] = ()

    # --- which centers ---------------------------------------------------------

    @property
    def _any_roles(self) -> tuple[str, ...]:
        return (*self.view_roles, *self.add_roles, *self.change_roles, *self.delete_roles)

    def visible_center_ids(self, request: HttpRequest) -> list[int]:
        return center_ids_with(request, self._any_roles)

    def writable_center_ids(self, request: HttpRequest) -> list[int]:
        return center_ids_with(request, (*self.add_roles, *self.change_roles))

    def sees_many_centers(self, request: HttpRequest) -> bool:
        return is_superuser(request) or len(self.visible_center_ids(request)) > 1

    def center_id_of(self, obj: models.Model) -> int | None:
        if self.center_field == "pk":
            return obj.pk
        *hops, last = self.center_field.split("__")
        for hop in hops:
            obj = getattr(obj, hop)
        return getattr(obj, obj._meta.get_field(last).attname)

    def _allowed(self, request: HttpRequest, roles: Collection[str], obj: models.Model | None = None) -> bool:
        if is_superuser(request):
            return True
        if obj is None:  # "on any object of this type", as Django asks for the index and the changelist
            return any(role in roles for role in admin_roles(request).values())
        return admin_roles(request).get(self.center_id_of(obj)) in roles

    # --- permissions: by membership role, not by Django model permissions -------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self._any_roles)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._allowed(request, (*self.view_roles, *self.change_roles), obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.add_roles)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._allowed(request, self.change_roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._allowed(request, self.delete_roles, obj)

    # --- rows ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if is_superuser(request):
            return queryset
        return queryset.filter(**{f"{self.center_field}__in": self.visible_center_ids(request)})

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not self.has_view_permission(request):
            raise PermissionDenied  # no admin of any center (an agent, a stray staff user): the same 403 as lists
        if obj is None:
            # Django would redirect with "doesn't exist, perhaps it was deleted?". A 404 answers the same for
            # "no such row" and "another center's row", so object ids cannot be probed across centers (R1).
            raise Http404(_("Not found."))
        return obj

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if "queryset" not in kwargs and not is_superuser(request):
            related = db_field.remote_field.model
            kwargs["queryset"] = scoped_to_centers(
                related._default_manager.all(), self.writable_center_ids(request), self.admin_site
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if "queryset" not in kwargs and not is_superuser(request):
            related = db_field.remote_field.model
            kwargs["queryset"] = scoped_to_centers(
                related._default_manager.all(), self.writable_center_ids(request), self.admin_site
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        writable = self.writable_center_ids(request)
        if "__" not in self.center_field and self.center_field != "pk" and len(writable) == 1:
            initial.setdefault(self.center_field, writable[0])
        return initial

    # --- lists: a center column and filter only for those who see several ----------

    def get_list_display(self, request: HttpRequest):
        display = list(super().get_list_display(request))
        if self.center_field != "pk" and self.sees_many_centers(request):
            display.append(self.center_field)
        return display

    def get_list_select_related(self, request: HttpRequest):
        related = super().get_list_select_related(request)
        if self.center_field == "pk" or related is True or not self.sees_many_centers(request):
            return related
        return [*(related or ()), self.center_field]

    def get_list_filter(self, request: HttpRequest):
        filters = list(super().get_list_filter(request))
        if self.center_field != "pk" and self.sees_many_centers(request):
            filters.append((self.center_field, CenterScopedRelatedFilter))
        return filters

    def actor_for(self, request: HttpRequest) -> Callable[[int], Member | None]:
        """`center id -> acting member`, for forms that call lifecycle."""
        return partial(acting_member, request)


class ReadOnlyInline(admin.TabularInline):
    """A history list under a scoped object: visible wherever its parent is, never editable."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # `obj` is the parent, already fetched through the parent's scoped queryset.
        return self.admin_site.get_model_admin(self.parent_model).has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
