"""ORM queries compiled to SQL once per process, then run with each request's values.

Building a QuerySet and compiling it to SQL costs a page more than running it when the query
is a small lookup by key (the top bar's unread count, the user's teams): about half a
millisecond of Python each, on every page. Such a query's text never changes, only its
values, so `CompiledQuery` compiles it once per database with stand-in values and swaps the
real ones in for the stand-ins on every run.

The stand-ins are negative integers no row has; a query compiled here may therefore only
take integer values (ids), and must pass each of them to the database as a parameter (a
plain filter does). Nothing else differs from running the QuerySet: the same SQL, the same
database (the router's choice for the model), the same rows.
"""

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet

from core.db.prepared import prepared_statements

_FIRST_STAND_IN = -7_294_031_000


class CompiledQuery:
    """A query built by `build(**ids)` and compiled once per database (see above)."""

    def __init__(self, build: Callable[..., QuerySet], *names: str, prepare: bool = False):
        """`prepare`: also prepare the statement (core.db.prepared), for a query whose best
        plan does not depend on its values."""
        self._build = build
        self._prepare = prepare
        self._stand_ins = {name: _FIRST_STAND_IN - index for index, name in enumerate(names)}
        self._compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self._model_class: type | None = None

    def _sql(self, alias: str) -> tuple[str, tuple[Any, ...]]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            query = self._build(**self._stand_ins).query
            sql, params = query.get_compiler(alias).as_sql()
            missing = [name for name, value in self._stand_ins.items() if value not in params]
            if missing:
                raise ValueError(f"The query does not take {missing} as parameters.")
            compiled = self._compiled[alias] = (sql, tuple(params))
        return compiled

    def _run(self, wrap: str, ids: dict[str, int]) -> list[tuple]:
        if ids.keys() != self._stand_ins.keys():
            raise TypeError(f"Give exactly {sorted(self._stand_ins)}.")
        alias = router.db_for_read(self._model())
        sql, template = self._sql(alias)
        by_stand_in = {self._stand_ins[name]: int(value) for name, value in ids.items()}
        params = [by_stand_in.get(value, value) if type(value) is int else value
                  for value in template]
        with (prepared_statements(alias) if self._prepare else nullcontext()), \
                connections[alias].cursor() as cursor:
            cursor.execute(wrap.format(sql=sql), params)
            return cursor.fetchall()

    def _model(self) -> type:
        if self._model_class is None:
            self._model_class = self._build(**self._stand_ins).model
        return self._model_class

    def rows(self, **ids: int) -> list[tuple]:
        """Return the query's rows (build it with values_list for plain tuples)."""
        return self._run("{sql}", ids)

    def count(self, **ids: int) -> int:
        """Return how many rows the query has."""
        return int(self._run("SELECT COUNT(*) FROM ({sql}) counted", ids)[0][0])
