"""Settings for the after-sales console, read from the environment (12-factor).

Every deployment-specific value comes from an environment variable or from a `.env`
file beside manage.py (created by `make run` for development). See docs/operations.md.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats

from core.observability.log_config import with_request_context

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE lets tests and deployments point at another file (or /dev/null for none).
_env_file = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.is_file():
    env.read_env(str(_env_file))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set it in the environment or .env)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "django_q",
    "import_export",
    "axes",
    "csp",
    "shop",
    "tickets",
    "routing",
    "sla",
    "notifications",
    "policies",
    "resolutions",
    "knowledge",
    "supervision",
    "reporting",
    "desk",
    "demo",
]

MIDDLEWARE = [
    # First and (nearly) last: the request latency by view covers all the others' work.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Next, so every log line of the request, and every answer, carries its id.
    "core.observability.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.views.middleware.CSPMiddleware",  # django-csp's, the header built once
    "core.views.middleware.PermissionsPolicyMiddleware",
    "core.views.middleware.NoStoreMiddleware",
    "core.views.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.views.middleware.MalformedInputMiddleware",
    "core.views.middleware.ConsoleLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so it turns a refused log-in into the lockout page whatever answered it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cs_console.urls"
WSGI_APPLICATION = "cs_console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "desk.views.context_processors.navigation",
                "notifications.views.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL (production, CI) via DATABASE_URL.
POSTGRESQL = "core.db.postgresql"  # Django's, with a health check that saves a round trip


def _database(url: str) -> dict:
    database = env.db_url_config(url)
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = POSTGRESQL
    return database


DATABASES = {
    "default": _database(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker share one file (docs/operations.md, "SQLite"). WAL lets
    # readers go on while one connection writes. IMMEDIATE takes the write lock when a
    # transaction begins: a DEFERRED one that reads first and then writes cannot wait for the
    # lock (SQLite answers "database is locked" at once), an IMMEDIATE one waits up to `timeout`
    # seconds, the busy timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

# --- Connection pooler. PgBouncer in transaction mode hands each transaction whatever server
# connection is free, so nothing may outlive a transaction on the server side: no named
# server-side cursors (iterator() outside a transaction would fetch its next chunk from
# another server connection; tests/cluster/test_pgbouncer.py shows it) and no prepared
# statements (core.db.prepared prepares none in this mode; Django binds parameters
# client-side, which never prepares, and psycopg's own threshold stays off).
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer-transaction"):
    raise ImproperlyConfigured(
        f"DATABASE_POOLER={DATABASE_POOLER!r}: leave it empty or set 'pgbouncer-transaction'."
    )
if DATABASE_POOLER == "pgbouncer-transaction":
    if DATABASES["default"]["ENGINE"] != POSTGRESQL:
        raise ImproperlyConfigured("DATABASE_POOLER=pgbouncer-transaction needs PostgreSQL.")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

# Chosen reads and writes whose plan does not depend on their values (the workspace's ticket,
# intake's INSERTs) are prepared on PostgreSQL, so they are not planned again on every request
# (core/db/prepared.py). Off with the pooler above, or here.
PREPARED_STATEMENTS = env.bool("PREPARED_STATEMENTS", default=True)
SESSION_ENGINE = "core.db.sessions"

# --- Read replica: the dashboard, exports and backtests read from a streaming replica when
# DATABASE_REPLICA_URL names one, while it answers and is at most REPLICA_MAX_LAG_SECONDS
# behind; a user who wrote within READ_YOUR_WRITES_SECONDS reads from the primary. Without it
# every read goes to "default", as before (core/db/, docs/operations.md, "Read replica").
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=10)
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = _database(env.str("DATABASE_REPLICA_URL"))
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
    # Connections are kept and checked as the primary's are.
    for _option in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _option in DATABASES["default"]:
            DATABASES["replica"].setdefault(_option, DATABASES["default"][_option])
    if DATABASES["replica"]["ENGINE"] == POSTGRESQL:
        # A replica host that does not answer holds a request at most this long (then: primary).
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # Tests create their database on the primary only; "replica" then reads that same database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db.router.ReplicaRouter"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "core.db.middleware.ReadYourWritesMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "cs_console.User"
# Django's ModelBackend, reading roles and permissions in one query instead of three.
# django-axes goes first: a locked-out user or address is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.selectors.auth_backends.ConsoleModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation: Chinese first, English second; times in Asia/Shanghai.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# In development WhiteNoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES: dict[str, dict[str, Any]] = {
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Uploaded files: evidence on MEDIA_ROOT, or in an S3-compatible bucket when S3_BUCKET
# is set (several nodes then share the files). Either way a file is only ever served through
# the console's permission-checked views, streamed from storage: objects are private, and
# no page or API answer carries a bucket URL.
S3_BUCKET = env.str("S3_BUCKET", default="")
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "default_acl": "private",
            # Names are generated (tickets.models.attachment_path); a clash gets a new
            # name rather than replacing someone's evidence.
            "file_overwrite": False,
            "signature_version": "s3v4",
            # A local or self-hosted endpoint has no per-bucket DNS names.
            "addressing_style": env.str("S3_ADDRESSING_STYLE",
                                        default="path" if S3_ENDPOINT_URL else "auto"),
            # Reading an object spools past this size to a temporary file, not memory.
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
else:
    STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Evidence files of tickets closed (or cancelled) more than this many days ago may be deleted
# by `purge_evidence_files`; 0 keeps them until a date is given with --before. The project's
# sources name no retention period for evidence; the E-Commerce Law (art. 31) asks platforms
# to keep transaction information at least three years after the transaction, so a value
# below 1095 should be a deliberate legal decision.
EVIDENCE_RETENTION_DAYS = env.int("EVIDENCE_RETENTION_DAYS", default=0)

# --- Security hardening that only makes sense behind HTTPS.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Off unless asked for: they are only right once every address of the site is served over
# HTTPS, and HSTS cannot be taken back from browsers that have seen it. docs/operations.md
# gives the production values.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy the request arrives as plain HTTP; the header the proxy sets
# (e.g. X-Forwarded-Proto) says whether the client used HTTPS. Name it only when the proxy
# always sets or strips that header, or clients could claim HTTPS themselves.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the console
# itself only. No inline script or style is allowed: the pages load their code from static
# files and htmx's indicator style lives in console.css (htmx-config turns its injection off).
# KNOWLEDGE_IMAGE_HOSTS (https hosts, comma-separated) are the only other places an article
# may show images from; the Markdown renderer drops every other external image.
KNOWLEDGE_IMAGE_HOSTS = env.list("KNOWLEDGE_IMAGE_HOSTS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *(f"https://{host}" for host in KNOWLEDGE_IMAGE_HOSTS)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Powerful browser features the console never uses, switched off for every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# --- Cache: throttling counts requests here. The default is per process, so with several
# gunicorn workers each keeps its own count; production sets CACHE_URL to a shared cache
# (redis://…) so the limits hold across workers (docs/SECURITY.md).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Log-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords the user name is
# locked, and so is the address they came from, each on its own, for AXES_COOLOFF_MINUTES
# (0: until an administrator deletes the access attempt in the admin).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_cool_off_minutes = env.int("AXES_COOLOFF_MINUTES", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=_cool_off_minutes) if _cool_off_minutes else None
# A comma-separated list; "username+ip_address" locks only that pair.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("AXES_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many reverse proxies in front of the console append to X-Forwarded-For. With none, the
# header is ignored: a client could write any address there to dodge the limits.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)

# --- REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.api.token_auth.TokenAuthentication",  # DRF's, with a cheaper read
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, bounded in size, depth, numbers and text (400, never a recursion error or a
    # 500); another body type answers 415. Uploads name their own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ConsoleAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.handlers.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "core.api.handlers.exception_handler",
    # Every request counts against the anonymous or the per-user rate; searches and intake
    # (views naming a throttle_scope) against a stricter one of their own as well. The
    # anonymous rate is counted by the token authentication (core/api/token_auth.py), which
    # every API request passes before DRF's permission check could refuse it.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.UserRateThrottle",  # DRF's rates, counted at a fixed cost
        "core.api.throttling.ScopedRateThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_RATE_ANON", default="30/minute"),
        "user": env.str("THROTTLE_RATE_USER", default="1200/minute"),
        "search": env.str("THROTTLE_RATE_SEARCH", default="60/minute"),
        "intake": env.str("THROTTLE_RATE_INTAKE", default="120/minute"),
        "customer_search": env.str("THROTTLE_RATE_CUSTOMER_SEARCH", default="20/minute"),
    },
}
# The API schema (/api/schema/) and its docs (/api/docs/) need a signed-in user unless this
# makes them public (core.api.schema.CanReadSchema).
API_SCHEMA_PUBLIC = env.bool("API_SCHEMA_PUBLIC", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "After-sales console API",
    "DESCRIPTION": (
        "Ticket intake from channels, ticket reads and transitions, and the audit trail.\n\n"
        "Malformed input (a NUL byte, invalid UTF-8, JSON nested deeper than 32 or over the size "
        "limit, absurd numbers, over-long fields) answers 400 with a `detail`, never a 5xx. "
        "A lost database connection answers 503 with `Retry-After`.\n\n"
        "**A 5xx may have committed**: the write can have happened before the answer was lost. "
        "Retrying `POST /api/v1/tickets/` with the same `Idempotency-Key` is safe: it returns the "
        "ticket the first attempt created instead of opening another."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["core.api.schema.CanReadSchema"],
    # Text fields that refuse blanks say so (minLength 1), so a client's empty string is no surprise.
    "ENFORCE_NON_BLANK_FIELDS": True,
    # The one PATCH (customer master data) validates its body whole: `reason` is required.
    "COMPONENT_SPLIT_PATCH": False,
    # Plumbing mixins' docstrings are not API descriptions.
    "GET_LIB_DOC_EXCLUDES": "core.api.schema.lib_doc_excludes",
    # Error answers (400/403/404/409/429/503 with their bodies) written into every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
    ],
    # Swagger UI from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Stable names for choice sets that several serializers share, or whose field names
    # (kind, state, category) mean different sets in different places; without them the
    # generator appends a hash to the name, which changes when the choices do.
    "ENUM_NAME_OVERRIDES": {
        "TicketStateEnum": "tickets.models.choices.TicketState",
        "TicketCategoryEnum": "tickets.models.choices.Category",
        "RequestReasonEnum": "tickets.models.choices.RequestReason",
        "MessageKindEnum": "tickets.models.timeline.MessageKind",
        "EvidenceKindEnum": "tickets.models.timeline.EvidenceKind",
        "ResolutionKindEnum": "policies.models.ResolutionKind",
        "CustomerTierEnum": "shop.models.CustomerTier",
        "ProductCategoryEnum": "shop.models.ProductCategory",
        "ArticleLanguageEnum": "knowledge.models.ArticleLanguage",
    },
}

# --- Background jobs (django-q2): the ORM broker needs no extra service; Redis when configured.
Q_CLUSTER = {
    "name": "cs_console",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    # A task that fails (a lost connection, a lock held past the busy timeout) is left
    # unacknowledged, so the broker hands it out again `retry` seconds later, at most
    # `max_attempts` times in all.
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": False,
    "catch_up": False,
    "label": "Django Q2",
}
if env.str("REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# --- Import/export of rule tables: CSV and Excel, each import previewed and in one transaction.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# django-import-export 4 wants the format classes themselves, not their dotted paths.
IMPORT_EXPORT_FORMATS = [base_formats.CSV, base_formats.XLSX]
# Importing rewrites a rule table, so it takes the change permission; exporting only viewing.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Console-specific settings.
# The shop's name as customers know it: pages they see (the survey) carry it, never the
# console's name. Empty: "Our shop" in the page's language (shop.selectors.shop_display_name).
SHOP_DISPLAY_NAME = env.str("SHOP_DISPLAY_NAME", default="")
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
# No compensation (other than a statutory one) exceeds this share of the order amount [000].
POLICY_PLATFORM_CAP_PERCENT = Decimal(env.str("POLICY_PLATFORM_CAP_PERCENT", default="30"))
# The payment backend resolutions execute through; the simulated one ships as the default.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="resolutions.services.payments.SimulatedGateway")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Observability: probes, metrics, request ids in the logs, error reports. See
# docs/operations.md, "Observability".
# text (as above) or json: one JSON object a line with timestamp, level, logger, message,
# request_id and user_id, for a log collector. Every handler gets the request id either way.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = with_request_context(LOGGING, log_format=LOG_FORMAT)
# Probes and scrapes reach each node directly over plain HTTP (not through the TLS proxy):
# they are answered there, not redirected to HTTPS by SECURE_SSL_REDIRECT.
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)/$", r"^metrics$"]
# /metrics answers a request bearing this token ("Authorization: Bearer ..."); without a
# token, only requests from this machine that no proxy relayed.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several worker processes (gunicorn): a directory, emptied before the server starts, where
# prometheus_client keeps each process's counters so a scrape of any worker adds them all up.
# prometheus_client reads the variable from the environment itself; it is checked here so a
# typo fails at start-up rather than at the first request.
_prometheus_dir = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if _prometheus_dir and not Path(_prometheus_dir).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={_prometheus_dir} is not a directory; create it (empty) "
        "before the server starts.")
# Error reports go to Sentry only when SENTRY_DSN is set; otherwise sentry_sdk is not even
# imported. Traces are sampled at SENTRY_TRACES_SAMPLE_RATE (0: errors only).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.observability.sentry import init_error_reporting

    init_error_reporting(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Audit history: reasons carry a stable key plus the agent's comment, so no length cap;
# reverting from a historical version would rewrite the past, so it is switched off.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Routing and the SLA clock.
# Where a ticket goes when no routing rule names a team.
ROUTING_DEFAULT_TEAM = env.str("ROUTING_DEFAULT_TEAM", default="after_sales")
# The address customers reach the console at (links in surveys sent by SMS).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Resolved tickets close by themselves after this many days without an objection.
AUTO_CLOSE_RESOLVED_AFTER_DAYS = env.int("AUTO_CLOSE_RESOLVED_AFTER_DAYS", default=3)
# An approved return should be sent within this many days, and reach the warehouse within
# that many days of shipping; otherwise the customer is reminded or the agent warned.
RETURN_SHIP_WITHIN_DAYS = env.int("RETURN_SHIP_WITHIN_DAYS", default=7)
RETURN_ARRIVE_WITHIN_DAYS = env.int("RETURN_ARRIVE_WITHIN_DAYS", default=10)

# --- Knowledge base.
# A published article not reviewed for this many days is flagged stale for QA.
KNOWLEDGE_STALE_AFTER_DAYS = env.int("KNOWLEDGE_STALE_AFTER_DAYS", default=180)
# Search ranks at most this many matching articles; a common word like 退款 matches most of
# the base, and ranking every match reads every document vector (see bench/KNOWLEDGE_SEARCH.md).
KNOWLEDGE_SEARCH_CANDIDATES = env.int("KNOWLEDGE_SEARCH_CANDIDATES", default=1000)
# The shop's name in script templates ({shop_name}); the shop's display name by default.
KNOWLEDGE_SHOP_NAME = env.str("KNOWLEDGE_SHOP_NAME", default=SHOP_DISPLAY_NAME)
# --- Quality and performance.
# Share of each day's closed tickets drawn at random for QA review (complaints and ratings
# below 3 stars are always reviewed).
QA_SAMPLE_PERCENT = env.float("QA_SAMPLE_PERCENT", default=5.0)
# The agent scorecard's response-time part is full at or below this average first response.
METRICS_FRT_TARGET_MINUTES = env.int("METRICS_FRT_TARGET_MINUTES", default=30)
