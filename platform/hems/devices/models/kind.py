from django.db import models

from hems.sdk.types import DeviceType


class KindRecord(models.Model):
    """The kinds the database accepts in ``Device.kind``.

    Rows are written from the driver registry after every migrate. A kind whose
    driver is later uninstalled keeps its row (``installed`` false), so its devices
    stay valid rows that the platform reports as belonging to a missing driver.
    """

    key = models.CharField(primary_key=True, max_length=64)
    device_type = models.CharField(max_length=16, choices=DeviceType.choices)
    label = models.CharField(max_length=100)
    driver = models.CharField(max_length=100)
    installed = models.BooleanField(default=True)

    class Meta:
        db_table = "hems_device_kind"
        verbose_name = "device kind"
        constraints = [
            # The target of the (kind, device_type) foreign key from hems_device.
            models.UniqueConstraint(fields=["key", "device_type"], name="hems_device_kind_key_type_uniq"),
            models.CheckConstraint(
                condition=models.Q(device_type__in=DeviceType.values), name="hems_device_kind_device_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key
