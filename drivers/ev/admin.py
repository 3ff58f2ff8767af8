from hems.sdk import KindAdmin


class ElectricVehicleAdmin(KindAdmin):
    list_filter = ("status", "mode", "owner")
