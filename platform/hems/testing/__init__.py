"""The driver contract kit: a pytest suite any driver runs against itself.

In a driver's tests::

    from hems.testing import DriverContract, Invalid

    class TestPoolPumpContract(DriverContract):
        driver = "pool_pump"
        valid = {"pool_pump": {"rated_power_w": 1_100, "hours_per_day": 6}}
        invalid = {"pool_pump": [Invalid({"rated_power_w": -1}, "rated_power_w")]}

The kit checks that the driver loads and registers exactly those kinds, that its
migrations are complete, that valid attributes save and read back through the
one-query listing, that each invalid set is refused by the model with the field
named and (unless ``db=False``) by the database too, and that its admin pages work.
It comes with the fixtures it needs (``hems.testing.plugin``, loaded by pytest
through hems's ``pytest11`` entry point).
"""

__all__ = ["DriverContract", "Invalid"]


def __getattr__(name: str):
    # Lazy: pytest loads hems.testing.plugin before Django is configured.
    if name in __all__:
        from hems.testing import contract

        return getattr(contract, name)
    raise AttributeError(f"module 'hems.testing' has no attribute {name!r}")
