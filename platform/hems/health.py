"""``/healthz``: is this process able to serve (database and Redis reachable)?"""

import redis
from django.db import DatabaseError, connection
from django.http import JsonResponse

from hems.energy import cache


def healthz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
    if not cache.enabled():
        checks["redis"] = "not configured"  # the embedded mode
    else:
        try:
            cache.client().ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            checks["redis"] = "unreachable"  # a cache: the API still answers, slower
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse(checks, status=status)
