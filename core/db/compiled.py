"""ORM queries compiled to SQL once per process, then run with each request's values.

Building a QuerySet and compiling it to SQL costs a page more than running it when the query
is a small lookup by key (the top bar's unread count, the user's teams): about half a
millisecond of Python each, on every page. Such a query's text never changes, only its
values, so `CompiledQuery` compiles it once per database with stand-in values and swaps the
real ones in for the stand-ins on every run.

The stand-ins are negative integers no row has, or for values named in `texts`, strings no
caller sends; a query compiled here must pass each value to the database as a parameter (a
plain filter does). Nothing else differs from running the QuerySet: the same SQL, the same
database (the router's choice for the model), the same rows, as tuples or, for a plain
query of a model, as its instances.
"""

import functools
import re
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet

from core.db.prepared import enabled as prepared_statements_enabled
from core.db.prepared import prepared_statements

_FIRST_STAND_IN = -7_294_031_000

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    # For a plain query of a model: the attnames of its columns, in order (else None).
    attnames: tuple[str, ...] | None
    # What the compiler would convert the columns' values with ({position: (converters,
    # column)}): dates and decimals come back from SQLite as text, for one.
    converters: dict[int, tuple[list[Any], Any]]


class CompiledQuery:
    """A query built by `build(**values)` and compiled once per database (see above)."""

    def __init__(self, build: Callable[..., QuerySet], *names: str, texts: tuple[str, ...] = (),
                 prepare: bool = False, literal_constants: bool = False):
        """`names`: the integer values (ids) `build` takes; `texts`: its string values.
        `prepare`: also prepare the statement (core.db.prepared), for a query whose best
        plan does not depend on its values.
        `literal_constants` (with `prepare`): the values `build` itself puts in, the same on
        every run (a queue's open states), are written into the statement as literals, and
        only the caller's values stay parameters. A partial index's condition (`state IN
        (...)`) is then in the statement itself, so the plan PostgreSQL prepares once for
        any parameters (its "generic" plan) can still use that index."""
        self._build = build
        self._prepare = prepare
        self._literal_constants = literal_constants and prepare
        self._stand_ins: dict[str, int | str] = {
            name: _FIRST_STAND_IN - index for index, name in enumerate(names)}
        self._stand_ins.update({name: f"\u2063stand-in {name}\u2063" for name in texts})
        self._compiled: dict[str, _Compiled] = {}
        self._model_class: type[Model] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The values the query takes, ids and texts."""
        return tuple(self._stand_ins)

    def _sql(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiler = self._build(**self._stand_ins).query.get_compiler(alias)
            sql, params = compiler.as_sql()
            missing = [name for name, value in self._stand_ins.items() if value not in params]
            if missing:
                raise ValueError(f"The query does not take {missing} as parameters.")
            if self._literal_constants and prepared_statements_enabled(alias):
                sql, params = _with_literal_constants(
                    sql, params, set(self._stand_ins.values()), connections[alias])
            columns = [column for column, _sql, _alias in compiler.select]
            compiled = self._compiled[alias] = _Compiled(
                sql, tuple(params), _attnames(compiler), compiler.get_converters(columns))
        return compiled

    def _run(self, wrap: str, values: dict[str, int | str]) -> tuple[str, list[tuple]]:
        if values.keys() != self._stand_ins.keys():
            raise TypeError(f"Give exactly {sorted(self._stand_ins)}.")
        alias = router.db_for_read(self._model())
        compiled = self._sql(alias)
        by_stand_in = {self._stand_ins[name]: _checked(name, self._stand_ins[name], value)
                       for name, value in values.items()}
        params = [by_stand_in.get(value, value) if type(value) in (int, str) else value
                  for value in compiled.params]
        with (prepared_statements(alias) if self._prepare else nullcontext()), \
                connections[alias].cursor() as cursor:
            cursor.execute(wrap.format(sql=compiled.sql), params)
            return alias, cursor.fetchall()

    def _converted_rows(self, values: dict[str, int | str]) -> tuple[str, list[tuple]]:
        alias, rows = self._run("{sql}", values)
        converters = self._compiled[alias].converters
        if converters:
            connection = connections[alias]
            rows = [_converted(row, converters, connection) for row in rows]
        return alias, rows

    def _model(self) -> type[Model]:
        if self._model_class is None:
            self._model_class = self._build(**self._stand_ins).model
        return self._model_class

    def rows(self, **values: int | str) -> list[tuple]:
        """Return the query's rows (build it with values_list for plain tuples)."""
        return self._converted_rows(values)[1]

    def count(self, **values: int | str) -> int:
        """Return how many rows the query has."""
        return int(self._run("SELECT COUNT(*) FROM ({sql}) counted", values)[1][0][0])

    def instances(self, **values: int | str) -> list[Any]:
        """Return the query's rows as instances of its model (a plain query of the model:
        no values(), annotations or select_related)."""
        model = self._model()
        alias, rows = self._converted_rows(values)
        attnames = self._compiled[alias].attnames
        if attnames is None:
            raise TypeError("instances() needs a plain query of the model.")
        return [model.from_db(alias, attnames, row) for row in rows]

    def joined_instances(self, *models: type[Model], **values: int | str) -> list[tuple]:
        """Return each row as instances of `models`, one per model: for a values_list query
        that selects each model's concrete columns in turn (`concrete_columns`), the first
        model's own, then each related one's through its path. A join read this way costs
        one statement where select_related would cost an ORM query built every time."""
        alias, rows = self._converted_rows(values)
        layout = [(model, _model_columns(model, alias)[0]) for model in models]
        found = []
        for row in rows:
            instances, start = [], 0
            for model, attnames in layout:
                instances.append(model.from_db(alias, attnames, row[start:start + len(attnames)]))
                start += len(attnames)
            if start != len(row):
                raise TypeError("The query's columns are not those of the models given.")
            found.append(tuple(instances))
        return found


def _checked(name: str, stand_in: int | str, value: object) -> int | str:
    """The value for the database: an integer for an id, text for a text value."""
    if isinstance(stand_in, str):
        if not isinstance(value, str):
            raise TypeError(f"{name} takes text, not {type(value).__name__}.")
        return value
    return int(value)  # type: ignore[call-overload]  # an id: anything int() takes


_PLACEHOLDER = re.compile(r"%%|%s")


def _with_literal_constants(sql: str, params: Sequence[Any], stand_ins: set[int | str],
                            connection: Any) -> tuple[str, list[Any]]:
    """Return the statement with every parameter that is not a stand-in written in as a
    literal (quoted by the driver), and the stand-ins left as its only parameters."""
    values = iter(params)
    kept: list[Any] = []

    def replace(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        value = next(values)
        if type(value) in (int, str) and value in stand_ins:
            kept.append(value)
            return "%s"
        # A literal may hold a "%": doubled, as the statement still goes through %s binding.
        return connection.ops.compose_sql("%s", [value]).replace("%", "%%")

    return _PLACEHOLDER.sub(replace, sql), kept


def _converted(row: tuple, converters: dict[int, tuple[list[Any], Any]],
               connection: Any) -> tuple:
    """The row with its values converted (SQLCompiler.apply_converters, for one row)."""
    values = list(row)
    for position, (functions, column) in converters.items():
        value = values[position]
        for function in functions:
            value = function(value, column, connection)
        values[position] = value
    return tuple(values)


def concrete_columns(model: type[Model], path: str = "") -> list[str]:
    """The values_list names of `model`'s concrete columns in model order, reached through
    the relation `path` ("customer") or, without one, the query's own model."""
    prefix = f"{path}__" if path else ""
    return [prefix + field.attname for field in model._meta.concrete_fields]


def model_from_row(model: type[M], alias: str, values: Sequence[Any]) -> M:
    """An instance of `model` from a hand-written statement's row: its concrete columns'
    values in model order (`core.db.prepared.columns_of`), as `alias` returned them,
    converted as the ORM converts them (SQLite's dates and booleans, for one)."""
    attnames, converters = _model_columns(model, alias)
    if converters:
        values = _converted(tuple(values), converters, connections[alias])
    return model.from_db(alias, attnames, values)


@functools.cache
def _model_columns(model: type[Model], alias: str) -> tuple[list[str], dict]:
    fields = model._meta.concrete_fields
    compiler = model._default_manager.db_manager(alias).all().query.get_compiler(alias)
    converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
    return [field.attname for field in fields], converters


def _attnames(compiler: Any) -> tuple[str, ...] | None:
    """The attnames of the compiled query's columns when it selects plain model rows."""
    info = compiler.klass_info
    if (info is None or info.get("related_klass_infos") or compiler.annotation_col_map
            or info["select_fields"] != list(range(len(compiler.select)))):
        return None
    return tuple(column.target.attname for column, _sql, _alias in compiler.select)
