from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from hems.api.view import HemsGraphQLView
from hems.health import healthz
from hems.metrics import observe_requests
from hems.metrics.exposition import metrics_view
from hems.push.sse import graphql_stream

# The admin's "View site" leads to the homeowner's dashboard.
admin.site.site_url = "/dashboard/"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Token-authenticated only (the session is ignored), so exempt from CSRF.
    path("graphql/", csrf_exempt(observe_requests(HemsGraphQLView.as_view()))),  # timed (hems.metrics)
    path("graphql/stream", graphql_stream),  # subscriptions over SSE (hems.push.sse)
    path("healthz", healthz),
    path("metrics", metrics_view),  # Prometheus; allowed networks and token only (SECURITY.md)
    path("dashboard/", include("hems.dashboard.urls")),
    path("", RedirectView.as_view(pattern_name="dashboard:index"), name="home"),
]
