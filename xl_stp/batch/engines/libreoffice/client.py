"""The pipe to LibreOffice: a warm worker process (``worker.py`` under Debian's ``/usr/bin/python3``,
which has the UNO bridge) that keeps one soffice per process and answers JSON-line requests.

Starting a worker does not wait for LibreOffice: it starts (on a copy of the prepared profile that
the worker keeps in the cache, $XL_STP_CACHE_DIR or ~/.cache/xl-stp: no profile to create, no
restart) while Python scans the workbook, or, with :func:`start`, while Python is still importing.
The worker runs in a session of its own and removes its profile itself when this process quits or
ends (it reads the end of its input), so that stopping this process's group leaves nothing behind.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

from ...package import WorkbookError

SYSTEM_PYTHON = os.environ.get("XL_STP_UNO_PYTHON", "/usr/bin/python3")
WORKER = Path(__file__).with_name("worker.py")
TIMEOUT = float(os.environ.get("XL_STP_LO_TIMEOUT", "300"))
START_TIMEOUT = 120.0  # LibreOffice's start, preparing the profile the first time
QUIT_TIMEOUT = 20.0


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """LibreOffice and Debian's UNO bridge are installed (checked once per process, and by starting
    a Python once per installation: :func:`_uno_marker`)."""
    soffice = shutil.which("soffice")
    if not (soffice and os.path.exists(SYSTEM_PYTHON)):
        return False
    marker = _uno_marker(soffice)
    if marker is not None and marker.exists():
        return True  # checked before, on this very installation
    try:
        ok = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
    except Exception:
        return False
    if ok and marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # checked again next time
    return ok


def _uno_marker(soffice: str) -> Path | None:
    """A file in xl-stp's cache (where the worker keeps its prepared profile) that says the UNO
    bridge imported under this Python with this LibreOffice, so that a command does not start a
    Python to find out again (about 0.1 s): named by the programs' paths and times and the time of
    Debian's folder of Python packages, so that installing or removing either makes a new check."""
    parts = []
    for path in (SYSTEM_PYTHON, soffice, "/usr/lib/python3/dist-packages"):
        try:
            real = os.path.realpath(path)
            parts.append(f"{real} {os.stat(real).st_mtime_ns}")
        except OSError:
            parts.append(path)
    base = os.environ.get("XL_STP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "xl-stp")
    return Path(base) / f"uno-{hashlib.sha256(chr(10).join(parts).encode()).hexdigest()[:16]}"


@functools.lru_cache(maxsize=1)
def version() -> tuple[int, ...]:
    """LibreOffice's version, such as (25, 2, 3, 2); () when it cannot be read."""
    try:
        out = subprocess.run([shutil.which("soffice") or "soffice", "--version"], capture_output=True, text=True,
                             timeout=60).stdout
    except Exception:
        return ()
    import re

    m = re.search(r"LibreOffice (\d+(?:\.\d+)*)", out)
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


class Worker:
    """The warm LibreOffice worker process and the pipe to it. Starting one does not wait: LibreOffice
    starts (from a copy of the prepared profile, see ``worker.py``) while Python goes on, and the
    first answer read waits for it to be ready. ``started``: the worker's ready message (its
    profile folder, how it was prepared: cached, built or fresh, and LibreOffice's restarts), once read."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL,  # stdout read with os.read only
                                     start_new_session=True)  # not stopped with this process's group: it cleans up
        self._owed = 0
        self.opened = 0  # workbooks asked to open: one left open is current while this has not moved
        self._buffer = b""  # answers read from the pipe but not yet taken (several may arrive together)
        self.started: dict | None = None
        self.quitting = False  # asked to quit: stopped, as far as this process is concerned
        self._parent = os.getpid()  # the process that started it (and alone can wait for it)
        self._owner = self._parent  # the process that talks to it

    def adopt(self) -> None:
        """This process takes over a worker its parent started (the resident process's forked command,
        ``xl_stp.cli.resident``): it talks to it through the same pipe, but cannot wait for it."""
        self._owner = os.getpid()

    def alive(self) -> bool:
        """Alive and this process's to use: a process forked from its owner (a pool's worker) that
        did not take it over starts its own."""
        if self.quitting or os.getpid() != self._owner:
            return False
        if os.getpid() == self._parent:
            return self.proc.poll() is None
        try:  # a worker this process took over: Popen cannot poll another process's child
            os.kill(self.proc.pid, 0)
            return True  # still there (the pipe says if it stopped and is waiting to be reaped)
        except OSError:
            return False

    def ready(self) -> dict:
        """The worker's ready message, waiting for LibreOffice to start the first time."""
        if self.started is None:
            res = self._reply(START_TIMEOUT)
            if not res.get("ready"):
                self.kill()
                raise WorkbookError(res.get("error") or "LibreOffice did not start")
            self.started = res
        return self.started

    def _reply(self, timeout: float) -> dict:
        """The next answer, one JSON line; the pipe is read directly (not through a buffered
        reader, which could hold a second answer where select() cannot see it)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                self.kill()
                raise WorkbookError(f"LibreOffice did not answer within {timeout:g} s; stopped")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.kill()
                raise WorkbookError("LibreOffice stopped unexpectedly")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        res = json.loads(line)
        if res.get("crashed"):  # LibreOffice died on this workbook: the worker is not waited for (its UNO
            self.kill()  # bridge can hang on the way out), and the next workbook gets a new one
        return res

    def send(self, op: str, **kw) -> None:
        """Send a request (before the worker is ready, too: it waits in the pipe)."""
        if op == "open":
            self.opened += 1
        try:
            self.proc.stdin.write((json.dumps({"op": op, **kw}) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:  # the worker stopped: say why, if it said
            self.ready()
            raise WorkbookError("LibreOffice stopped unexpectedly") from None

    def defer(self, op: str, **kw) -> None:
        """Send a request whose answer nobody waits for (closing a document while Python writes
        the output); it is collected, and a failure ignored, before the next answer is read."""
        self.send(op, **kw)
        self._owed += 1

    def receive(self) -> dict:
        self.ready()
        while self._owed:
            self._owed -= 1
            self._reply(TIMEOUT)
        res = self._reply(TIMEOUT)
        if not res.get("ok"):
            raise WorkbookError(f"LibreOffice: {res.get('error')}")
        return res

    def call(self, op: str, **kw) -> dict:
        self.send(op, **kw)
        return self.receive()

    def forget(self, n: int) -> None:
        """The answers to the last ``n`` requests sent will not be read by their sender (it failed
        on the way): they are dropped before the next answer is read, as a deferred request's are."""
        self._owed += n

    def collect(self, n: int) -> list[dict]:
        """The answers to the last ``n`` requests sent without waiting (:meth:`send`), in order;
        every one is read before the first failure among them is raised, so that the pipe stays in
        step (a worker that stopped has no more to read)."""
        out: list[dict] = []
        error = None
        for _ in range(n):
            try:
                out.append(self.receive())
            except WorkbookError as e:
                error = error or e
                if not self.alive():
                    break
                out.append({})
        if error is not None:
            raise error
        return out

    def kill(self) -> None:
        """Stop the worker at once (LibreOffice dies with it) and remove its profile; the next
        :func:`worker` starts another. Nothing but that in a process that does not own it."""
        self.quitting = True
        if os.getpid() != self._owner:
            return
        try:
            if os.getpid() == self._parent:
                self.proc.kill()
                self.proc.wait(timeout=10)
            else:
                os.kill(self.proc.pid, 9)
        except Exception:
            pass
        if self.started and self.started.get("profile"):
            shutil.rmtree(self.started["profile"], ignore_errors=True)

    def quit(self) -> None:
        """Have the worker stop LibreOffice, and wait for that; the worker then removes its profile
        on its own (a part of a second on some disks), in a session of its own that outlives this
        process, as it does when this process ends without asking (it reads the end of its input).
        A worker still starting is left to stop on its own."""
        if not self.alive():
            return
        self.quitting = True
        try:
            self.proc.stdin.write(b'{"op": "quit"}\n')
            self.proc.stdin.close()
            while self.started is not None and not self._reply(QUIT_TIMEOUT).get("stopped"):
                pass  # answers nobody waited for
        except (OSError, WorkbookError, ValueError):
            self.kill()


_worker: Worker | None = None


def worker() -> Worker:
    """This process's worker, started (or restarted) when needed; it may still be starting."""
    global _worker
    if _worker is None or not _worker.alive():
        _worker = Worker()
        atexit.register(_worker.quit)
    return _worker


#: A workbook the command line asked LibreOffice to open before importing what reads it:
#: ((path, (size, modification time), recalc), the worker, its answers owed before, its openings
#: counted with this one), until :func:`adopt_early` takes it or drops it.
_early: tuple[tuple[str, tuple[int, int], bool], Worker, int, int] | None = None


def open_early(path: str, recalc: bool) -> None:
    """Start LibreOffice opening ``path`` now (call only once the package has passed the safety
    checks), so that it loads the workbook while Python imports the engine: the answer is owed to
    whoever reads next, unless the engine adopts it (:func:`adopt_early`)."""
    global _early
    try:
        st = os.stat(path)
    except OSError:
        return
    w = worker()
    owed = w._owed
    w.defer("open", path=path, recalc=recalc)
    _early = ((path, (st.st_size, st.st_mtime_ns), recalc), w, owed, w.opened)


def adopt_early(path: str, recalc: bool) -> bool:
    """True when the workbook :func:`open_early` is opening is ``path``, unchanged since and opened
    the same way, and its answer has not been read: it is then the caller's next ``receive()``.
    Otherwise the early opening is left to be collected (and its document is closed by the next
    opening)."""
    global _early
    found, _early = _early, None
    if found is None:
        return False
    what, w, owed, opened = found
    if w is not _worker or not w.alive() or w._owed != owed + 1 or w.opened != opened:
        return False  # another worker, the answer read (and dropped) already, or another opening since
    try:
        st = os.stat(path)
    except OSError:
        return False
    if what != (path, (st.st_size, st.st_mtime_ns), recalc):
        return False
    w._owed = owed  # the answers owed before it are dropped as usual; its own is the caller's
    return True


def start() -> None:
    """Start this process's worker now, without waiting, so that LibreOffice starts while Python
    imports and scans (a command that will need it calls this first); nothing if it cannot be."""
    if available():
        try:
            worker()
        except OSError:
            pass  # started again, and the failure said, when the worker is needed
