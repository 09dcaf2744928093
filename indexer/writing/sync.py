"""Keep a read replica's clone in step with its remote: fetch, fast-forward, index the change.

Git is the replication log. A replica never commits, so every pull is a fast-forward;
anything else (a diverged branch, local edits in the way, an unreachable remote, a clone
with no upstream) is refused with a message that says what to do, and leaves the work tree
and the index as they were. Fetching runs outside any lock; the fast-forward runs under the
index's write lock, so no index write in any process reads a half-updated tree. The index
then takes exactly the files that moved since the commit it last recorded
(:meth:`Indexer.sync_git`): if that write fails, the next sync still catches up.

:class:`Syncer` runs pulls on a thread of its own, every ``every`` seconds and whenever
asked (the webhook): requests that arrive during a pull are folded into one more pull after
it, so a burst of pushes costs at most two pulls, and nobody waits for git.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..documents.gitmeta import GitHistory
from .storage import IndexBusy
from .writer import Indexer, Report

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 60.0  # seconds; a remote that has not answered by then is unreachable
LOCAL_TIMEOUT = 30.0  # a fast-forward is local work


class SyncError(Exception):
    """The clone cannot be brought up to date; the message says why and what to do."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync did: the commits it moved between, the files they touched, the index."""

    before: str | None
    after: str | None
    changed: tuple[str, ...]  # kb-relative paths the pulled commits touched
    report: Report

    @property
    def pulled(self) -> bool:
        return self.before != self.after

    def summary(self) -> str:
        where = (
            f"pulled {_short(self.before)}..{_short(self.after)}, {len(self.changed)} files"
            if self.pulled
            else f"up to date at {_short(self.after)}"
        )
        return f"{where}; {self.report.summary()}"


def _short(commit: str | None) -> str:
    return commit[:8] if commit else "(no commit)"


def _failed(error: subprocess.CalledProcessError) -> str:
    """Git's own explanation: the last lines it printed on stderr."""
    lines = [line.strip() for line in (error.stderr or "").splitlines() if line.strip()]
    return " / ".join(lines[-3:]) or f"git exited with {error.returncode}"


def _git(repo: GitHistory, *args: str, timeout: float, doing: str, advice: str = "") -> str:
    try:
        return repo.run(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SyncError(f"{doing}: no answer within {timeout:.0f} s{advice}") from None
    except subprocess.CalledProcessError as error:
        raise SyncError(f"{doing}: {_failed(error)}{advice}") from None
    except OSError as error:  # git itself is missing
        raise SyncError(f"{doing}: {error}") from None


def sync_clone(indexer: Indexer, fetch_timeout: float = FETCH_TIMEOUT) -> SyncResult:
    """Fast-forward the clone holding ``indexer.kb_root`` to its upstream and index what
    changed (a whole build when there is no usable index yet). Raises :class:`SyncError`."""
    repo = GitHistory.open(indexer.kb_root)
    if repo is None:
        raise SyncError(f"{indexer.kb_root} is not in a git clone: a replica needs one")
    upstream = _git(
        repo,
        "rev-parse",
        "--abbrev-ref",
        "--symbolic-full-name",
        "@{upstream}",
        timeout=LOCAL_TIMEOUT,
        doing="no branch to pull",
        advice="; check out the branch that tracks the remote (git clone does)",
    ).strip()
    _git(
        repo,
        "fetch",
        "--quiet",
        timeout=fetch_timeout,
        doing=f"cannot fetch {upstream}",
        advice="; is the remote reachable, and are its credentials set up for this user?",
    )
    before = repo.head()
    behind = 1  # an empty clone (no commit yet) takes whatever the remote has
    if before is not None:
        counts = _git(
            repo,
            "rev-list",
            "--left-right",
            "--count",
            f"HEAD...{upstream}",
            timeout=LOCAL_TIMEOUT,
            doing="cannot compare with the remote",
        )
        ahead, behind = (int(n) for n in counts.split())
        if ahead and behind:
            raise SyncError(
                f"this clone and {upstream} have diverged ({ahead} local, {behind} remote "
                f"commits): a replica must not commit; `git reset --hard {upstream}` makes "
                "it a copy again"
            )
    if behind:
        try:
            with indexer.storage.write_lock():
                _git(
                    repo,
                    "merge",
                    "--ff-only",
                    "--quiet",
                    upstream,
                    timeout=LOCAL_TIMEOUT,
                    doing=f"cannot fast-forward to {upstream}",
                    advice="; a replica's files must not be edited: `git status` shows them",
                )
        except IndexBusy as exc:
            raise SyncError(f"{exc}; nothing was pulled, the next sync tries again") from None
    after = repo.head()
    changed = repo.changed_between(before, after) if before and after and after != before else None
    usable = indexer.storage.usable(indexer.kb_root) is not None
    report = indexer.sync_git() if usable else indexer.reconcile()
    return SyncResult(before, after, tuple(sorted(changed or ())), report)


class Syncer:
    """Pulls on a background thread: every ``every`` seconds (0: only when asked)."""

    def __init__(self, indexer: Indexer, every: float = 0.0) -> None:
        self.indexer = indexer
        self.every = every
        self.last_error = ""  # why the last sync failed; "" after a success
        self.last_success: float | None = None  # unix time
        self.listeners: list[Callable[[bool], None]] = []  # told of each outcome (metrics)
        self._cond = threading.Condition()
        self._requested = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once); :meth:`request` starts it too."""
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="kb-sync", daemon=True)
                self._thread.start()

    def request(self) -> None:
        """Pull soon; returns at once. Several requests before the pull starts are one pull."""
        self.start()
        with self._cond:
            self._requested = True
            self._cond.notify_all()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the pull under way, if any."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _wait(self) -> bool:
        """Until a pull is due; False when stopped."""
        with self._cond:
            due = time.monotonic() + self.every if self.every else None
            while not (self._requested or self._stopped):
                left = None if due is None else due - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            self._requested = False
            return not self._stopped

    def _run(self) -> None:
        while self._wait():
            self.sync_once()

    def sync_once(self) -> SyncResult | None:
        """One pull; failures are logged and kept in :attr:`last_error`, never raised."""
        try:
            result = sync_clone(self.indexer)
        except SyncError as exc:
            self.last_error = str(exc)
            log.error("git sync failed: %s", exc)
        except Exception as exc:  # an index write failed: the next sync catches up
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("git sync could not index the pulled commits")
        else:
            self.last_error, self.last_success = "", time.time()
            level = logging.INFO if result.pulled or result.report.changed else logging.DEBUG
            log.log(level, "git sync: %s", result.summary())
            for listener in self.listeners:
                listener(True)
            return result
        for listener in self.listeners:
            listener(False)
        return None
