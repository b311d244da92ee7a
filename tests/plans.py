"""Reading PostgreSQL's query plans in tests."""

import itertools
import re
from collections.abc import Iterator, Sequence

from django.db import connection


def plan_nodes(plan: dict) -> Iterator[dict]:
    """Yield the plan's node and every node below it (EXPLAIN's JSON format)."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def generic_plan(sql: str, params: Sequence, *, analyze: bool = False,
                 seqscan: bool = True) -> dict:
    """Return the plan PostgreSQL prepares once for any values (its "generic" plan) of a
    statement written with %s placeholders, as it would run `params`.

    `seqscan=False`: leave sequential scans out, to ask whether the plan may use an index
    at all on a table too small for an index to win.
    """
    numbering = itertools.count(1)
    statement = re.sub(r"%s", lambda _match: f"${next(numbering)}", sql)
    arguments = "(" + ", ".join(["%s"] * len(params)) + ")" if params else ""
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        if not seqscan:
            cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            cursor.execute(f"PREPARE generic AS {statement}")
            cursor.execute(f"EXPLAIN ({options}) EXECUTE generic{arguments}", params)
            return cursor.fetchone()[0][0]["Plan"]
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("RESET enable_seqscan")
