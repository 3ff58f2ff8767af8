"""Each live device's own power limit, for the ingest's write: what its kind declares
for its configuration (``DeviceKind.power_limit_w``), the same limit the tick holds a
simulated device to.

The write reads each reported device's kind and ``updated_at`` with its state row (under
its lock). Limits are kept per device with that ``updated_at``: a device not seen yet,
or changed since, has its configuration read again, one query per kind for the whole
batch, and its limit computed by the kind, for all of them at once. A steady fleet costs
no query and no loop over devices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hems.sdk.bounds import CEILING


class Ratings:
    """A cache of per-device limits keyed by the device's ``updated_at``: three sorted
    arrays (24 bytes a device: 12 MB for 500,000), looked up for a batch at once."""

    def __init__(self) -> None:
        self.clear()
        self.queries = 0

    def limits(self, ids: np.ndarray, kind_keys: Sequence[str], updated: np.ndarray, kinds: Mapping) -> np.ndarray:
        """The limit (W) of each device (``ids`` distinct), in their order; the core's
        ceiling for a device whose kind is not installed (the write refuses it anyway)."""
        ids = np.asarray(ids, dtype=np.int64)
        updated = np.asarray(updated, dtype=float)
        result = np.full(len(ids), CEILING)
        hit = np.zeros(len(ids), dtype=bool)
        if len(self.ids):
            at = np.searchsorted(self.ids, ids).clip(0, len(self.ids) - 1)
            hit = (self.ids[at] == ids) & (self.versions[at] == updated)
            result[hit] = self.limit[at[hit]]
        missing = np.flatnonzero(~hit)
        keys = np.asarray(kind_keys, dtype=object)[missing]
        for key in sorted(set(keys.tolist()) & set(kinds)):
            rows = missing[keys == key]
            found = self.load(kinds[key], ids[rows])
            result[rows] = [found.get(device_id, CEILING) for device_id in ids[rows].tolist()]
            self.store(ids[rows], updated[rows], result[rows])
        return result

    def store(self, ids: np.ndarray, versions: np.ndarray, limits: np.ndarray) -> None:
        keep = ~np.isin(self.ids, ids)
        merged_ids = np.concatenate([self.ids[keep], ids])
        order = np.argsort(merged_ids, kind="stable")
        self.ids = merged_ids[order]
        self.versions = np.concatenate([self.versions[keep], versions])[order]
        self.limit = np.concatenate([self.limit[keep], limits])[order]

    def load(self, kind, ids: np.ndarray) -> dict[int, float]:
        """The limits of these devices of one kind: one query, one call of the kind."""
        from hems.simulation.portable_loader import decoder

        fields = []
        for name in kind.fields:
            try:
                fields.append(kind.model._meta.get_field(name))
            except Exception:
                continue  # a property such as level_wh: not configuration
        rows = list(kind.model.objects.filter(pk__in=ids.tolist()).values_list("pk", *(f.attname for f in fields)))
        self.queries += 1
        if not rows:
            return {}
        config = {}
        for position, field in enumerate(fields, start=1):
            dtype, decode = decoder(field)
            config[field.name] = np.array([decode(row[position]) for row in rows], dtype=dtype)
        limit = kind.power_limit_w(config, len(rows))
        return {int(row[0]): float(value) for row, value in zip(rows, limit.tolist(), strict=True)}

    def clear(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.versions = np.zeros(0)
        self.limit = np.zeros(0)


# One per process: the ingest's writes and the tests' share it (the version key keeps it right).
RATINGS = Ratings()
