"""Django's PostgreSQL backend with a health check that costs no round trip: the check
(``health``) and the engine that uses it (``base``)."""
