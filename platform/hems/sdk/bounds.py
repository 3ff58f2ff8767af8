"""Upper bounds of a kind's numbers: one declaration, held by the model, the database,
the API and the contract kit.

A driver declares a field's physical upper bound with Django's own
``MaxValueValidator`` on the model field. Every float, integer or decimal field a
kind's model defines has one: the lowest ``MaxValueValidator`` on it, never above
:data:`CEILING`, which is also the bound of a field that declares none. From it the
core derives

- the model's validation: the validator itself, and for a field without one the
  ceiling (``Device.clean_fields``), both naming the field; a value that is not a
  finite number is refused too;
- a check constraint ``<table>_<field>_max`` on the kind's table, added to the model's
  constraints when the class is created, so ``makemigrations`` writes it;
- the API's description of the field ("At most ...");
- the contract kit's checks.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models

CEILING = 1e9
"""The largest number any field of any kind may hold (W, Wh, or any other unit).

A thousand times the largest home installation, so no real device is refused; and
small enough that a home of a million devices at the ceiling sums to 1e15, which
float64 still holds to the watt, far from overflowing (1.8e308).
"""

NUMBER_FIELDS = (models.FloatField, models.IntegerField, models.DecimalField)


def is_number_field(field: models.Field) -> bool:
    """A numeric attribute of a kind (not a key, not a relation)."""
    return (
        isinstance(field, NUMBER_FIELDS)
        and not isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)
        and not field.is_relation
    )


def upper_bound(field: models.Field) -> float | None:
    """The field's upper bound: its lowest ``MaxValueValidator``, at most :data:`CEILING`;
    ``None`` for a field that is not a number."""
    if not is_number_field(field):
        return None
    limits = [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)]
    return min([CEILING, *(float(limit) for limit in limits if not callable(limit))])


def upper_bounds(model: type[models.Model]) -> dict[str, float]:
    """``{field name: upper bound}`` of every numeric field a kind's model defines."""
    return {f.name: upper_bound(f) for f in own_fields(model) if is_number_field(f)}


def own_fields(model: type[models.Model]) -> list[models.Field]:
    """The concrete fields of a kind's own table (inherited abstract fields included)."""
    return [f for f in model._meta.local_concrete_fields if not f.is_relation]


def out_of_bounds(instance: Any) -> dict[str, str]:
    """``{field: message}`` for each numeric field that is not finite or exceeds the
    ceiling; a declared ``MaxValueValidator`` speaks for itself."""
    errors = {}
    for field in own_fields(type(instance)):
        if not is_number_field(field):
            continue
        value = getattr(instance, field.attname)
        if value is None or isinstance(value, str):
            continue  # Django's own validation says what is wrong with these
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            continue
        if not math.isfinite(number):
            errors[field.name] = "Enter a finite number."
        elif number > upper_bound(field):
            errors[field.name] = f"Ensure this value is less than or equal to {upper_bound(field):g}."
    return errors


def bound_constraints(model: type[models.Model]) -> list[models.CheckConstraint]:
    """A check constraint per numeric field holding it to its upper bound."""
    table = model._meta.db_table
    taken = {c.name for c in model._meta.constraints}
    constraints = []
    for name, limit in upper_bounds(model).items():
        constraint_name = f"{table}_{name}_max"
        if constraint_name in taken:
            continue
        if isinstance(model._meta.get_field(name), models.IntegerField):
            limit = int(limit)
        constraints.append(models.CheckConstraint(condition=models.Q(**{f"{name}__lte": limit}), name=constraint_name))
    return constraints


def add_bound_constraints(model: type[models.Model]) -> None:
    """Add :func:`bound_constraints` to a kind's model as it is created (class_prepared)."""
    extra = bound_constraints(model)
    if not extra:
        return
    model._meta.constraints = [*model._meta.constraints, *extra]
    # The migration autodetector reads the constraints only of models declaring some.
    model._meta.original_attrs["constraints"] = model._meta.constraints


def describe(field: models.Field) -> str:
    """The sentence "At most 1,000,000." for the field descriptions of the API and the admin."""
    limit = upper_bound(field)
    if limit is None:
        return ""
    text = f"{int(limit):,}" if limit == int(limit) else f"{limit:g}"
    return f"At most {text}."


__all__ = ["CEILING", "bound_constraints", "describe", "out_of_bounds", "upper_bound", "upper_bounds"]
