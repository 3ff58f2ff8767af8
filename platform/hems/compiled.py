"""Querysets the API runs on every request, compiled once.

Django compiles a queryset to SQL each time it runs it; for the queries every request
makes (the caller's user, the device listing's dozen joins) that costs more than
PostgreSQL answering them. A :class:`CompiledQuery` compiles its queryset once per
database, with placeholder values where each run's parameters go, and turns each run's
rows into models exactly as the queryset would (``ModelIterable``'s steps: converters,
the base row, each row ``select_related`` joined).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql import Query


@dataclass(frozen=True)
class _Compiled:
    query: Query
    sql: str
    select: list
    klass_info: dict
    annotation_col_map: dict
    col_count: int
    init_list: list[str]
    base: slice
    populators: list  # Django's RelatedPopulator: no state of its own between rows


class CompiledQuery:
    """``build(*placeholders)``'s SQL, compiled once per database (and ``key()``), run
    with other values in the placeholders' places."""

    def __init__(
        self, build: Callable[..., QuerySet], placeholders: Sequence, key: Callable[[], tuple] = tuple
    ) -> None:
        self.build = build
        self.placeholders = tuple(placeholders)
        self.key = key  # what else the SQL depends on (the installed device kinds, say)
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        query = self.build(*self.placeholders).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if tuple(params) != self.placeholders:
            raise RuntimeError(f"the query has parameters {params!r}, not {self.placeholders!r}")
        fields = compiler.klass_info["select_fields"]
        select = compiler.select
        return _Compiled(
            query=query,
            sql=sql,
            select=select,
            klass_info=compiler.klass_info,
            annotation_col_map=compiler.annotation_col_map,
            col_count=compiler.col_count,
            init_list=[column[0].target.attname for column in select[fields[0] : fields[-1] + 1]],
            base=slice(fields[0], fields[-1] + 1),
            populators=get_related_populators(compiler.klass_info, select, alias),
        )

    def compiled(self, alias: str) -> _Compiled:
        key = (alias, *self.key())
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(alias)
                self._compiled[key] = compiled
        return compiled

    def run(self, params: Sequence, alias: str, before: str = "") -> list:
        """The models the queryset would answer with ``params`` in the placeholders'
        places, in its order. ``before``: statements without parameters sent ahead of the
        query in the same round trip (PostgreSQL runs the two as one transaction)."""
        if "%" in before:  # the driver would read it as a parameter's place
            raise ValueError("statements sent before a compiled query take no parameters: no '%' in them")
        compiled = self.compiled(alias)
        model = compiled.query.model
        # A compiler of this thread's connection, for its converters; the SQL is the one kept.
        compiler = compiled.query.get_compiler(using=alias)
        compiler.select, compiler.klass_info = compiled.select, compiled.klass_info
        compiler.annotation_col_map, compiler.col_count = compiled.annotation_col_map, compiled.col_count
        with connections[alias].cursor() as cursor:
            if before:
                cursor.execute(f"{before}; {compiled.sql}", tuple(params))
                cursor.nextset()  # past the answer of ``before``
            else:
                cursor.execute(compiled.sql, tuple(params))
            rows = cursor.fetchall()
        results = []
        for row in compiler.results_iter([rows]):
            instance = model.from_db(alias, compiled.init_list, row[compiled.base])
            for populator in compiled.populators:
                populator.populate(row, instance)
            results.append(instance)
        return results
