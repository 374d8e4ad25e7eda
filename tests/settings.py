"""Fast, isolated settings for the test suite.

``HUB_TEST_DATABASE_URL`` switches the database to PostgreSQL (``make test`` runs the suite a
second time that way); pytest-django creates and drops the test database itself.
"""

import os
import tempfile

os.environ.setdefault("HUB_DATA_DIR", tempfile.mkdtemp(prefix="hub-test-"))
os.environ["DATABASE_URL"] = os.environ.get("HUB_TEST_DATABASE_URL", "")
os.environ.pop("REDIS_URL", None)

from hub.settings import *  # noqa: F403

if os.environ.get("HUB_TEST_DATABASE_URL", "").startswith("postgres"):
    # One test database per run, so that two suites on the same server (developers working in
    # parallel, CI jobs) do not drop each other's "test_postgres" mid-run.
    DATABASES["default"]["TEST"] = {"NAME": f"test_hub_{os.getpid()}"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_AUTOREFRESH = True
SEARCH_INDEXING = "off"  # search tests drain the queue with hub.search.indexer.index_pending()
