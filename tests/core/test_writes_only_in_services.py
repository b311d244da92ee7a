"""Every write lives in a service: the source is scanned for writes anywhere else.

A write is a model save or delete, a queryset update or delete, a create or bulk write, or
a call of the history helpers that save (save_with_history, write_history, simple-history's
bulk helpers). It may appear in `services.py` modules and `services/` packages only, apart
from the few files of ALLOWED, each with its reason. Admin pages write through services
too: the second test checks every registered ModelAdmin.
"""

import ast
from pathlib import Path

import pytest
from django.contrib import admin

from core.admin.history import ServiceWrites

ROOT = Path(__file__).resolve().parents[2]
# Every Django app of the project, found by its apps.py, so a new app is scanned too.
APP_DIRS = sorted(path.parent for path in ROOT.glob("*/apps.py"))

ALLOWED = {
    "core/services/audit.py": "the audited save and delete helpers the services call",
    "core/services/audit_chain.py": "seals history rows inside the history managers' bulk_create",
    "core/db/inserts.py": "the compiled INSERT the services call (insert_new, upsert); "
                          "Django's bulk_create where it cannot build one",
    "core/services/accounts.py": "the system and integration accounts, made on first need "
                              "(no history; create_integration_account prints the token)",
    "core/models/roles.py": "syncs the role groups to roles.py after every migrate",
    "supervision/management/commands/purge_audit_history.py":
        "the audit retention path: deletes history rows under the maintenance switch",
    "demo/services/shop.py": "development data for seed_demo",
    "demo/services/people.py": "development data for seed_demo",
    "demo/services/knowledge.py": "development data for seed_demo",
    "demo/services/bulk.py": "the bulk demo-data loader, COPY and raw history rows for 10^6 tickets",
    "tickets/services/seeding.py": "default teams, SLA policies and routing rules for data migrations",
    "policies/services/seeding.py": "the default rule table for data migrations",
    "core/tasks.py": "django-q schedules, created after every migrate",
    "resolutions/services/payments.py": "the simulated payment gateway's own records (the bank's side)",
}

# Calls that write whatever they are called on.
ALWAYS_WRITES = {"bulk_create", "bulk_update", "get_or_create", "update_or_create",
                 "bulk_history_create"}
# Functions that save through the history helpers.
WRITING_FUNCTIONS = {"save_with_history", "delete_with_history", "write_history",
                     "bulk_create_with_history", "bulk_update_with_history",
                     "insert_new", "upsert"}
# Calls that write when made on a manager or queryset (dicts and hashes have `update` too).
QUERYSET_WRITES = {"create", "update", "delete"}
# Managers and the queryset methods that return querysets.
QUERYSET_MARKERS = {"objects", "_default_manager", "history", "filter", "exclude", "all",
                    "select_related", "prefetch_related", "only", "defer", "order_by",
                    "select_for_update", "annotate", "distinct"}


def _names_in_receiver(node: ast.expr) -> set[str]:
    """Return the attribute and method names along a call chain like X.objects.filter(...)."""
    names = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return names


def _is_super_call(node: ast.expr) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


class WriteFinder(ast.NodeVisitor):
    """Collect (line, call) of every write in a module."""

    def __init__(self):
        self.writes: list[tuple[int, str]] = []
        self.functions: list[str] = []

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call):
        if self._is_write(node):
            self.writes.append((node.lineno, ast.unparse(node.func)))
        self.generic_visit(node)

    def _is_write(self, node: ast.Call) -> bool:
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in WRITING_FUNCTIONS
        if not isinstance(func, ast.Attribute):
            return False
        method, receiver = func.attr, func.value
        if method in WRITING_FUNCTIONS or method in ALWAYS_WRITES:
            # A model or manager extending its own method (super().save() in save) adds
            # behaviour to the write its caller makes; it is no new write.
            return not (_is_super_call(receiver) and self.functions[-1:] == [method])
        if method in ("save", "delete"):
            if _is_super_call(receiver) and self.functions[-1:] == [method]:
                return False
            if node.args:  # workbook.save(buffer), storage.delete(name): not a model
                return False
            committed = [kw for kw in node.keywords if kw.arg == "commit"]
            # form.save(commit=False) only builds the objects.
            return not (committed and isinstance(committed[0].value, ast.Constant)
                        and committed[0].value.value is False)
        if method in QUERYSET_WRITES:
            return bool(_names_in_receiver(receiver) & QUERYSET_MARKERS)
        return False


def _is_service_module(relative: Path) -> bool:
    return relative.stem == "services" or "services" in relative.parts[:-1]


def _scanned_files():
    for app_dir in APP_DIRS:
        for path in sorted(app_dir.rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or _is_service_module(relative):
                continue
            yield relative.as_posix(), path


def _writes_in(path: Path) -> list[tuple[int, str]]:
    finder = WriteFinder()
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return finder.writes


def test_writes_appear_only_in_services():
    found = {}
    for relative, path in _scanned_files():
        if relative in ALLOWED:
            continue
        writes = _writes_in(path)
        if writes:
            found[relative] = [f"line {line}: {call}(...)" for line, call in writes]

    assert found == {}, (
        "Writes outside the services (move each into a service of its app, or add the "
        f"file to ALLOWED with the reason): {found}")


def test_every_allowed_file_still_writes():
    """An entry of ALLOWED that no longer writes would silently let a future write in."""
    stale = [relative for relative in ALLOWED if not _writes_in(ROOT / relative)]
    assert stale == []


@pytest.mark.parametrize(("source", "is_write"), [
    ("Ticket.objects.filter(pk=1).update(state='x')", True),
    ("OutboxMessage.objects.create(body='x')", True),
    ("ticket.save(update_fields=['state'])", True),
    ("ticket.delete()", True),
    ("Team.objects.bulk_create(rows)", True),
    ("save_with_history(ticket, actor=None, reason='x')", True),
    ("context.update(number=1)", False),
    ("digest.update(chunk)", False),
    ("workbook.save(buffer)", False),
    ("storage.delete(name)", False),
    ("form.save(commit=False)", False),
])
def test_the_scan_tells_writes_from_lookalikes(source, is_write):
    finder = WriteFinder()
    finder.visit(ast.parse(source))
    assert bool(finder.writes) is is_write


def test_a_model_extending_its_own_save_is_no_new_write():
    finder = WriteFinder()
    finder.visit(ast.parse(
        "class Article:\n"
        "    def save(self, *args, **kwargs):\n"
        "        super().save(*args, **kwargs)\n"
        "    def publish(self):\n"
        "        super().save()\n"))
    assert [line for line, _call in finder.writes] == [5]


# Django's own user admin: accounts and passwords through Django's forms (deleting anyone
# the audit history names is refused, see core/admin/__init__.py).
ADMIN_ALLOWED = {"cs_console.User"}


@pytest.mark.django_db
def test_every_admin_page_that_may_write_writes_through_services(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user  # a superuser: whatever the page itself refuses stays refused
    project_apps = {path.name for path in APP_DIRS}
    writing_directly = []
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model.__name__}"
        if model._meta.app_label not in project_apps or label in ADMIN_ALLOWED:
            continue
        may_write = (model_admin.has_add_permission(request)
                     or model_admin.has_change_permission(request)
                     or model_admin.has_delete_permission(request))
        if may_write and not isinstance(model_admin, ServiceWrites):
            writing_directly.append(label)

    assert writing_directly == []
