"""How the console is watched from outside: health, metrics, request ids, logs, error reports.

Plumbing only: nothing here reads a business model. The apps that own the data hand their
metrics in through `metrics.register_collector` (see docs/operations.md, "Observability").
"""
