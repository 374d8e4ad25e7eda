"""Settings for Xiaowei Hub, read from the environment with embedded-mode defaults.

Embedded default: SQLite + in-memory channel layer + local files under ``$HUB_DATA_DIR``.
Scaled: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (channel layer + cache).
See docs/configuration.md for every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from hub.env import envbool, envint, envlist, envstr, secret_key
from hub.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("HUB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
SECRET_KEY = secret_key(DATA_DIR)
HUB_PORT = envint("HUB_PORT", 8000)
# Bind address of `manage.py serve`; loopback by default (0.0.0.0 inside a container).
HUB_HOST = envstr("HUB_HOST", "127.0.0.1")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", f"http://127.0.0.1:{HUB_PORT}").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.dingtalk",
    "allauth.socialaccount.providers.feishu",
    "allauth.socialaccount.providers.weixin",
    "allauth.headless",
    "django_tasks",
    "django_tasks_db",
    "hub",
    "hub.search",
    "hub.policy",
    "hub.portability",
    "messaging",
    "messaging.integrations",
    "docs_collab",
    "crm_bridge",
    "crm_bridge.erplite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.middleware.RequestIdMiddleware",
    "hub.metrics.HttpMetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "hub.middleware.UserLanguageMiddleware",
    "hub.middleware.RequireMfaMiddleware",
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "hub.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hub" / "templates"],
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

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "hub.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers assigning the next
                # conversation seq serialise instead of failing with "database is locked" on
                # lock upgrade; WAL lets readers proceed during a write.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache -----------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL")
REDIS_PREFIX = envstr("HUB_CHANNEL_PREFIX", "hub")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub layer: one PUBLISH per group_send regardless of group size (measured
            # ~8x faster fan-out than the list-based layer). It is at-most-once, which is fine
            # because delivery is guaranteed by the event log, not the layer.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults to a 5 s socket timeout that kills idle subscribers
                # (channels_redis#422); None waits forever, health checks keep it honest.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "health_check_interval": 30}],
                "prefix": REDIS_PREFIX,
            },
        }
    }
    # The same prefix namespaces the cache (presence, rate-limit counters): two deployments
    # sharing one Redis must not see each other's people online under the same user ids.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": envstr("HUB_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Auth (django-allauth) -------------------------------------------------------------------
AUTH_USER_MODEL = "hub.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
SITE_ID = 1
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = envstr("HUB_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_ADAPTER = "hub.adapters.AccountAdapter"
HEADLESS_ONLY = False
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "/accounts/confirm-email/{key}/",
    "account_reset_password_from_key": "/accounts/password/reset/key/{key}/",
    "account_signup": "/accounts/signup/",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Xiaowei Hub"
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
# Providers are configured without code: HUB_SSO_<PROVIDER>_CLIENT_ID / _SECRET (and for OIDC
# _SERVER_URL and _NAME). Only providers with credentials are offered.
for _provider in ("dingtalk", "feishu", "weixin"):
    _client_id = envstr(f"HUB_SSO_{_provider.upper()}_CLIENT_ID")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": envstr(f"HUB_SSO_{_provider.upper()}_SECRET")}]
        }
if envstr("HUB_SSO_OIDC_CLIENT_ID"):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": envstr("HUB_SSO_OIDC_ID", "oidc"),
                "name": envstr("HUB_SSO_OIDC_NAME", "Single sign-on"),
                "client_id": envstr("HUB_SSO_OIDC_CLIENT_ID"),
                "secret": envstr("HUB_SSO_OIDC_SECRET"),
                "settings": {"server_url": envstr("HUB_SSO_OIDC_SERVER_URL")},
            }
        ]
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email -----------------------------------------------------------------------------------
EMAIL_HOST = envstr("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 587)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Xiaowei Hub <hub@localhost>")

# --- i18n ------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "hub" / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    # Django's file storage, minus the partial file a full disk leaves behind (hub/storage.py).
    "default": {"BACKEND": "hub.storage.FileStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SEARCH_INDEX_DIR = Path(envstr("HUB_SEARCH_INDEX_DIR", str(DATA_DIR / "search")))
# Who drains the search queue (docs/search.md): "thread" = inside the server process (embedded
# default), "worker" = a separate `manage.py search_worker` (scaled out), "off" = nobody (tests
# call hub.search.indexer.index_pending()).
SEARCH_INDEXING = envstr("HUB_SEARCH_INDEXING", "thread")
HUB_UPLOAD_MAX_BYTES = envint("HUB_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("HUB_REQUEST_MAX_BYTES", 2 * 1024 * 1024)
WHITENOISE_USE_FINDERS = True

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = envbool("HUB_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if envbool("HUB_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Hub -------------------------------------------------------------------------------------
HUB_DEMO = envbool("HUB_DEMO", True)
HUB_MESSAGE_MAX_CHARS = envint("HUB_MESSAGE_MAX_CHARS", 10_000)
HUB_SEND_RATE_PER_MINUTE = envint("HUB_SEND_RATE_PER_MINUTE", 120)
# Abuse limits per minute (hub/ratelimit.py): invitation look-ups per client address (the
# token is a guessable-in-principle secret), new API tokens per person. 0 turns a limit off.
HUB_INVITATION_RATE_PER_MINUTE = envint("HUB_INVITATION_RATE_PER_MINUTE", 30)
HUB_TOKEN_ISSUE_RATE_PER_MINUTE = envint("HUB_TOKEN_ISSUE_RATE_PER_MINUTE", 10)
# Per-socket flood control (messaging.consumers.limits): frames/s sustained, burst size.
HUB_WS_FRAME_RATE = envint("HUB_WS_FRAME_RATE", 20)
HUB_WS_FRAME_BURST = envint("HUB_WS_FRAME_BURST", 60)
HUB_INVITATION_DAYS = envint("HUB_INVITATION_DAYS", 7)
# Collaborative documents (docs/documents.md): simultaneous editors per document (the rest view
# only), the update-log batch (flush after this many ms or updates), the largest accepted Yjs
# frame, how often an open room re-reads the log to heal from dropped channel-layer messages,
# and the log length that triggers compaction into a snapshot.
HUB_DOCS_MAX_EDITORS = envint("HUB_DOCS_MAX_EDITORS", 100)
HUB_DOCS_FLUSH_MS = envint("HUB_DOCS_FLUSH_MS", 200)
HUB_DOCS_FLUSH_UPDATES = envint("HUB_DOCS_FLUSH_UPDATES", 64)
HUB_DOCS_MAX_FRAME_BYTES = envint("HUB_DOCS_MAX_FRAME_BYTES", 2 * 1024 * 1024)
HUB_DOCS_CATCHUP_SECONDS = envint("HUB_DOCS_CATCHUP_SECONDS", 5)
HUB_DOCS_COMPACT_AFTER_ROWS = envint("HUB_DOCS_COMPACT_AFTER_ROWS", 500)
HUB_DOCS_FRAMES_PER_SECOND = envint("HUB_DOCS_FRAMES_PER_SECOND", 100)  # per socket, burst ×4
# Fault injection for tests only: drop every Nth document update/flush message a room sends to
# the channel layer (0 = never), to prove that rooms heal from the log.
HUB_DOCS_FAULT_DROP_LAYER = envint("HUB_DOCS_FAULT_DROP_LAYER", 0)
# Notifications that reach a phone (docs/notifications.md): Web Push (VAPID key generated into
# the data dir unless given) and per-person forwarding to robots / email / apprise URLs.
HUB_VAPID_PRIVATE_KEY = envstr("HUB_VAPID_PRIVATE_KEY")
HUB_VAPID_SUBJECT = envstr("HUB_VAPID_SUBJECT")
HUB_NOTIFY_ALLOW_PRIVATE_TARGETS = envbool("HUB_NOTIFY_ALLOW_PRIVATE_TARGETS", False)
HUB_NOTIFY_COALESCE_SECONDS = envint("HUB_NOTIFY_COALESCE_SECONDS", 20)
HUB_NOTIFY_MAX_PER_HOUR = envint("HUB_NOTIFY_MAX_PER_HOUR", 20)
HUB_NOTIFY_TIMEOUT_SECONDS = envint("HUB_NOTIFY_TIMEOUT_SECONDS", 10)
HUB_NOTIFY_MAX_ATTEMPTS = envint("HUB_NOTIFY_MAX_ATTEMPTS", 5)
# ERP/CRM sources (docs/erp.md): the Fernet key(s) for stored credentials (derived from
# SECRET_KEY when unset), how often the periodic sync runs, and whether source URLs may point
# at loopback/private addresses (an ERP on the office LAN; turn off for a multi-tenant cloud).
ERP_CREDENTIALS_KEY = envstr("HUB_ERP_CREDENTIALS_KEY")
HUB_ERP_SYNC_INTERVAL_SECONDS = envint("HUB_ERP_SYNC_INTERVAL_SECONDS", 300)
HUB_ERP_ALLOW_PRIVATE_HOSTS = envbool("HUB_ERP_ALLOW_PRIVATE_HOSTS", True)

# Integrations (docs/integrations.md): incoming webhooks' body limit and per-webhook rate,
# outgoing event deliveries (timeout, attempts with doubling back-off, auto-disable), the
# acknowledgement deadline of external slash commands, and whether the URLs apps register
# may point at loopback/private addresses (off: SSRF guard; the test suite turns it on).
HUB_WEBHOOK_MAX_BYTES = envint("HUB_WEBHOOK_MAX_BYTES", 65536)
HUB_WEBHOOK_PER_MINUTE = envint("HUB_WEBHOOK_PER_MINUTE", 60)
HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS = envbool("HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS", False)
HUB_OUTGOING_TIMEOUT_SECONDS = envint("HUB_OUTGOING_TIMEOUT_SECONDS", 5)
HUB_OUTGOING_MAX_ATTEMPTS = envint("HUB_OUTGOING_MAX_ATTEMPTS", 6)
HUB_OUTGOING_RETRY_SECONDS = envint("HUB_OUTGOING_RETRY_SECONDS", 30)
HUB_OUTGOING_DISABLE_AFTER = envint("HUB_OUTGOING_DISABLE_AFTER", 20)
HUB_APP_COMMAND_TIMEOUT_MS = envint("HUB_APP_COMMAND_TIMEOUT_MS", 3000)

# --- Operations (docs/operations.md) ----------------------------------------------------------
# Logs: one JSON object per line (default) or plain text; both carry the request id.
LOGGING = logging_config(envstr("HUB_LOG_FORMAT", "json"), envstr("LOG_LEVEL", "INFO"))
# /metrics: with a token, scrapes must send "Authorization: Bearer <token>"; without one only
# loopback clients are answered.
HUB_METRICS_TOKEN = envstr("HUB_METRICS_TOKEN")
# Defaults of the per-workspace policies (hub.policy; the operator overrides them per workspace
# in the Django admin). 0 = no limit / keep forever.
HUB_RETENTION_DAYS = envint("HUB_RETENTION_DAYS", 0)
HUB_STORAGE_QUOTA_BYTES = envint("HUB_STORAGE_QUOTA_BYTES", 0)
HUB_MEMBER_QUOTA = envint("HUB_MEMBER_QUOTA", 0)
