from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "hems.simulation"
    label = "simulation"
    verbose_name = "Simulation"
    default_auto_field = "django.db.models.BigAutoField"
