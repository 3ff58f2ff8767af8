from hems.sdk import KindAdmin


class HvacAdmin(KindAdmin):
    pass
