import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "host_tools" / "stubs", ROOT / "device", ROOT / "tests" / "device", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

# Every test's data dir (archive, simulators, time anchors) is private: never the user's own.
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("ACUTRAINER_HOME", tempfile.mkdtemp(prefix="acutests-"))

# Tests are deterministic: hypothesis draws the same examples on every run (a case it once found is pinned
# with @example where it matters)
from hypothesis import settings  # noqa: E402

settings.register_profile("acutrainer", derandomize=True)
settings.load_profile("acutrainer")

# The archive is the test's own: never one a setting outside the tests points at (docs/study.md)
os.environ.pop("ACUTRAINER_ARCHIVE", None)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for this test session (tests/pg_server.py), stopped at the end."""
    from tests.pg_server import PgServer
    srv = PgServer()
    yield srv
    srv.stop()


@pytest.fixture
def pg_url(pg_server):
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_target(request, tmp_path):
    """An archive target of each kind: an SQLite file, and a database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "archive.sqlite"
    return request.getfixturevalue("pg_url")
