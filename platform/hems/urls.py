from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from hems.api.view import HemsGraphQLView
from hems.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    # Token-authenticated only (the session is ignored), so exempt from CSRF.
    path("graphql/", csrf_exempt(HemsGraphQLView.as_view())),
    path("healthz", healthz),
]
