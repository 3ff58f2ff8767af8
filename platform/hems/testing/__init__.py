"""The driver test kit: the contract every driver runs, and helpers for its own tests.

In a driver's tests::

    from hems.testing import DriverContract, Invalid

    class TestPoolPumpContract(DriverContract):
        driver = "pool_pump"
        valid = {"pool_pump": {"rated_power_w": 1_100, "hours_per_day": 6}}
        invalid = {"pool_pump": [Invalid({"rated_power_w": -1}, "rated_power_w")]}

The kit checks that the driver loads and registers exactly those kinds, that its
migrations are complete, that valid attributes save and read back through the
one-query listing, that each invalid set is refused by the model with the field
named and (unless ``db=False``) by the database too, that its admin pages and the
API work, and that its ``simulate()`` stays within physical bounds over simulated
days, is deterministic, gives for a batch what it gives device by device, and does
no database queries. It comes with the fixtures it needs (``hems.testing.plugin``,
loaded by pytest through hems's ``pytest11`` entry point: ``user``, ``other_user``,
``api``).

Helpers for a driver's physics and integration tests (a driver's tests import these,
never the core's modules):

- :func:`kind` -- the registered :class:`~hems.sdk.DeviceKind` for a key;
- :func:`driver_status` -- ``(status, reason)`` of a driver by entry point name;
- :func:`make_batch`, :func:`run_day` -- build a :class:`~hems.sdk.Batch` as the tick
  would, or simulate a day;
- :func:`energy_over` -- devices' energy over minutes ticked one by one, or over one
  gap through the core's sub-steps, and their state at the end;
- :func:`run_tick` -- run one real tick (every shard, in process) at an instant;
- :func:`set_state` -- write a device's live state as a tick would;
- :func:`ingest` -- send a live device's payload through the real ingest pipeline;
- :class:`Api` -- a GraphQL client posting real requests (also the ``api`` fixture).
"""

__all__ = [
    "Api",
    "DriverContract",
    "Invalid",
    "driver_status",
    "energy_over",
    "ingest",
    "kind",
    "make_batch",
    "run_day",
    "run_tick",
    "set_state",
]

_HOMES = {
    "DriverContract": "hems.testing.contract",
    "Invalid": "hems.testing.contract",
    "Api": "hems.testing.api",
    "make_batch": "hems.testing.simulation",
    "run_day": "hems.testing.simulation",
    "energy_over": "hems.testing.simulation",
    "kind": "hems.testing.helpers",
    "driver_status": "hems.testing.helpers",
    "run_tick": "hems.testing.helpers",
    "set_state": "hems.testing.helpers",
    "ingest": "hems.testing.live",
}


def __getattr__(name: str):
    # Lazy: pytest loads hems.testing.plugin before Django is configured.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'hems.testing' has no attribute {name!r}")
