"""Find the installed drivers before Django starts.

Runs at settings time, so it imports nothing that needs the app registry: it reads
the ``hems.drivers`` entry points, drops the disabled ones, and checks that each
driver's Django app package can be imported. The survivors become Django apps; the
rest are remembered with the reason, for ``manage.py drivers`` and the logs.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import traceback
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "hems.drivers"

logger = logging.getLogger("hems.drivers")


@dataclass(frozen=True)
class DiscoveredDriver:
    """One entry point of the ``hems.drivers`` group, before it is loaded."""

    name: str
    module: str  # the hook module named by the entry point
    app: str  # the Django app package holding it
    version: str
    entry_point: EntryPoint


@dataclass(frozen=True)
class DriverProblem:
    """A driver that is not running, and why."""

    name: str
    module: str
    version: str
    status: str  # "disabled" or "broken"
    reason: str


# Filled by discover(); read by hems.plugins once the app registry is ready.
discovered: dict[str, DiscoveredDriver] = {}
problems: dict[str, DriverProblem] = {}


def app_of(module: str) -> str:
    """The Django app package of a driver: the package holding its hook module."""
    package, _, _ = module.rpartition(".")
    return package or module


def short_reason(exc: BaseException) -> str:
    """One line naming the exception, for listings; the traceback goes to the log."""
    return f"{type(exc).__name__}: {exc}"


def discover(disabled: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Return the Django app packages of the enabled, importable drivers.

    :param disabled: entry point names to skip (the ``HEMS_DISABLED_DRIVERS`` setting).
    """
    discovered.clear()
    problems.clear()
    apps: list[str] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        version = ep.dist.version if ep.dist else "unknown"
        if ep.name in discovered:
            problems[ep.name + "@" + ep.value] = DriverProblem(
                ep.name,
                ep.module,
                version,
                "broken",
                f"entry point name {ep.name!r} is already used by {discovered[ep.name].module}",
            )
            continue
        if ep.name in disabled:
            problems[ep.name] = DriverProblem(
                ep.name, ep.module, version, "disabled", "disabled by HEMS_DISABLED_DRIVERS"
            )
            continue
        app = app_of(ep.module)
        try:
            # Django imports these while it starts; a failure there would stop every
            # driver, so it is caught here, per driver.
            importlib.import_module(app)
            if importlib.util.find_spec(app + ".apps") is not None:
                importlib.import_module(app + ".apps")
        except Exception as exc:  # any error in third-party code is that driver's
            problems[ep.name] = DriverProblem(ep.name, ep.module, version, "broken", short_reason(exc))
            logger.error("driver %r failed to load and is skipped:\n%s", ep.name, traceback.format_exc())
            continue
        discovered[ep.name] = DiscoveredDriver(ep.name, ep.module, app, version, ep)
        if app not in apps:
            apps.append(app)
    return apps
