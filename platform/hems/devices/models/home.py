from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, router

from hems.compiled import CompiledQuery


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (for example 'Europe/Berlin').", code="invalid")


def default_latitude() -> float:
    return settings.HEMS_DEFAULT_LATITUDE


def default_longitude() -> float:
    return settings.HEMS_DEFAULT_LONGITUDE


def default_time_zone() -> str:
    return settings.HEMS_DEFAULT_TIME_ZONE


class Home(models.Model):
    """A user's home: where the sun and the local clock are read for their devices."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="home"
    )
    latitude = models.FloatField(
        default=default_latitude, validators=[MinValueValidator(-90.0), MaxValueValidator(90.0)]
    )
    longitude = models.FloatField(
        default=default_longitude, validators=[MinValueValidator(-180.0), MaxValueValidator(180.0)]
    )
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "hems_home"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90), name="hems_home_latitude_range"
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180), name="hems_home_longitude_range"
            ),
        ]

    def __str__(self) -> str:
        return f"home of {self.owner}"

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(settings.HEMS_DEFAULT_TIME_ZONE)

    @classmethod
    def of(cls, user) -> "Home":
        """The user's home, created with the default location on first use."""
        homes = _BY_OWNER.run((user.pk,), router.db_for_read(cls))
        if homes:
            cls.owner.field.set_cached_value(homes[0], user)  # as get_or_create leaves it
            return homes[0]
        home, _ = cls.objects.get_or_create(owner=user)
        return home


# Every API request about history asks it: compiled once (-1 holds the owner's place).
_BY_OWNER = CompiledQuery(lambda owner: Home.objects.filter(owner_id=owner), (-1,))
