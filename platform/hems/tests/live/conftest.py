from hems.tests.live.mqtt import mosquitto, service  # noqa: F401  (fixtures)
