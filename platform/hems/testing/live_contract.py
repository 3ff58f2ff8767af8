"""The contract kit's live-telemetry checks (part of :class:`hems.testing.DriverContract`):
every codec of every kind (hems's JSON and the driver's own) decodes its sample payloads
within the kind's bounds, refuses malformed or out-of-bounds ones with a reason, and
its commands round-trip (what hems encodes, a device decodes back); a codec's fields
messages refuse junk with a reason."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from hems.plugins import registry
from hems.sdk.live import JSON, RefusedPayload, codecs_of, controllable
from hems.sdk.types import DeviceType, Status

MALFORMED = (
    b"",
    b"{",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"time": 5, "powerW": 1}',
    b'{"time": "2026-06-22T10:20:00Z", "powerW": "1200"}',
    b'{"time": "2026-06-22T10:20:00Z", "powerW": true}',
    b'{"time": "2026-06-22T10:20:00Z", "powerW": 1e999}',
    b'{"time": "2026-06-22T10:20:00Z", "powerW": -1}',
    b'{"time": "2026-06-22T10:20:00Z", "powerW": 1e15}',
    b'{"Time": "2026-06-22T10:20:00+02:00", "ENERGY": {"Power": -3}}',
    b'{"Time": "2026-06-22T10:20:00+02:00", "ENERGY": {"Power": 1e15}}',
)


def json_samples(kind) -> list[bytes]:
    """hems's own payload for a kind: idle, and at a tenth of what it can reach."""
    from hems.live.steps import power_bound

    power = min(power_bound(kind) / 10, 5_000.0)
    samples = []
    for p in (0.0, power):
        body: dict[str, Any] = {"time": "2026-06-22T12:20:00+02:00", "powerW": p}
        if kind.device_type == DeviceType.STORAGE:
            body |= {"flowW": -p, "levelWh": 0.0}
        samples.append(json.dumps(body).encode())
    return samples


def command_values(kind) -> dict[str, list[Any]]:
    """Sample values of each field a command sets."""
    values: dict[str, list[Any]] = {"status": [Status.ONLINE.value, Status.OFFLINE.value]}
    if kind.device_type == DeviceType.STORAGE:
        values["mode"] = [str(getattr(m, "value", m)) for m in getattr(kind.model, "SUPPORTED_MODES", ())]
    for name in kind.commands:
        if name in kind.example:
            values[name] = [kind.example[name]]
    return {name: found for name, found in values.items() if name in controllable(kind) and found}


class LiveContract:
    def test_codecs_decode_their_samples_within_the_kinds_bounds(self, kind_key):
        from hems.live.steps import validate

        kind = registry().kind(kind_key)
        for codec in codecs_of(kind):
            samples = json_samples(kind) if codec is JSON else list(codec.examples)
            assert samples, f"{codec.name}: a vendor codec gives `examples`, payloads as the vendor documents them"
            for payload in samples:
                report = codec.decode(payload, kind)
                assert report.time.tzinfo is not None, f"{codec.name}: a report's time is timezone-aware"
                reading = validate(report, kind)  # raises Refused if beyond the kind's bounds
                assert reading.time == report.time.timestamp()

    def test_codecs_refuse_malformed_payloads_with_a_reason(self, kind_key):
        from hems.live.steps import Refused, validate

        kind = registry().kind(kind_key)
        rng = random.Random(kind_key)
        noise = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))) for _ in range(30)]
        for codec in codecs_of(kind):
            for payload in [*MALFORMED, *noise]:
                try:
                    validate(codec.decode(payload, kind), kind)
                except RefusedPayload as exc:
                    assert str(exc), f"{codec.name}: a refusal says why"
                    continue
                except Refused:
                    continue  # beyond the kind's bounds: the pipeline's validate step refuses it
                pytest.fail(f"{codec.name} accepted {payload!r}")

    def test_commands_round_trip(self, kind_key):
        kind = registry().kind(kind_key)
        for codec in codecs_of(kind):
            for name, values in command_values(kind).items():
                for value in values:
                    try:
                        payload = codec.encode_command(name, value, kind)
                    except RefusedPayload:
                        assert codec is not JSON, f"hems's JSON encodes every command ({name})"
                        continue  # the vendor's device cannot take this command
                    assert isinstance(payload, bytes) and payload
                    assert codec.decode_command(payload, kind) == (name, value), f"{codec.name}: {name}={value!r}"

    def test_fields_messages_refuse_malformed_payloads_with_a_reason(self, kind_key):
        """A codec with a ``fields_topic`` reads nothing out of junk: what the ingest would
        otherwise take as the device's word on its fields (and confirm commands by)."""
        from hems.live.steps import Refused, decode_fields

        kind = registry().kind(kind_key)
        rng = random.Random(f"fields {kind_key}")
        noise = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))) for _ in range(30)]
        for codec in kind.codecs:
            if not codec.fields_topic:
                continue
            for payload in [*MALFORMED, *noise]:
                with pytest.raises(Refused) as refused:
                    decode_fields(payload, kind, codec.fields_topic)
                assert refused.value.detail, f"{codec.name}: a refusal says why ({payload!r})"

    def test_a_jsons_controllable_fields_confirm_commands(self, kind_key):
        """A device reporting a field's value in hems's JSON is read back with it."""
        kind = registry().kind(kind_key)
        for name, values in command_values(kind).items():
            body = json.loads(json_samples(kind)[0]) | json.loads(JSON.encode_command(name, values[0], kind))
            assert JSON.decode(json.dumps(body).encode(), kind).fields == {name: values[0]}
        assert datetime(2026, 6, 22, 10, 20, tzinfo=UTC) == JSON.decode(json_samples(kind)[0], kind).time
