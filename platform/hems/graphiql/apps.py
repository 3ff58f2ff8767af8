from django.apps import AppConfig


class GraphiQLConfig(AppConfig):
    """Holds the GraphiQL templates and the vendored scripts; no models."""

    name = "hems.graphiql"
    label = "hems_graphiql"
    verbose_name = "GraphiQL"
