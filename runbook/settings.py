"""Settings, all from environment variables (DESIGN section 8).

Without any environment the app runs the embedded default: SQLite and a Celery broker on
the file system under ``.data/``. Production sets ``DEBUG=0``, ``SECRET_KEY``,
``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (Redis).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from runbook import durations, logs

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_seconds(name, default):
    return timedelta(seconds=float(os.environ.get(name, default)))


DEBUG = env_bool("DEBUG")
# Demo mode: demo users with printed passwords and the stub receivers. Never in production.
DEMO_MODE = env_bool("DEMO_MODE")


def _secret_key():
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not (DEBUG or DEMO_MODE):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG and DEMO_MODE are off.")
    # A key made on this machine for the embedded default; never part of the repository.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    # For the API docs page: Swagger UI from the package's own static files, not a CDN.
    "ninja",
    "runbook",
    "routines",
    "incidents",
    "notifications",
    "offline",
    "review",
    "drills",
]

MIDDLEWARE = [
    # Outermost: the request id on every log line, and the latency of all that follows.
    "runbook.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "runbook.middleware.IdleSessionMiddleware",
    "runbook.middleware.NoStoreMiddleware",
    # After authentication: a signed-in person's own choice of language, never the browser's.
    "runbook.language.ChosenLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "runbook.urls"
WSGI_APPLICATION = "runbook.wsgi.application"

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
                "django.template.context_processors.i18n",
                "runbook.context_processors.app",
                "drills.context_processors.drill_menu",
            ],
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The owner of the tables, for `manage.py migrate` only (runbook/db_roles.py): the app's own
# DATABASE_URL is then a role that may read and append to the timeline but never rewrite it.
# Empty: migrations run as the app's role, as in the embedded default and the tests.
MIGRATE_DATABASE_URL = os.environ.get("MIGRATE_DATABASE_URL", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction begins, so two people pressing
    # "Kvittera" at once are serialised on SQLite as row locks serialise them on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The covering index for the figures' percentiles (IncidentMetrics) is for PostgreSQL;
    # SQLite makes it a plain index on reported_at, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "runbook.auth.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A session ends after this many minutes without activity (runbook/middleware.py).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:live"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): a lock-out after repeated failures, per user and address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy the client's address is read from X-Forwarded-For, and only when
# the request comes from one of TRUSTED_PROXIES (addresses or networks; runbook/client.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
AXES_CLIENT_IP_CALLABLE = "runbook.client.axes_client_ip"
AXES_USERNAME_CALLABLE = "runbook.client.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Pages name static files by their hashed names only; keeping just those, and not compressing
# the source maps (read by developer tools, never by a page), makes collectstatic about four
# times cheaper: it runs at every `make run` start and every test run.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# Security headers. A strict Content-Security-Policy: nothing inline, nothing from outside.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery. The embedded default uses kombu's file-system transport: no server needed, and
# acceptable because deadlines and outgoing messages are database rows (DESIGN section 7).
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Rendered fragments that polling pages share (runbook.polling): in Redis when there is one
# (CACHE_URL, else the broker's Redis), so every web process renders a change once; in the
# process's own memory in the embedded default. Losing it costs a render, never a change.
CACHE_URL = os.environ.get("CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "runbook",
            "TIMEOUT": 600,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": 600,
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

# Ringing the broker after commit (runbook/doorbell.py): at most this long per attempt, and
# after a failure no ringing for this long (the sweeps deliver and fire what is due meanwhile).
DOORBELL_TIMEOUT_SECONDS = float(os.environ.get("DOORBELL_TIMEOUT_SECONDS", "0.1"))
DOORBELL_QUIET_SECONDS = float(os.environ.get("DOORBELL_QUIET_SECONDS", "5"))

# Timers (DESIGN section 4). Each routine version has its own durations (its document); set,
# these replace every version's, so that tests and demos can run in seconds (runbook/durations.py).
RESERVE_ROUTINE_AFTER = durations.setting("RESERVE_ROUTINE_AFTER_SECONDS", 4 * 3600)
ACK_TIMEOUT = durations.setting("ACK_TIMEOUT_SECONDS", 15 * 60)
# A deadline whose firing raised this many sweeps running becomes a timeline event and a task.
TIMER_ALERT_AFTER_ATTEMPTS = int(os.environ.get("TIMER_ALERT_AFTER_ATTEMPTS", "3"))
# How often beat sweeps for due deadlines: a deadline fires at most about this late. The demo
# sweeps more often so that RESERVE_ROUTINE_AFTER_SECONDS=120 shows the reserve routine on time.
TIMER_SWEEP_INTERVAL = env_seconds("TIMER_SWEEP_SECONDS", 5 if DEMO_MODE else 30)
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "incidents.tasks.sweep",
        "schedule": TIMER_SWEEP_INTERVAL.total_seconds(),
        # A sweep nobody ran in time is worthless: the next one fires the same deadlines.
        # So sweeps queued while every worker was down do not pile up and run all at once.
        "options": {"expires": max(TIMER_SWEEP_INTERVAL.total_seconds() * 3, 5)},
    },
    # Re-sends what the broker lost (notifications app; incidents does not import it).
    "notifications-sweep": {
        "task": "notifications.tasks.sweep",
        "schedule": env_seconds("NOTIFY_SWEEP_SECONDS", TIMER_SWEEP_INTERVAL.total_seconds()).total_seconds(),
    },
}

# Bounds of the times people give (incidents/times.py): a disruption began at most this many
# days ago; a prognosis lies at most this many days ahead.
BEGAN_AT_MAX_AGE_DAYS = int(os.environ.get("BEGAN_AT_MAX_AGE_DAYS", "30"))
PROGNOSIS_MAX_DAYS = int(os.environ.get("PROGNOSIS_MAX_DAYS", "14"))
# One person opens at most this many incidents in this window (0: no limit).
OPEN_INCIDENT_LIMIT = int(os.environ.get("OPEN_INCIDENT_LIMIT", "20"))
OPEN_INCIDENT_WINDOW = timedelta(minutes=int(os.environ.get("OPEN_INCIDENT_WINDOW_MINUTES", "10")))

# The API's rate limits (django-ratelimit): requests per token and per client address, as
# "count/period" (s, m, h); empty: no limit. Counted in the "ratelimit" cache: Redis when the
# broker is Redis (shared by every process), else this process's memory (the embedded default).
API_RATE_PER_TOKEN = os.environ.get("API_RATE_PER_TOKEN", "120/m")
API_RATE_PER_ADDRESS = os.environ.get("API_RATE_PER_ADDRESS", "600/m")
RATELIMIT_CACHE_URL = os.environ.get(
    "RATELIMIT_CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
# (The "default" cache, for rendered page parts, is set above.)
CACHES["ratelimit"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": RATELIMIT_CACHE_URL,
        "KEY_PREFIX": "ratelimit",
    }
    if RATELIMIT_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
)
RATELIMIT_USE_CACHE = "ratelimit"

# The live list refreshes itself this often.
LIVE_REFRESH_SECONDS = int(os.environ.get("LIVE_REFRESH_SECONDS", "5"))

# Where the caller script points prescribers for information and prognosis.
DRIFTINFO_PUBLIC_URL = os.environ.get("DRIFTINFO_PUBLIC_URL", "https://vardgivare.skane.se/")
SERVICEDESK_PHONE = os.environ.get("SERVICEDESK_PHONE", "30 000")
# Where the accessibility statement (/tillganglighet/) asks people to report what they cannot use.
ACCESSIBILITY_CONTACT_EMAIL = os.environ.get("ACCESSIBILITY_CONTACT_EMAIL", "tillganglighet@hjalpmedel.example")

# Notifications (DESIGN section 5). In the demo every endpoint defaults to the app's own stub
# receivers at the address the app runs on (run_embedded passes PORT); production sets them.
STUBS_ENABLED = env_bool("STUBS_ENABLED", DEMO_MODE)
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip("/")


def _endpoint(name, channel):
    default = f"{SITE_URL}/stubs/{channel}/" if STUBS_ENABLED else ""
    return os.environ.get(name, default)


VARDGIVARE_SKANE_URL = _endpoint("VARDGIVARE_SKANE_URL", "vardgivare_skane")
DRIFTINFO_URL = _endpoint("DRIFTINFO_URL", "driftinfo")
TELEPHONY_URL = _endpoint("TELEPHONY_URL", "telephony")
# E-mail goes to EMAIL_URL (an HTTP mail gateway, the stub in the demo) when set, otherwise
# through Django's EMAIL_* settings (SMTP).
EMAIL_URL = _endpoint("EMAIL_URL", "email")
# SMS to SA and the enhetschef: POSTed to an HTTP SMS gateway (the stub in the demo). The
# gateway's inbound webhook signs each call with SMS_WEBHOOK_SECRET (HMAC-SHA256 of the
# timestamp and the body); a call older than SMS_WEBHOOK_MAX_SKEW, or seen before, is refused.
SMS_URL = _endpoint("SMS_URL", "sms")
SMS_WEBHOOK_SECRET = os.environ.get("SMS_WEBHOOK_SECRET", "")
# A drill's (övning's) notices to Vårdgivare Skåne, driftinfo and the phone queue go only to
# these, never to the real endpoints above: by default the app's own drill receivers (on in
# production too, whatever STUBS_ENABLED says), which keep what they get for the drill's pages.
# A drill does not start while one is empty or the same address as a real endpoint
# (runbook/drill_endpoints.py). Mail and SMS of a drill go through the real gateways, to the
# drill's participants only.
DRILL_VARDGIVARE_SKANE_URL = os.environ.get("DRILL_VARDGIVARE_SKANE_URL", f"{SITE_URL}/stubs/ovning/vardgivare_skane/")
DRILL_DRIFTINFO_URL = os.environ.get("DRILL_DRIFTINFO_URL", f"{SITE_URL}/stubs/ovning/driftinfo/")
DRILL_TELEPHONY_URL = os.environ.get("DRILL_TELEPHONY_URL", f"{SITE_URL}/stubs/ovning/telephony/")
SMS_WEBHOOK_MAX_SKEW = env_seconds("SMS_WEBHOOK_MAX_SKEW_SECONDS", 300)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT_SECONDS", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Hjälpmedel Region Skåne <noreply-hjalpmedel@skane.se>")
# HTTP timeouts per attempt, in seconds.
NOTIFY_CONNECT_TIMEOUT = float(os.environ.get("NOTIFY_CONNECT_TIMEOUT_SECONDS", "3"))
NOTIFY_READ_TIMEOUT = float(os.environ.get("NOTIFY_READ_TIMEOUT_SECONDS", "10"))
# Retries: back-off doubles from NOTIFY_BACKOFF_BASE up to NOTIFY_BACKOFF_MAX; a message not
# delivered within NOTIFY_MAX_AGE of being written has finally failed.
NOTIFY_BACKOFF_BASE = env_seconds("NOTIFY_BACKOFF_BASE_SECONDS", 5)
NOTIFY_BACKOFF_MAX = env_seconds("NOTIFY_BACKOFF_MAX_SECONDS", 300)
NOTIFY_MAX_AGE = env_seconds("NOTIFY_MAX_AGE_SECONDS", 3600)
# How long a worker may hold a message it is sending before another may take it over.
NOTIFY_CLAIM_TIMEOUT = env_seconds("NOTIFY_CLAIM_SECONDS", NOTIFY_CONNECT_TIMEOUT + NOTIFY_READ_TIMEOUT + 20)
# The sweep sends a backlog over this many threads (one on SQLite, which has one writer).
NOTIFY_SWEEP_THREADS = int(
    os.environ.get("NOTIFY_SWEEP_THREADS", "1" if DATABASES["default"]["ENGINE"].endswith("sqlite3") else "4")
)
# Acknowledge links in SA's e-mail stop working after this long.
ACK_LINK_MAX_AGE = env_seconds("ACK_LINK_MAX_AGE_SECONDS", 8 * 3600)
# Driftinfo requests state when the next update comes, this long ahead unless a prognosis says.
DRIFTINFO_NEXT_UPDATE = env_seconds("DRIFTINFO_NEXT_UPDATE_SECONDS", 3600)
# The stubs' shared secret (notifications/stubs.py); derived from SECRET_KEY when empty.
STUB_SECRET = os.environ.get("STUB_SECRET", "")
# /readyz tells what is down only with this token (Authorization: Bearer) or to people signed in.
READYZ_TOKEN = os.environ.get("READYZ_TOKEN", "")
# A stub in "slow" mode answers after this long (longer than NOTIFY_READ_TIMEOUT by default).
STUB_SLOW_SECONDS = float(os.environ.get("STUB_SLOW_SECONDS", "15"))

# /metrics (runbook/monitoring.py) answers only requests that meet every condition set here:
# a client address in METRICS_ALLOWED_NETWORKS (comma-separated addresses or networks) and
# "Authorization: Bearer METRICS_TOKEN". With neither set it answers nobody.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "")

# Sign-in with the region's identity provider (OpenID Connect; runbook/oidc.py), on when
# OIDC_ISSUER and OIDC_CLIENT_ID are set. OIDC_ROLE_MAP maps values of OIDC_ROLE_CLAIM to the
# app's roles: "VALUE=role,VALUE=role" (roles: kundservice, systemansvarig,
# verksamhetsansvarig, verksamhetsspecialist, telefoniansvarig). While it is on, the password
# form signs in only the break-glass administrators named in OIDC_BREAK_GLASS_USERS.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email")
OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "roles")
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "sub")


def _role_map(text):
    pairs = (item.rpartition("=") for item in env_list("OIDC_ROLE_MAP", text))
    return {value.strip(): role.strip() for value, _sep, role in pairs if value.strip()}


OIDC_ROLE_MAP = _role_map("")
OIDC_BREAK_GLASS_USERS = env_list("OIDC_BREAK_GLASS_USERS", "")
# An ID token's times (expiry, issued-at) may be off by this much from this server's clock.
OIDC_CLOCK_SKEW_SECONDS = int(os.environ.get("OIDC_CLOCK_SKEW_SECONDS", "60"))
OIDC_TIMEOUT_SECONDS = float(os.environ.get("OIDC_TIMEOUT_SECONDS", "10"))

# Logs: one JSON object a line on stderr, with request_id, incident_id and notification_id
# where known (runbook/logs.py). LOG_FORMAT=text gives plain lines for reading a terminal.
LOGGING = logs.config(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "json"))
# Celery's worker and beat log through the same configuration (runbook/celery.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
