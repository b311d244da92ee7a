"""The database side of moving models from one app to another.

A move is two migrations. The receiving app's migration creates the models in Django's state
only and, in the database, renames each table to the receiving app's name and carries the
content types over (so permissions, admin log entries and anything else that names a content
type keep pointing at the same rows). The giving app's next migration deletes the models from
its state only. Nothing is copied: the rows, their ids and their history stay where they are.

The module name starts with "_" so Django's migration loader skips it.
"""

import re

from django.db import migrations
from django.db.backends.utils import truncate_name


def _renames(old_label: str, new_label: str, models: list[str]) -> list[tuple[str, str, str]]:
    return [(name, f"{old_label}_{name.lower()}", f"{new_label}_{name.lower()}") for name in models]


def _tables(apps, schema_editor, old_label: str, new_label: str, models: list[str]) -> list:
    """(model, old table, new table) for each model and its many-to-many tables."""
    max_length = schema_editor.connection.ops.max_name_length()
    found = []
    for name, old_table, new_table in _renames(old_label, new_label, models):
        model = apps.get_model(old_label, name)
        found.append((model, old_table, new_table))
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                found.append((through, through._meta.db_table,
                              truncate_name(f"{new_table}_{field.name}", max_length)))
    return found


def move_tables(old_label: str, new_label: str, models: list[str]) -> migrations.RunPython:
    """Rename the tables of `models` (model class names, history models included)."""

    def forwards(apps, schema_editor):
        tables = _tables(apps, schema_editor, old_label, new_label, models)
        for model, old_table, new_table in tables:
            schema_editor.alter_db_table(model, old_table, new_table)
        _retarget_functions(schema_editor, {old: new for _, old, new in tables})
        _rename_in_purge_records(schema_editor, {old: new for _, old, new in tables})

    def backwards(apps, schema_editor):
        tables = _tables(apps, schema_editor, old_label, new_label, models)
        for model, old_table, new_table in tables:
            schema_editor.alter_db_table(model, new_table, old_table)
        _retarget_functions(schema_editor, {new: old for _, old, new in tables})
        _rename_in_purge_records(schema_editor, {new: old for _, old, new in tables})

    return migrations.RunPython(forwards, backwards)


def move_content_types(old_label: str, new_label: str, models: list[str]) -> migrations.RunPython:
    """Give the moved models' content types (and so their permissions) the new app label."""
    names = [name.lower() for name in models]

    def relabel(apps, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        content_type.objects.filter(app_label=source, model__in=names).update(app_label=target)

    return migrations.RunPython(lambda apps, _: relabel(apps, old_label, new_label),
                                lambda apps, _: relabel(apps, new_label, old_label))


def _retarget_functions(schema_editor, tables: dict[str, str]) -> None:
    """Rewrite the PostgreSQL functions (trigger bodies) that name a renamed table.

    A trigger follows its table through a rename, but a function body names tables as text:
    the ledger's refund check and the routing-configuration version bump would otherwise
    fail on their next call.
    """
    if schema_editor.connection.vendor != "postgresql" or not tables:
        return
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, tables)) + r")\b")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema() AND p.prolang ="
            " (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')")
        definitions = [row[0] for row in cursor.fetchall()]
    for definition in definitions:
        body_start = definition.index("$")  # the name may match; only the body is rewritten
        body = pattern.sub(lambda match: tables[match.group(1)], definition[body_start:])
        if body != definition[body_start:]:
            schema_editor.execute(definition[:body_start] + body, params=None)


def _rename_in_purge_records(schema_editor, tables: dict[str, str]) -> None:
    """Retention purges name the history table they purged: follow the rename.

    The purge records are append-only on PostgreSQL; the audit-maintenance setting (the one
    the purge command itself uses) lets this one correction through, in this transaction.
    """
    connection = schema_editor.connection
    existing = set(connection.introspection.table_names())
    purges = next((name for name in ("cs_console_auditpurge", "tickets_auditpurge")
                   if name in existing), None)
    if purges is None:
        return
    quoted = schema_editor.quote_name(purges)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL cs_console.audit_maintenance = 'on'")
        for old, new in tables.items():
            cursor.execute(f'UPDATE {quoted} SET "table" = %s WHERE "table" = %s',  # noqa: S608
                           [new, old])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL cs_console.audit_maintenance = 'off'")
