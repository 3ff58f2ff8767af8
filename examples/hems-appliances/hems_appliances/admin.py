from hems.sdk import KindAdmin


class ApplianceAdmin(KindAdmin):
    """The default kind page: the kind's fields and the live state."""
