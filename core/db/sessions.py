"""Django's database sessions, with the read every signed-in request makes prepared.

The session is read by its key (core.db.prepared): the same plan for every key, so it is
prepared once per connection instead of planned on every request. Everything else is
Django's `django.contrib.sessions.backends.db`, the table and `clearsessions` included.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from core.db.prepared import prepared_statements


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        with prepared_statements(using=self.model.objects.db):
            # (not in django-stubs)
            return super()._get_session_from_db()  # type: ignore[misc]
