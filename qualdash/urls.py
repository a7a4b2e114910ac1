import re

from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from qualdash.dashboard import views


class QualificationTypeId:
    """MTurk's QualificationTypeId pattern: anything else is a 404 before any API call."""

    regex = "[A-Z0-9]{1,64}"
    pattern = re.compile(regex)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(QualificationTypeId, "type_id")

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.type_list, name="type_list"),
    path("types/refresh/", views.refresh_types, name="refresh_types"),
    path("types/<type_id:type_id>/", views.worker_table, name="worker_table"),
    path("types/<type_id:type_id>/export.csv", views.export_csv, name="export_csv"),
    path("types/<type_id:type_id>/refresh/", views.refresh_workers, name="refresh_workers"),
]
