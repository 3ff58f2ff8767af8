"""The hooks a hems driver implements: the reference for driver authors.

A driver is a Django app package with a hook module, named by an entry point in the
``hems.drivers`` group of its distribution::

    [project.entry-points."hems.drivers"]
    pool_pump = "hems_pool_pump.driver"

The hook module implements the hooks below with ``@hems.sdk.hookimpl``. hems loads
it once Django's app registry is ready, so it may import the driver's models. Most of
a driver is data: it registers :class:`~hems.sdk.DeviceKind` objects, and the
behaviour of a kind (its model, validation, admin, physics) hangs off that object.
A hook that raises, or registers an invalid kind, marks its driver broken and the
other drivers keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from hems.sdk.kinds import DeviceKind

PROJECT = "hems"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration ---------------------------------------------------------------


@hookspec
def hems_register_kinds(register: Callable[[DeviceKind], None]) -> None:
    """Register the device kinds this driver contributes.

    Called once per process, after Django's app registry is ready. Call
    ``register(kind)`` once for every :class:`~hems.sdk.DeviceKind` the driver
    provides; one driver may provide several kinds (a heating driver might
    register ``floor_heating`` and ``heat_pump``).

    Must: pass kinds whose ``model`` lives in the driver's own Django app and
    derives from :class:`~hems.sdk.Device` (storage kinds: from
    :class:`~hems.sdk.StorageDevice`), and whose ``key`` no other driver uses.

    Must not: touch the database, start threads or read the clock: this runs while
    the process starts, including for ``manage.py migrate`` on an empty database.

    :param register: the callback that records one kind.
    """


# -- simulation contract ------------------------------------------------------


class Simulate(Protocol):
    """The batch physics of one device kind: ``DeviceKind.simulate``.

    The tick calls it with a chunk of many devices of one kind at once, all at the
    same instant, and stores what it returns as their new live state.

    Must:
      - be pure: the same batch gives the same result, to the bit. All randomness
        comes from the per-device seeds in the batch (derived from the device id and
        the tick's instant), never from global random state;
      - work on whole arrays (numpy) rather than loop over devices in Python where
        the arithmetic allows it; a batch can hold a hundred thousand devices;
      - integrate levels with each device's own elapsed time (Wh = W x h), so a late
        or missed tick neither creates nor loses energy;
      - respect the kind's physical bounds (power never negative; storage level in
        [0, capacity] and power within its charge and discharge limits).

    Must not: query the database, call the network, read the wall clock or write
    files. Everything it may use is in the batch.

    :param batch: a :class:`hems.sdk.Batch`: the devices' ids, their attributes
        (``batch.config``, one array per declared field), their last state, their
        homes (location, local clock, weather, the sun), the elapsed hours per device,
        the tick's instant (the scheduled minute, UTC) and, for storage kinds with an
        AUTO mode, the flow that would balance each home (``batch.demand_w``).
        ``batch.uniform(salt)`` gives seeded random numbers.
    :returns: a :class:`hems.sdk.State` for the same devices, in the same order.
        Storage kinds integrate levels with :func:`hems.sdk.integrate_flow`.

    The core then clips the result to physical bounds (and says so in the log),
    zeroes the devices their users set offline, and writes it back in bulk. The
    contract kit checks all of the above for every driver.
    """

    def __call__(self, batch, /):  # pragma: no cover - a protocol
        ...
