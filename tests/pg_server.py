"""A real PostgreSQL for the tests: pgserver's bundled server (a pip dependency of the dev extra, no system
package, no server set up by hand), on a Unix socket in a temporary folder (no TCP port at all), started once per
test session and stopped at its end. Each test that asks gets a database of its own."""
from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

_counter = itertools.count(1)


class PgServer:
    def __init__(self):
        # pgserver keeps its lock file in the user's runtime dir: a private one, not the machine's
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="acupg-run-"))
        import pgserver
        self.dir = Path(tempfile.mkdtemp(prefix="acupg-"))
        self.server = pgserver.get_server(self.dir / "data", cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        name = "acu_%d_%d" % (os.getpid(), next(_counter))
        self.server.psql("CREATE DATABASE %s;" % name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.split("?")[0].rsplit("/", 1)[1]
        self.server.psql("DROP DATABASE IF EXISTS %s WITH (FORCE);" % name)

    def stop(self) -> None:
        self.server.cleanup()
