from hems.sdk import KindAdmin


class SolarPanelAdmin(KindAdmin):
    pass
