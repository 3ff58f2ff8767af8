from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "hems.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
