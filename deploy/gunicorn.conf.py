"""gunicorn settings of a web node (`gunicorn -c deploy/gunicorn.conf.py cs_console.wsgi`).

The address and the number of workers come from the command line (deploy/cluster.py,
deploy/systemd/cs-console-web@.service); what is here holds for every node.
"""

# A worker stuck longer than this is killed and replaced; the slowest pages (the monthly
# report as a spreadsheet) take a few seconds at a million tickets.
timeout = 60
graceful_timeout = 30
# Workers are replaced now and then, so a slow leak in a library never grows unbounded.
max_requests = 2000
max_requests_jitter = 200


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR, a dead worker's live gauges leave the shared files."""
    # Imported here: the master reads this file before the project is on its path.
    from core.observability.metrics import gunicorn_child_exit

    gunicorn_child_exit(server, worker)
