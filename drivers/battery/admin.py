from hems.sdk import KindAdmin


class BatteryAdmin(KindAdmin):
    list_filter = ("status", "mode", "owner")
