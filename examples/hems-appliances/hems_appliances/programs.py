"""The programs of dishwashers and washing machines, and the heat they need.

A heating phase lasts as long as the heater needs to bring the water (and the load
and the machine's own mass) from the mains temperature to the program's temperature:
a weaker heater heats for longer, cold winter water takes longer, and the energy of
a cycle comes out of the physics (about 1.1 kWh for a normal dishwasher cycle, 0.95 for
cotton at 40 °C), not out of a table.
"""

from __future__ import annotations

import numpy as np

WATER_KJ_PER_L_K = 4.186
HEATING_EFFICIENCY = 0.9  # the share of the heater's energy that stays in the water and the load


def mains_water_c(day_of_year: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Cold water temperature: 8 to 16 °C over the year, warmest in late summer."""
    summer_peak = np.where(latitude >= 0, 225.0, 225.0 - 182.6)
    return 12.0 + 4.0 * np.cos(2 * np.pi * (day_of_year - summer_peak) / 365.25)


def heating_minutes(heat_kj: np.ndarray, heater_w: np.ndarray) -> np.ndarray:
    """Minutes a heater of ``heater_w`` takes to put ``heat_kj`` into the water."""
    return np.maximum(heat_kj, 0.0) / HEATING_EFFICIENCY / (heater_w / 1000.0) / 60.0


def table(programs: dict[str, dict[str, float]], names: np.ndarray) -> dict[str, np.ndarray]:
    """Every program parameter per device, looked up from its program's name (an
    unknown name, which the database's constraint rules out, reads as the first
    program). The names are matched once for all the parameters."""
    unique, inverse = np.unique(names.astype(str), return_inverse=True)
    first = next(iter(programs.values()))
    rows = [programs.get(name, first) for name in unique]
    inverse = inverse.reshape(-1)
    return {
        column: np.array([row[column] for row in rows], dtype=float)[inverse] if len(names) else np.zeros(0)
        for column in first
    }


# -- dishwasher ---------------------------------------------------------------

DISHWASHER_PUMP_W = 40.0  # circulation pump, also while the water heats
DISHWASHER_WATER_L = 4.0  # per heated fill
DISHWASHER_LOAD_KJ_K = 21.0  # 13 place settings of crockery, the racks and the tub

DISHWASHER_PROGRAMS = {
    # Eco saves on heat, not on time: a cooler wash, soaked longer.
    "eco": {"wash_c": 45.0, "rinse_c": 52.0, "wash_min": 95.0, "dry_min": 60.0},
    "normal": {"wash_c": 60.0, "rinse_c": 65.0, "wash_min": 35.0, "dry_min": 30.0},
    "intensive": {"wash_c": 70.0, "rinse_c": 70.0, "wash_min": 45.0, "dry_min": 30.0},
    "quick": {"wash_c": 45.0, "rinse_c": 50.0, "wash_min": 15.0, "dry_min": 0.0},
}
DISHWASHER_PHASES = ("pre-rinse", "heat wash", "wash", "rinse", "heat final rinse", "final rinse", "drain", "dry")


def dishwasher_phases(program: np.ndarray, heater_w: np.ndarray, inlet_c: np.ndarray):
    """Durations (min) and powers (W) of each device's program phases."""
    p = table(DISHWASHER_PROGRAMS, program)
    wash_c, rinse_c = p["wash_c"], p["rinse_c"]
    water = DISHWASHER_WATER_L * WATER_KJ_PER_L_K
    heat_wash = (water + DISHWASHER_LOAD_KJ_K) * (wash_c - inlet_c)
    # The final rinse heats fresh water; the load is still lukewarm from the wash.
    heat_rinse = water * (rinse_c - inlet_c) + DISHWASHER_LOAD_KJ_K * (rinse_c - (wash_c + inlet_c) / 2)
    n = len(program)
    durations = np.stack(
        [
            np.full(n, 4.0),
            heating_minutes(heat_wash, heater_w),
            p["wash_min"],
            np.full(n, 8.0),
            heating_minutes(heat_rinse, heater_w),
            np.full(n, 10.0),
            np.full(n, 2.0),
            p["dry_min"],
        ],
        axis=1,
    )
    pump = np.full(n, DISHWASHER_PUMP_W)
    heating = heater_w + DISHWASHER_PUMP_W
    # Drying is condensation on the hot dishes: only the electronics draw.
    powers = np.stack([pump, heating, pump + 5.0, pump, heating, pump + 5.0, np.full(n, 30.0), np.full(n, 3.0)], axis=1)
    return durations, powers


# -- washing machine ----------------------------------------------------------

WASHER_LOAD_KJ_K = 16.0  # 5 kg of laundry, the drum and the tub

WASHER_PROGRAMS = {
    # tumble_w: the drum turning the wet load, on average over its pauses (eco pauses longest).
    "cotton_40": {
        "wash_c": 40.0,
        "water_l": 14.0,
        "wash_min": 70.0,
        "tumble_w": 150.0,
        "rinses": 2.0,
        "max_rpm": 1_800.0,
    },
    "cotton_60": {
        "wash_c": 60.0,
        "water_l": 14.0,
        "wash_min": 80.0,
        "tumble_w": 150.0,
        "rinses": 2.0,
        "max_rpm": 1_800.0,
    },
    "eco_40_60": {
        "wash_c": 36.0,
        "water_l": 9.0,
        "wash_min": 150.0,
        "tumble_w": 80.0,
        "rinses": 2.0,
        "max_rpm": 1_800.0,
    },
    "synthetics": {
        "wash_c": 40.0,
        "water_l": 10.0,
        "wash_min": 45.0,
        "tumble_w": 120.0,
        "rinses": 2.0,
        "max_rpm": 1_000.0,
    },
    "quick_30": {
        "wash_c": 30.0,
        "water_l": 8.0,
        "wash_min": 12.0,
        "tumble_w": 150.0,
        "rinses": 1.0,
        "max_rpm": 1_200.0,
    },
}
WASHER_PHASES = ("fill", "heat", "wash", "drain", "interim spin", "rinse 1", "rinse 2", "final spin")


def spin_power_w(rpm: np.ndarray) -> np.ndarray:
    """The motor's draw at a spin speed: friction plus air drag growing with speed squared."""
    return 60.0 + 420.0 * (rpm / 1_400.0) ** 2


def washer_phases(program: np.ndarray, heater_w: np.ndarray, spin_rpm: np.ndarray, inlet_c: np.ndarray):
    """Durations (min) and powers (W) of each device's program phases."""
    p = table(WASHER_PROGRAMS, program)
    wash_c = p["wash_c"]
    water_kj_k = p["water_l"] * WATER_KJ_PER_L_K
    rinses = p["rinses"]
    rpm = np.minimum(spin_rpm, p["max_rpm"])
    n = len(program)
    durations = np.stack(
        [
            np.full(n, 4.0),
            heating_minutes((water_kj_k + WASHER_LOAD_KJ_K) * (wash_c - inlet_c), heater_w),
            p["wash_min"],
            np.full(n, 2.0),
            np.full(n, 4.0),
            np.full(n, 9.0),
            np.where(rinses >= 2, 9.0, 0.0),
            np.where(rpm >= 1_000, 9.0, 6.0),
        ],
        axis=1,
    )
    # The drum turns slowly while the water heats: the heater dominates.
    powers = np.stack(
        [
            np.full(n, 60.0),
            heater_w + 30.0,
            p["tumble_w"],
            np.full(n, 40.0),
            spin_power_w(np.minimum(rpm, 800.0)),
            np.full(n, 110.0),
            np.full(n, 110.0),
            spin_power_w(rpm),
        ],
        axis=1,
    )
    return durations, powers
