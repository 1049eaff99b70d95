"""A resident xl-stp: a process that outlives one command for a while, as build tools' daemons do,
so that a one-shot ``xl-stp regen`` (or ``verify``, ``scenarios``) pays neither Python's imports nor
LibreOffice's start.

The first computing command runs as always and, as it ends, starts the resident process in the
background. That process imports what the commands run and keeps a LibreOffice worker started.
Each later command (the ``xl-stp`` process, which imports nothing but this module) hands it its
arguments, folder, environment and its own standard input, output and error (the descriptors
themselves, so a terminal stays a terminal). The resident process forks a copy of itself for the
command, as Mercurial's chg and Python's own forkserver do: the command runs in a fresh process that
has the imports done and takes over the started LibreOffice worker (each command gets a worker of
its own, as without a resident process; the next one starts while nobody waits). Ctrl-C and SIGTERM
are passed on, and the command's exit status comes back; if the ``xl-stp`` process is killed, the
command is stopped as by SIGTERM (finished outputs stay, originals are untouched).

A resident process serves one installation, one version of the code and one environment (the
variables that change what a command does: PATH, HOME, TMPDIR, the locale, XL_STP_*...): anything
else, a source file changed since, and a new one is used. It exits after XL_STP_RESIDENT seconds
without a command (600 by default); ``XL_STP_RESIDENT=0`` turns it off, and ``xl-stp resident``
shows and stops them. Its socket is in a folder only this user can enter, under TMPDIR.

This module imports only the standard library, and little of it: it runs before anything else.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys

#: Seconds a resident process waits for the next command before it exits.
IDLE = 600.0
#: Environment variables whose values change what a command does: one resident process per set.
ENVIRONMENT = ("PATH", "HOME", "TMPDIR", "TZ", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "LANG", "LANGUAGE", "LC_ALL",
               "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: ... and every variable with one of these prefixes (Python's own, LibreOffice's, ours).
PREFIXES = ("PYTHON", "SAL_", "XL_STP_")
_HEADER = struct.Struct("!I")
#: The resident process's answers, each with a number: the command started (its process group), its exit
#: status, or the command cannot run there (its folder is not there, for one): it runs in the xl-stp process.
_STARTED, _FINISHED, _REFUSED = b"S", b"F", b"R"


def idle_seconds() -> float:
    """XL_STP_RESIDENT: seconds to stay without a command; 0 (or off, no, false): no resident process."""
    value = os.environ.get("XL_STP_RESIDENT", "").strip().lower()
    if value in ("", "on", "yes", "true"):
        return IDLE
    if value in ("off", "no", "false"):
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        return IDLE


def folder() -> str | None:
    """This user's folder of resident processes' sockets (made private), or None when it cannot be
    trusted: another owner, or others allowed in."""
    path = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"xl-stp-resident-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def key() -> str:
    """What a resident process serves: this Python with its options, this installation of xl-stp and
    every one of its files (name, size and time), the environment that changes what a command does,
    and the view of the file system (the mount namespace: a container's folders are not the host's)."""
    import hashlib

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # xl_stp/
    roots = [here, os.path.join(os.path.dirname(here), "udfs")]
    files = []
    stack = [r for r in roots if os.path.isdir(r)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(e.path)
                else:
                    st = e.stat(follow_symlinks=False)
                    files.append((e.path, st.st_size, st.st_mtime_ns))
    files.sort()
    env = sorted((k, v) for k, v in os.environ.items()
                 if (k in ENVIRONMENT or k.startswith(PREFIXES)) and k != "XL_STP_RESIDENT")
    # packages installed or removed (a folder on the path changes), LibreOffice installed or upgraded
    import site

    folders = site.getsitepackages() + [site.getusersitepackages()]
    folders += [os.path.join(d, "soffice") for d in os.environ.get("PATH", "").split(":") if d]
    python = [sys.executable, sys.version, repr(sys.flags), sys.warnoptions, sorted(map(str, sys._xoptions.items()))]
    text = json.dumps([python, here, files, env, [_mtime(p) for p in folders], _inode("/proc/self/ns/mnt")])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _inode(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return 0


def _address() -> str | None:
    where = folder()
    if where is None:
        return None
    path = os.path.join(where, key() + ".sock")
    return path if len(path.encode()) < 100 else None  # the limit of a socket's path


# ---------------------------------------------------------------------------------------------------
# The client: the xl-stp process


class _Missing:
    """No resident process answered: the command runs here, and one is started for the next."""

    address: str | None = None


def forward(argv: list[str]) -> int | None:
    """Run the command in this user's resident process: its exit status; None when it is not one to
    hand over, resident processes are off, or none is there yet (it then runs here as always, and
    :func:`after` starts one)."""
    from . import COMPUTING, _command  # the cli package's own module: imports nothing more

    if _command(argv) not in COMPUTING or "--help" in argv or not idle_seconds():
        return None
    try:
        for fd in (0, 1, 2):  # a closed one would be taken by the socket, and handed over as if it were it
            os.fstat(fd)
    except OSError:
        return None
    address = _address()
    if address is None:
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(address)
    except OSError:
        s.close()
        _Missing.address = address
        return None
    try:
        return _run_there(s, argv)
    except KeyboardInterrupt:  # before the signals were passed on: the command, if it started, sees this process go
        from . import STOPPED

        print(STOPPED, file=sys.stderr)
        return 130


#: The signals passed on to the command (its process group): Ctrl-C, SIGTERM, a closed terminal; Ctrl-Z and
#: fg/bg too, so that a stopped xl-stp stops its command. Those this process ignores (nohup) are ignored there.
PASSED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGTSTP", "SIGCONT", "SIGTTIN", "SIGTTOU")


def _run_there(s: socket.socket, argv: list[str]) -> int | None:
    import signal

    passed = [getattr(signal, name) for name in PASSED]
    ignored = [int(sig) for sig in passed if signal.getsignal(sig) == signal.SIG_IGN]
    try:
        request = json.dumps({
            "op": "run", "argv": sys.argv[:1] + argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
            "encoding": [getattr(f, "encoding", None) or "utf-8" for f in (sys.stdin, sys.stdout, sys.stderr)],
            "ignored": ignored,
        }).encode()
        socket.send_fds(s, [_HEADER.pack(len(request))], [0, 1, 2])  # a folder gone, a descriptor closed: here
        s.sendall(request)
        answer = _read(s, 1 + 4)
        if len(answer) != 5 or answer[:1] != _STARTED:
            s.close()
            return None  # the resident process was ending, or cannot run it (its folder): the command runs here
    except OSError:
        s.close()
        return None
    group = struct.unpack("!i", answer[1:])[0]  # the command's process group
    got: list[int] = []

    def pass_on(signum, _frame):
        got.append(signum)
        try:  # the command's group has no terminal: the kernel drops a terminal's stop signals there, not SIGSTOP
            os.killpg(group, signal.SIGSTOP if signum in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU) else signum)
        except OSError:
            pass
        if signum in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):  # stop here too, as without a resident process
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSTOP)
            signal.signal(signum, pass_on)  # continued (fg/bg): SIGCONT is passed on in turn

    for sig in passed:
        if int(sig) not in ignored:
            signal.signal(sig, pass_on)
    try:
        answer = _read(s, 1 + 4)
    except OSError:
        answer = b""
    if len(answer) == 5 and answer[:1] == _FINISHED:
        return struct.unpack("!i", answer[1:])[0]
    fatal = [sig for sig in got if sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)]
    if fatal:  # the command died of a signal passed on: so does this process, as it would have alone
        signal.signal(fatal[-1], signal.SIG_DFL)
        os.kill(os.getpid(), fatal[-1])
    print("xl-stp: the resident process stopped before the command finished; workbooks already written are "
          "complete, nothing else was changed (XL_STP_RESIDENT=0 runs commands without one)", file=sys.stderr)
    return 1


def _read(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def after() -> None:
    """After a command that found no resident process: start one in the background for the next
    (in a session of its own, its output nowhere); it serves the address this command looked at."""
    if _Missing.address is None:
        return
    import subprocess

    try:
        # -P: no folder in front of the import path (the current one would be, with -c); in / (no folder held)
        subprocess.Popen([sys.executable, "-P", "-c", "from xl_stp.cli.resident import serve; serve()",
                          _Missing.address], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True, cwd="/")
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------
# The resident process


def serve() -> None:
    """The resident process (started by :func:`after`): serve the address given, one fork a command,
    until it has waited ``XL_STP_RESIDENT`` seconds with nothing to do."""
    os.chdir("/")
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
    Server(sys.argv[1], idle_seconds() or IDLE).run()


class Server:
    def __init__(self, address: str, idle: float) -> None:
        self.address, self.idle = address, idle
        self.children: dict[int, object] = {}  # a command's process: the worker it took over (or None)
        self.ended: list = []  # workers of finished commands, reaped once they stop
        self.spare = None  # a LibreOffice worker started for the next command
        self.served = 0
        self.failed_spares = 0  # spares that stopped before a command took them: after 3, none is started

    def run(self) -> None:
        import fcntl
        import select
        import signal
        import time

        lock = open(self.address[: -len(".sock")] + ".lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another one is starting for the same address
        self.spare = self._worker()  # LibreOffice starts while Python imports
        self._prepare()  # before the socket is there: commands meanwhile run on their own
        try:
            os.unlink(self.address)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        os.chmod(self.address, 0o600)
        listener.listen(16)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        self.quiet_since = time.monotonic()
        try:
            while True:
                self._reap()
                if not self.children and self.spare is None and self.failed_spares < 3:
                    self.spare = self._worker()
                wait = None if self.children else max(0.0, self.quiet_since + self.idle - time.monotonic())
                if wait == 0.0:
                    break
                ready, _, _ = select.select([listener, wake_r], [], [], wait)
                if wake_r in ready:
                    os.read(wake_r, 512)
                if listener in ready:
                    conn, _ = listener.accept()
                    if self._serve(conn, listener, (wake_r, wake_w)) == "stop":
                        break
        finally:
            listener.close()
            try:
                os.unlink(self.address)
            except OSError:
                pass
            if self.spare is not None:
                self.spare.quit()
            lock.close()  # the file stays: removing it would let two processes lock two files of one name

    def _prepare(self) -> None:
        """Import what the commands run (the imports are what a one-shot command spends most on)."""
        import importlib

        from udfs import discover

        discover(excel=False)
        for name in ("xl_stp.cli.commands", "xl_stp.cli.scenarios", "xl_stp.batch.run", "xl_stp.batch.verify",
                     "xl_stp.batch.engines.libreoffice.engine", "xl_stp.batch.engines.fused",
                     "xl_stp.batch.engines.formulas", "xl_stp.scenarios", "openpyxl", "formulas"):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an extra not installed: the command says so when it runs
                pass

    def _worker(self):
        try:
            from xl_stp.batch.engines.libreoffice import client

            return client.Worker() if client.available() else None
        except Exception:  # noqa: BLE001 - the command starts its own, and says what fails
            return None

    def _spare_state(self) -> str:
        """The next command's LibreOffice: ready (its ready message waits in the pipe), starting, or none."""
        import select

        if self.spare is None:
            return "none"
        return "ready" if select.select([self.spare.proc.stdout.fileno()], [], [], 0)[0] else "starting"

    def _reap(self) -> None:
        import time

        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                worker = self.children.pop(pid)
                if worker is not None:
                    self.ended.append(worker)
                self.quiet_since = time.monotonic()
        self.ended = [w for w in self.ended if w.proc.poll() is None]
        if self.spare is not None and self.spare.proc.poll() is not None:
            self.spare = None
            self.failed_spares += 1

    def _serve(self, conn: socket.socket, listener: socket.socket, wake: tuple[int, int]) -> str | None:
        try:
            conn.settimeout(10)
            head, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
            request = json.loads(_read(conn, _HEADER.unpack(head)[0]) if len(head) == _HEADER.size else b"{}")
        except (OSError, ValueError):
            conn.close()
            return None
        op = request.get("op")
        if op != "run" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if op == "status":
                conn.sendall(json.dumps({"pid": os.getpid(), "served": self.served, "running": len(self.children),
                                         "address": self.address, "libreoffice": self._spare_state()}).encode())
            conn.close()
            return "stop" if op == "stop" else None
        worker, self.spare = self.spare, None
        pid = os.fork()
        if pid == 0:
            listener.close()
            for fd in wake:
                os.close(fd)
            _child(conn, fds, request, worker)  # does not return
        self.served += 1
        self.children[pid] = worker
        for fd in fds:
            os.close(fd)
        conn.close()
        if worker is not None:  # the command's now: its pipe ends here are closed, so that it sees the command end
            worker.proc.stdin.close()
            worker.proc.stdout.close()
        return None


def _child(conn: socket.socket, fds: list[int], request: dict, worker) -> None:
    """The command's process: take over the client's descriptors, folder and environment, and the
    started LibreOffice worker; run the command; send its exit status."""
    import atexit
    import io
    import signal
    import threading

    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for name in PASSED:  # as the xl-stp process has them: ignored there, ignored here
            sig = getattr(signal, name)
            default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, signal.SIG_IGN if int(sig) in request["ignored"] else default)
        os.setsid()  # a group of its own, as a command in a terminal has: a signal reaches its pool's processes too
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import time

        time.tzset()
        os.umask(request["umask"])
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
        enc = request["encoding"]
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding=enc[0])
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding=enc[1],
                                      line_buffering=os.isatty(1))
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding=enc[2],
                                      errors="backslashreplace", line_buffering=True)
        sys.argv = request["argv"]
        import tempfile

        tempfile.tempdir = None  # from this environment's TMPDIR
        from . import common

        common.consoles()  # rich looks at the terminal when a console is made
        if worker is not None:
            from xl_stp.batch.engines.libreoffice import client

            worker.adopt()
            client._worker = worker
            atexit.register(worker.quit)
        conn.settimeout(None)
        conn.sendall(_STARTED + struct.pack("!i", os.getpid()))
    except BaseException:  # noqa: BLE001 - nothing has run: the xl-stp process runs the command itself
        try:
            conn.sendall(_REFUSED + struct.pack("!i", 0))
        finally:
            os._exit(1)
    status = 1
    finished = threading.Event()
    try:
        def watch() -> None:  # the xl-stp process gone (killed): stop as by SIGTERM
            try:
                while conn.recv(16):
                    pass
            except OSError:
                pass
            if not finished.is_set():
                os.killpg(os.getpgrp(), signal.SIGTERM)

        threading.Thread(target=watch, daemon=True).start()
        from . import run

        status = run(request["argv"][1:])
        atexit._run_exitfuncs()
    except KeyboardInterrupt:
        status = 130
    except BaseException:  # noqa: BLE001 - said on the command's standard error, never lost
        import traceback

        traceback.print_exc()
    finally:
        finished.set()  # the xl-stp process may go as soon as it has the status
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:  # noqa: BLE001
                pass
        try:
            conn.sendall(_FINISHED + struct.pack("!i", status))
        except OSError:
            pass
        os._exit(status & 0xFF)


# ---------------------------------------------------------------------------------------------------
# xl-stp resident: what is running, and stopping it


def running() -> list[dict]:
    """This user's resident processes (sockets nobody listens on any more are removed)."""
    where = folder()
    found = []
    if where is None:
        return found
    for name in sorted(os.listdir(where)):
        if not name.endswith(".sock"):
            continue
        path = os.path.join(where, name)
        try:
            answer = json.loads(_ask(path, "status") or b"null")
        except (ConnectionRefusedError, FileNotFoundError):  # its process is gone
            try:
                os.unlink(path)
            except OSError:
                pass
            continue
        except (OSError, ValueError):  # busy, or ending: not listed this time
            continue
        if isinstance(answer, dict) and "pid" in answer:
            found.append(answer | {"current": path == _address()})
    return found


def stop_all() -> int:
    """Stop this user's resident processes (each once its running commands finish); how many."""
    stopped = 0
    for r in running():
        try:
            _ask(r["address"], "stop")
            stopped += 1
        except OSError:
            pass
    return stopped


def _ask(path: str, op: str) -> bytes:
    """The resident process's answer to a status or stop request (OSError when it cannot be asked)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(path)
        body = json.dumps({"op": op}).encode()
        s.sendall(_HEADER.pack(len(body)) + body)
        return _read(s, 1 << 16)
    finally:
        s.close()
