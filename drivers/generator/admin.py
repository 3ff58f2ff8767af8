from hems.sdk import KindAdmin


class GeneratorAdmin(KindAdmin):
    pass
