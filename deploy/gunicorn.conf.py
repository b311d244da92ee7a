"""gunicorn settings of a web node (`gunicorn -c deploy/gunicorn.conf.py cs_console.wsgi`).

The address and the number of workers come from the command line (deploy/cluster.py,
deploy/systemd/cs-console-web@.service); what is here holds for every node.
"""

# A worker stuck longer than this is killed and replaced; the slowest pages (the monthly
# report as a spreadsheet) take a few seconds at a million tickets.
timeout = 60
graceful_timeout = 30
# Workers are replaced now and then, so a slow leak in a library never grows unbounded. Not
# more often: a new worker costs about half a second of CPU on its first requests even when
# forked from a loaded master (below), and twice that without. Replaced every 2,000 requests,
# a node at full load took in 6-14 % fewer tickets a second (bench/RESULTS.md, "5 December
# 2026"); every 20,000, under 1 %.
max_requests = 20000
max_requests_jitter = 2000
# The master imports the project once and each worker is forked from it, so a new worker does
# not import Django and the project again. A new release therefore needs a restart of the
# node; a reload (HUP) would only fork new workers from the code already loaded.
preload_app = True


def when_ready(server):
    """Load, in the master, what every worker would otherwise load on its first requests:
    the URL configuration (it imports every view, DRF and the API schema's code) and the
    translation catalogues. Forked workers then start with them."""
    if not server.cfg.preload_app:
        return
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils.translation import trans_real

    get_resolver().url_patterns  # noqa: B018 - reading it imports the URL configuration
    for code, _name in settings.LANGUAGES:
        trans_real.translation(code)


def pre_fork(server, worker):
    """Close the master's database connections before a worker is forked from it: a
    connection open in both would share one socket. Loading the project opens none, so
    this is a safeguard that costs nothing."""
    from django.db import connections

    connections.close_all()


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR, a dead worker's live gauges leave the shared files."""
    # Imported here: the master reads this file before the project is on its path.
    from core.observability.metrics import gunicorn_child_exit

    gunicorn_child_exit(server, worker)
