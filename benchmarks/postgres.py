"""A real PostgreSQL server in a temporary folder, for the tests and benchmarks that need one.

Debian's ``postgresql`` package puts its programs in /usr/lib/postgresql/<version>/bin
without starting anything we could share; this initialises a cluster of our own
(``initdb``), listens on a free loopback port and a socket in the folder, and can be stopped
and started again with its data kept (an outage, for the tests). PostgreSQL refuses to run
as root, so under root the cluster belongs to the ``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from .server_process import free_port

SEARCHED = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
BIN = SEARCHED[0].parent if SEARCHED else None  # the newest version installed


class PostgresServer:
    """``url(database)`` is a libpq URL for a database in this cluster."""

    def __init__(self, folder: Path) -> None:
        if BIN is None:
            raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self._as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_owner:
            owner = pwd.getpwnam("postgres")
            for path in (folder, *folder.parents):
                if path == Path("/"):
                    break
                path.chmod(path.stat().st_mode | 0o001)  # the owner must reach its folder
            shutil.chown(folder, owner.pw_uid, owner.pw_gid)
        self._run(
            BIN / "initdb",
            "-D",
            self.data,
            "-U",
            "kb",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        self.start()

    def _run(self, *command: object) -> None:
        subprocess.run(
            [*self._as_owner, *map(str, command)],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.folder / "server.log",
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://kb@127.0.0.1:{self.port}/{database}"

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        deadline = time.monotonic() + 5
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
