"""Error reporting to Sentry (or a compatible service), switched on by SENTRY_DSN alone.

Settings call `init_error_reporting` only when SENTRY_DSN is set; without it sentry_sdk is
never imported. No personal data is sent by default: tickets hold customers' names, phone
numbers and addresses, and a report carries the request it failed on.
"""


def init_error_reporting(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration()],
    )
