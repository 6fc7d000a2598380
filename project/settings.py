"""Settings for the inventory back office, driven by environment variables.

With no ``DATABASE_URL`` and no ``REDIS_URL`` the project runs on the embedded
default (SQLite file, file cache, filesystem Celery transport) so that a fresh
machine with only Python can run it; with them set, the same code runs on
PostgreSQL and Redis. See ``.env.example`` for every variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from project import objectstorage
from project.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Refuse to run in production with a default or short secret: sessions,
# password reset tokens and JWT signatures would be forgeable.
_INSECURE_KEY = "django-insecure-dev-only-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (at least 50 random characters) "
            "or DEBUG=1 for local development."
        )
    SECRET_KEY = _INSECURE_KEY
elif not DEBUG and (len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is too short or a known insecure value.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Trigram and other PostgreSQL index types and lookups; inert on SQLite.
    "django.contrib.postgres",
    "import_export",
    "django_celery_results",
    "django_celery_beat",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    # Before backoffice: backoffice/admin.py re-themes the admins axes registers.
    "axes",
    # Layers, each importing only from those before it (docs/architecture.md).
    "dataio",
    "catalog",
    "movements",
    "purchasing",
    "dashboard",
    "integrations",
    # Last: its post_migrate hook grants the permissions every app created.
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "project.timezones.TimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The API clients' X-RateLimit-* headers (integrations/throttling.py).
    "integrations.middleware.RateLimitHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused login into the lockout page (project/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Server-side parameters (Django's documented option): psycopg then
        # prepares a statement once it ran prepare_threshold times on a
        # connection, and PostgreSQL stops planning the API's list queries
        # on every request. Safe here: no transaction-mode pooler sits
        # between Django and PostgreSQL (docs/operations.md, "Upgrades").
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", env_bool("DB_SERVER_SIDE_BINDING", True))
        options.setdefault("prepare_threshold", 5)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # web, worker and beat share one file: WAL lets readers run beside
            # the writer, IMMEDIATE takes the write lock up front so that two
            # writers wait for each other instead of failing mid-transaction.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Tests: a file, as in `make run`, not SQLite's shared in-memory
            # database, where a real worker's thread beside the test fails
            # with "database table is locked" instead of waiting (no WAL).
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
# Seconds a Redis call (cache or broker) may take to connect, and to answer.
# Redis answers in a millisecond; one that has not answered in this long is
# hung (a frozen process, a partition) and the request goes on without it.
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_SECONDS", 2)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "inventory"),
            "TIMEOUT": 60 * 60,
            # An unreachable or hung Redis must fail fast (the dashboard then
            # computes live, /health/ says 503) instead of hanging a request.
            # No retry: redis-py retries only when asked (retry_on_timeout,
            # retry_on_error), so one call costs at most one timeout.
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "retry_on_timeout": False,
            },
        }
    }
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
    # Read by kombu's Redis transport (kombu/transport/redis.py). Without
    # socket_timeout a publish to a hung Redis waits forever. The worker's
    # BRPOP waits 1 s at a time (brpop_timeout), well inside it.
    # visibility_timeout: a message of an acks-late task (imports, exports)
    # not acknowledged after this long is handed to a worker again. It must
    # exceed the longest such task (TRANSFER_TASK_TIME_LIMIT, 16 min), or a
    # job still running would be delivered twice. A dead worker's job does
    # not wait for it: the heartbeat sweep fails it within ~2 minutes
    # (dataio.notifications), and a late redelivery finds it finished.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "retry_on_timeout": False,
        "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 20 * 60),
    }
else:
    # A cache every process on the machine shares (web, worker, beat), so a
    # metric the worker computes is what the web process reads.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 60 * 60,
        }
    }
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    # The exchange tables of broadcasts (worker remote control); kombu's
    # default is ./control, relative to whichever directory a process starts in.
    _control_dir = VAR_DIR / "celery" / "control"
    for _dir in (_queue_dir, _processed_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport, with messages written atomically
    # (project/filebroker.py). kombu accepts a class path as the transport,
    # not as a URL scheme: with no broker URL, Celery uses this transport.
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or None
    if CELERY_BROKER_URL is None:  # a given URL names its own transport
        CELERY_BROKER_TRANSPORT = "project.filebroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        "control_folder": str(_control_dir),
    }

CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing (a web request queuing an export) must fail in bounded time when
# the broker is down or hung: connect within REDIS_TIMEOUT_SECONDS, and one
# retry on a fresh connection instead of kombu's default three. A job that
# cannot be queued is marked Failed (retryable) and the person is told.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULER = "project.beat:HeartbeatScheduler"
BEAT_HEARTBEAT_FILE = env_str("BEAT_HEARTBEAT_FILE", str(VAR_DIR / "beat-heartbeat"))

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# The admin is the whole UI: a login without ?next= lands on its index, not
# on Django's default /accounts/profile/ (a 404 here).
LOGIN_REDIRECT_URL = "admin:index"
# Proxies in front of Django: 1 behind our nginx, in both of its modes (in
# the load-balancer mode nginx itself takes the client address from the
# balancer's header, trusted only from NGINX_TRUSTED_PROXIES, and appends
# it). The client address is the last one the trusted proxy appended to
# X-Forwarded-For. The login lockout and the API's token throttle
# both use it; 0 trusts only REMOTE_ADDR, so a client cannot pick its own
# address. API_NUM_PROXIES is its former name.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", env_int("API_NUM_PROXIES", 0))

# Brute-force protection (django-axes, see project/lockout.py and
# docs/configuration.md): a username from one address is locked after
# LOGIN_FAILURE_LIMIT failures within LOGIN_LOCKOUT_MINUTES, and an address
# after LOGIN_ADDRESS_FAILURE_LIMIT failures over any usernames. Attempts
# live in the database, so the lockout holds when Redis is down. It covers
# the admin login and the API's token/ (both call authenticate()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "project.lockout.LoginAttemptHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "project.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "project.lockout.lockout_response"

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("pt-br", _("Brazilian Portuguese"))]
# Ours first; then third-party strings whose packages ship no pt_BR catalog
# (django-unfold), kept by hand in locale_vendor/ (makemessages does not touch it).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = env_str("TIME_ZONE", "America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Private files (exports, uploads): never under a public URL; served only by
# a view that checks ownership (see dataio.views).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-public/"
WHITENOISE_USE_FINDERS = DEBUG
# The default storage holds them: the local disk under MEDIA_ROOT, or with
# STORAGE_URL (or django-storages' AWS_* variables) a private S3-compatible
# bucket that every web and worker host shares (project/objectstorage.py).
STORAGE_URL = env_str("STORAGE_URL", "")
_storage_options = (
    objectstorage.parse_storage_url(STORAGE_URL)
    if STORAGE_URL
    # django-storages' own variables; it reads AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY itself (or uses the machine's role).
    else {
        "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", ""),
        "location": env_str("AWS_LOCATION", ""),
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", ""),
        "region_name": env_str("AWS_S3_REGION_NAME", ""),
    }
)
STORAGE_URL_EXPIRY_SECONDS = env_int("STORAGE_URL_EXPIRY_SECONDS", 300)
STORAGES = {
    "default": objectstorage.default_storage(
        _storage_options,
        connect_timeout=env_int("STORAGE_CONNECT_TIMEOUT", 5),
        read_timeout=env_int("STORAGE_READ_TIMEOUT", 30),
        max_attempts=env_int("STORAGE_MAX_ATTEMPTS", 3),
        expiry=STORAGE_URL_EXPIRY_SECONDS,
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (effective when DEBUG is off) --------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp). Django owns it, like the headers
# above; nginx adds none of them to what it proxies (docker/nginx/).
# script-src: only our own files and inline scripts carrying the request's
# nonce (the Swagger UI page); 'unsafe-eval' because unfold's Alpine.js (its
# standard build) evaluates every x-data/x-on expression with new Function.
# No 'unsafe-inline' for scripts. style-src needs 'unsafe-inline': unfold and
# our dashboard use style attributes, unfold a theme <style> without a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE, csp_constants.UNSAFE_EVAL],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        # Swagger UI and unfold draw icons from data: URIs.
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"

# --- REST API -------------------------------------------------------------
# The API's own layer lives in project/api/ (see docs/api.md).
REST_FRAMEWORK = {
    # People's tokens and API clients' tokens (integrations/authentication.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # Before the model permissions: a client missing a scope is told which.
        "integrations.permissions.ScopePermission",
        "project.api.permissions.ModelPermissions",
    ],
    # Each API client's own rate limit; people are not limited here.
    "DEFAULT_THROTTLE_CLASSES": ["integrations.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["project.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["project.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "project.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "project.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "project.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_TOKEN_THROTTLE_RATE", "10/minute")},
    # The throttle keys on the client address (see TRUSTED_PROXY_COUNT).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API clients (integrations/): how long a client's access token lasts, and
# how often a process writes the requests it counted to the client's row.
API_CLIENT_TOKEN_MINUTES = env_int("API_CLIENT_TOKEN_MINUTES", 15)
API_CLIENT_USAGE_FLUSH_SECONDS = env_int("API_CLIENT_USAGE_FLUSH_SECONDS", 5)
# Days the change feed keeps (integrations/feed.py); a client further behind resyncs.
CHANGE_FEED_RETENTION_DAYS = env_int("CHANGE_FEED_RETENTION_DAYS", 30)
# How long a web process reuses a verified token's user and permissions
# (project.api.authentication); 0 turns that cache off.
API_USER_CACHE_SECONDS = env_int("API_USER_CACHE_SECONDS", 10)
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY", SECRET_KEY)
if not DEBUG and len(JWT_SIGNING_KEY.encode()) < 32:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be at least 32 bytes long.")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=30),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory API",
    "DESCRIPTION": (
        "JWT API for external systems: catalog, stock movements (inflows and "
        "outflows) and dashboard metrics. Get a token at /api/v1/token/ and send "
        "it as `Authorization: Bearer <access>`. Errors share one body: "
        "`{code, detail, errors?}`. Guide: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our static files (drf-spectacular-sidecar), pinned with the
    # requirements: no CDN at run time, works on a network without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "project.api.schema.declare_rate_limit_headers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "InflowReasonEnum": "movements.models.Inflow.Reason",
        "OutflowReasonEnum": "movements.models.Outflow.Reason",
    },
}

# --- Admin theme ----------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": _("Inventory"),
    "SITE_HEADER": _("Inventory back office"),
    "SITE_SUBHEADER": _("Stock, catalog and reports"),
    "SITE_URL": "/admin/",
    "SITE_SYMBOL": "inventory_2",
    "STYLES": [lambda request: static("backoffice/admin.css")],
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": lambda request: static("favicon.svg"),
        }
    ],
    "DASHBOARD_CALLBACK": "dashboard.page.dashboard_callback",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "project.admin_navigation.sidebar_navigation",
    },
}

# --- Domain settings ------------------------------------------------------
# How many recent movements the product page shows.
PRODUCT_LATEST_MOVEMENTS = env_int("PRODUCT_LATEST_MOVEMENTS", 15)
# Admin lists of millions of rows (project/admin_pagination.py): up to this
# many rows a list shows its exact count, past it the planner's estimate;
# from this offset on a page reads its ids first (a deferred join).
ADMIN_EXACT_COUNT_LIMIT = 10_000
ADMIN_DEFERRED_JOIN_OFFSET = 500
# A search counts its matches exactly up to this many (it rechecks table rows).
ADMIN_SEARCH_EXACT_COUNT_LIMIT = 200

# --- Dashboard metrics (dashboard.metrics, dashboard.refresh) -----------------
# A movement or product change refreshes the cached metrics this many seconds
# after it commits; changes within that window share one refresh.
METRICS_REFRESH_DEBOUNCE = env_int("METRICS_REFRESH_DEBOUNCE", 3)
# How long a metrics key lives in the cache (beat rewrites it every 5 minutes).
METRICS_CACHE_TIMEOUT = env_int("METRICS_CACHE_TIMEOUT", 24 * 60 * 60)
# Rows of the dashboard's low-stock table.
METRICS_LOW_STOCK_LIMIT = env_int("METRICS_LOW_STOCK_LIMIT", 20)
METRICS_CURRENCY_SYMBOL = env_str("METRICS_CURRENCY_SYMBOL", "R$")
# Celery queue of the refresh a change schedules; empty: Celery's default queue.
METRICS_REFRESH_QUEUE = env_str("METRICS_REFRESH_QUEUE", "")

# --- Imports, exports and private files (dataio) ---------------
# Uploads and generated files live under MEDIA_ROOT, which no URL serves; the
# download view checks ownership, then streams the file or, when nginx sits in
# front, hands it over with X-Accel-Redirect to this internal location.
PRIVATE_FILES_ACCEL_PREFIX = env_str("PRIVATE_FILES_ACCEL_PREFIX", "")
# With a bucket: "redirect" sends the owner to a signed URL that expires after
# STORAGE_URL_EXPIRY_SECONDS (the bucket must be reachable from browsers);
# "stream" passes the object through the web process (a private-network bucket).
STORAGE_DOWNLOAD = env_str("STORAGE_DOWNLOAD", "redirect")
if STORAGE_DOWNLOAD not in ("redirect", "stream"):
    raise ImproperlyConfigured("STORAGE_DOWNLOAD must be 'redirect' or 'stream'.")
# A million-row product CSV is about 90 MB (IMPORT_MAX_ROWS); nginx allows a
# little more (NGINX_MAX_BODY_SIZE in docker-compose.yml).
IMPORT_MAX_FILE_MB = env_int("IMPORT_MAX_FILE_MB", 200)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_000_000)
# How many invalid rows the preview page lists (the error report has them all).
IMPORT_PREVIEW_MAX_ERRORS = env_int("IMPORT_PREVIEW_MAX_ERRORS", 200)
# Our CNPJ: an NF-e addressed to another one is refused on receipt. Empty: any.
INVENTORY_COMPANY_CNPJ = env_str("INVENTORY_COMPANY_CNPJ", "")
# Workbooks and JSON are first parsed in a child process with these limits
# (dataio.probe): a crafted file cannot kill or hang the worker.
IMPORT_READER_MAX_MEMORY_MB = env_int("IMPORT_READER_MAX_MEMORY_MB", 2048)
IMPORT_READER_TIMEOUT_SECONDS = env_int("IMPORT_READER_TIMEOUT_SECONDS", 120)
TRANSFER_FILES_RETENTION_DAYS = env_int("TRANSFER_FILES_RETENTION_DAYS", 7)
TRANSFER_TASK_SOFT_TIME_LIMIT = env_int("TRANSFER_TASK_SOFT_TIME_LIMIT", 15 * 60)
TRANSFER_TASK_TIME_LIMIT = env_int("TRANSFER_TASK_TIME_LIMIT", 16 * 60)
# Queue of the import/export tasks (the worker consumes "celery" by default).
TRANSFER_TASK_QUEUE = env_str("TRANSFER_TASK_QUEUE", "celery")
# A redelivered task (worker killed) runs at most this many times in all.
TRANSFER_TASK_MAX_ATTEMPTS = env_int("TRANSFER_TASK_MAX_ATTEMPTS", 3)
# A running import or export writes a heartbeat this often; one whose
# heartbeat is older than the stale limit lost its worker, and the sweep
# (every minute) fails it, retryable: within stale + 60 s of the death.
TRANSFER_HEARTBEAT_SECONDS = env_int("TRANSFER_HEARTBEAT_SECONDS", 10)
TRANSFER_HEARTBEAT_STALE_SECONDS = env_int("TRANSFER_HEARTBEAT_STALE_SECONDS", 45)
# A Pending job whose message was sent this long ago is sent again (the same
# task id: a duplicate cannot run it twice), in case the broker lost it.
TRANSFER_PENDING_REPUBLISH_MINUTES = env_int("TRANSFER_PENDING_REPUBLISH_MINUTES", 5)
# Still Pending after this many minutes (re-sent several times): Failed.
TRANSFER_PENDING_TIMEOUT_MINUTES = env_int("TRANSFER_PENDING_TIMEOUT_MINUTES", 60)

# --- Observability --------------------------------------------------------
# Sentry is on only with a DSN (project.sentry); no personal data unless asked.
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_RELEASE = env_str("SENTRY_RELEASE", "")
try:
    SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0.0"))
except ValueError:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1.") from None
SENTRY_SEND_DEFAULT_PII = env_bool("SENTRY_SEND_DEFAULT_PII", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if SENTRY_DSN:
    from project.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=SENTRY_SEND_DEFAULT_PII,
    )
