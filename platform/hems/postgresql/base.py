"""Django's PostgreSQL backend, its health check before each reuse made local (see
``health``): for a kept connection (``is_usable``) and for a pooled one (``pool``)."""

from __future__ import annotations

from django.db.backends.postgresql import base

from hems.postgresql.health import pool_check, server_spoke


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        return not server_spoke(self.connection) or super().is_usable()

    @property
    def pool(self):
        # Django builds the pool with ``check=ConnectionPool.check_connection`` (a round
        # trip per request) and leaves no way to pass another check: it is built here as
        # Django builds it (5.2), with hems's check.
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not options or self.alias in self._connection_pools:
            return super().pool
        if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
            return super().pool  # Django's own error: pooling doesn't support persistent connections
        from psycopg_pool import ConnectionPool

        connect_kwargs = {**self.get_connection_params(), "autocommit": True}  # Django sets it later
        pool = ConnectionPool(
            kwargs=connect_kwargs,
            open=False,  # opened on first use, as Django's
            configure=self._configure_connection,
            check=pool_check if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
            **({} if options is True else options),
        )
        return self._connection_pools.setdefault(self.alias, pool)  # the first thread to build one wins
