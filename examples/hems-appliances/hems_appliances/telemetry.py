"""Live telemetry of an appliance on a Tasmota smart plug (Sonoff Pow, Gosund, Shelly
Plug S flashed with Tasmota...): the plug's own energy message, read as hems reads a
report. Mapped from Tasmota's documentation:

- the message: ``tele/<topic>/SENSOR`` every TelePeriod, for example (Sonoff Pow R2,
  https://tasmota.github.io/docs/devices/Sonoff-Pow-R2/)::

      {"Time":"2018-02-15T17:37:10","ENERGY":{"TotalStartTime":"2018-11-14T18:39:40",
       "Total":6.294,"Yesterday":5.340,"Today":0.954,"Period":217,"Power":2635,
       "ApparentPower":2650,"ReactivePower":282,"Factor":0.99,"Voltage":227,"Current":11.661}}

  ``Power`` is the active power in W; a plug with several channels sends a list
  (``"Power":[52,5]``), which is summed (https://tasmota.github.io/docs/Rules/ on
  arrays in ENERGY).
- the time: Tasmota writes local time without an offset unless ``SetOption52 1``
  ("display optional time offset from UTC in JSON payloads",
  https://tasmota.github.io/docs/Commands/#setoption52). A time without an offset is
  ambiguous, so it is refused with that advice.
- the topic: with ``FullTopic hems/v1/%topic%/%prefix%/`` and ``Topic <hems login>``
  (https://tasmota.github.io/docs/MQTT/#fulltopic) the plug publishes its SENSOR
  message on ``hems/v1/<login>/tele/SENSOR``, under its own topics as the broker's ACL
  requires; :attr:`TasmotaSensor.topic` says so.
- on/off: Tasmota's ``POWER`` command takes ``ON`` / ``OFF``
  (https://tasmota.github.io/docs/Commands/#power), on ``cmnd/<topic>/POWER``: with
  that FullTopic, ``hems/v1/<login>/cmnd/POWER``, where hems publishes it
  (:attr:`TasmotaSensor.command_topics`) and the broker's ACL lets the plug read it.
- availability: Tasmota's last will, ``tele/<topic>/LWT``, retained, ``Online`` /
  ``Offline`` (https://tasmota.github.io/docs/MQTT/#lwt): the ingest reads it as hems's
  own availability topic (:attr:`TasmotaSensor.availability_topic`).
- the relay's state: after every switch (a command, the button) the plug publishes
  ``stat/<topic>/POWER``, ``ON`` / ``OFF`` (https://tasmota.github.io/docs/MQTT/#command-flow);
  the SENSOR message does not carry it. Read on :attr:`TasmotaSensor.fields_topic`, it
  confirms the ``POWER`` command hems sent.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from hems.sdk import Codec, RefusedPayload, Report, Status


def power_of(value: Any) -> float:
    """ENERGY.Power: a number, or one per channel."""
    values = value if isinstance(value, list) and value else [value]
    total = 0.0
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise RefusedPayload("ENERGY.Power must be a finite number or a list of them")
        total += float(item)
    if total < 0:
        raise RefusedPayload("ENERGY.Power must not be negative")
    return total


class TasmotaSensor(Codec):
    """Tasmota's ``tele/<topic>/SENSOR`` energy message; commands as Tasmota's ``POWER`` payload."""

    name = "tasmota"
    topic = "tele/SENSOR"
    command_topics = {"status": "cmnd/POWER"}
    availability_topic = "tele/LWT"
    fields_topic = "stat/POWER"

    def __init__(self, examples: tuple[bytes, ...] = ()):
        self.examples = examples

    def decode(self, payload: bytes, kind) -> Report:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            raise RefusedPayload("not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("ENERGY"), dict):
            raise RefusedPayload("no ENERGY object")
        stamp = data.get("Time")
        if not isinstance(stamp, str):
            raise RefusedPayload("Time is missing")
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise RefusedPayload("Time is not ISO 8601") from None
        if moment.tzinfo is None:
            raise RefusedPayload("Time has no UTC offset: set SetOption52 1 on the plug")
        if "Power" not in data["ENERGY"]:
            raise RefusedPayload("ENERGY.Power is missing")
        return Report(time=moment, power_w=power_of(data["ENERGY"]["Power"]))

    def encode_command(self, name: str, value: Any, kind) -> bytes:
        if name != "status":
            raise RefusedPayload(f"a Tasmota plug only switches on and off, not {name}")
        return b"ON" if str(value) == Status.ONLINE else b"OFF"

    def decode_command(self, payload: bytes, kind) -> tuple[str, Any]:
        return "status", relay(payload, "a POWER command is ON or OFF")

    def decode_fields(self, payload: bytes, kind) -> dict[str, Any]:
        return {"status": relay(payload, "a POWER state is ON or OFF")}


def relay(payload: bytes, refusal: str) -> str:
    """Tasmota's ``ON`` / ``OFF`` (any case) as hems's status."""
    word = payload.decode(errors="replace").strip().upper()
    if word not in ("ON", "OFF"):
        raise RefusedPayload(refusal)
    return Status.ONLINE.value if word == "ON" else Status.OFFLINE.value


def sensor_message(power: Any, time: str = "2018-02-15T17:37:10+01:00") -> bytes:
    """A SENSOR message laid out as the documented Sonoff Pow R2's, at this power."""
    return (
        f'{{"Time":"{time}","ENERGY":{{"TotalStartTime":"2018-11-14T18:39:40","Total":6.294,'
        f'"Yesterday":5.340,"Today":0.954,"Period":217,"Power":{json.dumps(power)},"ApparentPower":2650,'
        f'"ReactivePower":282,"Factor":0.99,"Voltage":227,"Current":11.661}}}}'
    ).encode()


# The documented message (with SetOption52 1), and a two-channel plug's.
TASMOTA = TasmotaSensor(examples=(sensor_message(2635), sensor_message([52, 5], "2026-09-18T11:19:21+02:00")))
# A refrigerator's plug: the same layout at a compressor's power.
TASMOTA_FRIDGE = TasmotaSensor(examples=(sensor_message(85), sensor_message(0)))
