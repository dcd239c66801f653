"""`manage.py check --deploy` is clean with the production environment of docs/operations.md (issue 19).

The environment is read from the document's own table, so the two cannot drift: a variable the table lists
without a value here, or one set here that the table does not list, fails the test.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

OPERATIONS = Path(settings.BASE_DIR) / "docs" / "operations.md"
HOST = "counsel.example.com"


def documented_variables() -> set[str]:
    """The variables of the "Environment" table of docs/operations.md (its first column)."""
    section = OPERATIONS.read_text().split("## Environment", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def production_environment(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # the table's is PostgreSQL; checks do not connect
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "BEHIND_TLS_PROXY": "1",
        "CLIENT_IP_HEADER": "X-Real-IP",
        "LOGIN_FAILURE_LIMIT": "5",
        "LOGIN_COOLOFF_MINUTES": "15",
        "SESSION_COOKIE_AGE_SECONDS": "32400",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "PUBLIC_URL": f"https://{HOST}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp_path / "tmp"),
    }


def check_deploy(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the production environment: nothing of the test run's (VAR_DIR apart, so var/ stays untouched).
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var"), **environment}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_test_sets_exactly_the_documented_variables(tmp_path):
    assert set(production_environment(tmp_path)) == documented_variables()


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    result = check_deploy(tmp_path, production_environment(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("left_out", "warning"),
    [
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"}, ["security.W005", "security.W021"]),
        ({"SECURE_SSL_REDIRECT"}, ["security.W008"]),
        ({"SECURE_HSTS_SECONDS"}, ["security.W004"]),
        ({"PUBLIC_URL"}, ["consultations.W001"]),
    ],
)
def test_without_a_setting_the_check_says_which(tmp_path, left_out, warning):
    environment = {name: value for name, value in production_environment(tmp_path).items() if name not in left_out}

    result = check_deploy(tmp_path, environment)

    assert result.returncode != 0
    assert sorted(re.findall(r"\(([a-z_]+\.W\d+)\)", result.stderr + result.stdout)) == warning
