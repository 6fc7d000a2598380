"""Settings for ``bench api``: the project's, plus a ceiling view (benchmark only)."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.api_urls"
