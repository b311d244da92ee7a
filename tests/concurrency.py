"""Running test code in parallel threads, each with its own database connection."""

import threading

from django.db import connection


def run_together(*jobs):
    """Run each job in its own thread and connection, released at the same moment.

    Each job receives the shared barrier and must wait on it before its racing step; the
    result (or the exception raised) of each job is returned in order.
    """
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def runner(index, job):
        try:
            results[index] = job(barrier)
        except Exception as exc:  # the outcome is what the test inspects
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
