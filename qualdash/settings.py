"""qualdash settings: every value from the environment, with defaults that run a checkout as is.

See README.md ("Configuration") for what each variable does.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from qualdash.env import (
    cache_from_url,
    database_from_url,
    envbool,
    envheader,
    envint,
    envlist,
    envstr,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envstr("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# Origins besides the request's own host that may POST (scheme included): https://qualdash.example.org
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# HTTPS: off in development, on by default when DEBUG is false. Behind a TLS proxy, set
# SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https" (the proxy must overwrite that header).
SECURE_PROXY_SSL_HEADER = envheader("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS is the domain owner's decision, hard to undo and covering every
# subdomain; the deploy check's reminder of it (W021) is answered by SECURE_HSTS_PRELOAD above.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "axes",
    "qualdash.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "qualdash.dashboard.middleware.htmx_login_redirect",
    # Before anything that loads the session or the user: the database being down is a 503 page.
    "qualdash.dashboard.outage.database_unavailable",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qualdash.dashboard.middleware.mturk_problems",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qualdash.urls"
WSGI_APPLICATION = "qualdash.wsgi.application"

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
                "qualdash.dashboard.context_processors.mturk_account",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qualdash.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache entry holds one API page of up to 100 workers, so a 100,000-worker type is about
# 1,000 entries per walk. Django's default MAX_ENTRIES (300) would cull such a walk half way.
CACHE_MAX_ENTRIES = envint("QUALDASH_CACHE_MAX_ENTRIES", 50_000, minimum=1_000)
CACHES = {
    "default": cache_from_url(
        "CACHE_URL",
        envstr("CACHE_URL", f"file://{VAR_DIR / 'cache'}"),
        max_entries=CACHE_MAX_ENTRIES,
    )
}

QUALDASH_CACHE_TTL = envint("QUALDASH_CACHE_TTL", 900, minimum=1)
QUALDASH_MTURK_SANDBOX = envbool("QUALDASH_MTURK_SANDBOX", False)
# How long one request may spend fetching from MTurk before it renders what it has: the page's
# own "keep loading" requests take the walk budget; any other look (opening a type, a sort or a
# filter while it loads) answers sooner, so the first rows show within a second.
QUALDASH_WALK_BUDGET = envint("QUALDASH_WALK_BUDGET_MS", 2000, minimum=100) / 1000
QUALDASH_FIRST_LOOK_BUDGET = envint("QUALDASH_FIRST_LOOK_BUDGET_MS", 800, minimum=100) / 1000

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "type_list"
LOGOUT_REDIRECT_URL = "login"

# Password guessing: after 5 failed sign-ins of one user name from one address, that pair is
# refused for 15 minutes (a 429 and registration/lockout.html), even with the right password.
# Other users, and the same user from elsewhere, are not affected. The attempts are in the
# database (migrate creates axes' tables).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Behind the TLS proxy, the address that proxy forwards rather than its own.
AXES_CLIENT_IP_CALLABLE = "qualdash.dashboard.signin.client_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production whitenoise serves what collectstatic made: names with a content hash, cached
    # for a year, and compressed copies. In development, the files as they are.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Decided here, from the DEBUG of the environment: tests run with DEBUG switched off but have no
# collectstatic output, and find static files as development does.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# No inline script or style anywhere: htmx and its config come from static files and a meta tag,
# so a script or style injected into a page does not run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        # botocore logs request details (never the secret) at DEBUG; keep it quiet.
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
