"""What a live device needs besides its state: broker credentials and the commands sent to it."""

from __future__ import annotations

from django.db import models


class DeviceCredentials(models.Model):
    """A live device's MQTT login: the username names its topics, the password is kept
    only as a hash in the broker's own format (mosquitto's ``$7$`` PBKDF2-SHA512), so the
    password file is written from these rows as they are."""

    device = models.OneToOneField(
        "devices.Device", primary_key=True, on_delete=models.CASCADE, related_name="credentials"
    )
    username = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=255)
    rotated_at = models.DateTimeField()

    class Meta:
        db_table = "hems_device_credentials"

    def __str__(self) -> str:
        return self.username


class CommandState(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"


class DeviceCommand(models.Model):
    """A change of a controllable field sent to a live device. Pending until the device
    reports the new value; failed when it has not after ``HEMS_LIVE_COMMAND_TIMEOUT_SECONDS``
    (decided when read, so no job has to sweep). The configured value itself stays on
    the device's own row whatever happens here."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="commands")
    field = models.CharField(max_length=64)
    value = models.JSONField()
    sent_at = models.DateTimeField()
    state = models.CharField(max_length=9, choices=CommandState.choices, default=CommandState.PENDING)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "hems_device_command"
        indexes = [models.Index(fields=["device", "-sent_at"], name="hems_device_command_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=CommandState.values), name="hems_device_command_state_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} to device {self.device_id} ({self.state})"
