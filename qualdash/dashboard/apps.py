from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "qualdash.dashboard"
    label = "dashboard"
