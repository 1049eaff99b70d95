"""Running one task over many workbooks: in this process, on local processes, or on a Dask cluster."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
import traceback
import typing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterator

from . import cells, formula
from .engines import EngineRefused, Registry
from .package import WorkbookError


#: Python's cyclic garbage collector, while a workbook's task runs, looks over the objects after this
#: many allocations, not 700: a regeneration allocates many objects that all live until it ends (the
#: scan's cells, the values), and at 700 it would look them over a few hundred times, a tenth of the run.
FEWER_COLLECTIONS = 100_000
_tasks = threading.Lock()
_running = [0, None]  # tasks running in this process, and the collector's thresholds before the first


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """The collector's first threshold raised while any task of this process runs (threads too);
    put back as it was when the last one ends."""
    with _tasks:
        if _running[0] == 0:
            _running[1] = gc.get_threshold()
            gc.set_threshold(max(FEWER_COLLECTIONS, _running[1][0]), *_running[1][1:])
        _running[0] += 1
    try:
        yield
    finally:
        with _tasks:
            _running[0] -= 1
            if _running[0] == 0:
                gc.set_threshold(*_running[1])


@contextlib.contextmanager
def failures_recorded(result: Any, debug: bool = False) -> Iterator[None]:
    """Run one workbook's task so that it never raises: a failure becomes ``result.error``, one
    line (an engine's refusal lists its cells in ``result.problems``; the traceback of an internal
    error only with ``debug``); what the workbook asked the caches for is not kept for the next.
    The garbage collector runs less often meanwhile (:data:`FEWER_COLLECTIONS`)."""
    try:
        with _fewer_collections():
            yield
    except EngineRefused as e:
        result.error = str(e)
        result.problems.extend(str(p) for p in e.problems[1:])
    except WorkbookError as e:
        result.error = str(e)
    except MemoryError:
        result.error = "ran out of memory; the workbook is too large for this machine's limits"
    except Exception as e:  # an internal error: one line, the traceback only with --debug
        result.error = f"internal error ({type(e).__name__}: {e})" + (f"\n{traceback.format_exc()}" if debug else "")
    finally:
        cells.clear_caches()
        formula.clear_caches()

def execute(task: Callable[..., Any], paths: list[Path], registry: Registry, kwargs: dict, jobs: int,
            scheduler: str | None) -> Iterator[tuple[int, Any]]:
    """``task(path, registry, **kwargs)`` for every path — in this process, on local processes, or
    on a Dask cluster — yielding (index, result) as each finishes. ``task`` never raises; a worker
    that dies gives a result of the task's type with ``error`` set. Close the generator when the
    caller stops early (``contextlib.closing``): the workbooks not started then are not started."""
    if scheduler:
        from distributed import Client, as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(task, str(p), registry, pure=False, **kwargs): i for i, p in enumerate(paths)}
            for fut in dask_completed(futures):
                yield futures[fut], fut.result()
        return
    n = jobs or min(len(paths), os.cpu_count() or 1)
    if n <= 1 or len(paths) == 1:
        for i, p in enumerate(paths):
            yield i, task(p, registry, **kwargs)
        return
    with ProcessPoolExecutor(max_workers=n, initializer=_worker_signals) as pool:
        futures = {pool.submit(_unless_stopped, task, str(p), registry, kwargs): i for i, p in enumerate(paths)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    yield i, fut.result()
                except Exception as e:  # a worker died (killed, out of memory): the others go on
                    yield i, _died(task, paths[i], e)
        except BaseException:  # Ctrl-C or SIGTERM (the workers get it too), or the caller stopped: no new workbook starts
            pool.shutdown(wait=True, cancel_futures=True)
            raise


#: A pool's worker process was stopped (Ctrl-C or SIGTERM): it starts no other workbook.
_stopping = False


def _stop_worker(_signum, _frame) -> None:
    """Ctrl-C or SIGTERM in a pool's worker: the workbook in progress stops (its temporary file is
    removed as it unwinds), and none of those already queued to this process starts; a second
    signal is ignored, so that it cannot cut the removal short."""
    global _stopping
    _stopping = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _worker_signals() -> None:
    signal.signal(signal.SIGINT, _stop_worker)
    signal.signal(signal.SIGTERM, _stop_worker)


def _unless_stopped(task: Callable[..., Any], path: str, registry: Registry, kwargs: dict) -> Any:
    if _stopping:
        raise KeyboardInterrupt("the run was stopped before this workbook started")
    return task(path, registry, **kwargs)


def _died(task: Callable[..., Any], path: Path, e: Exception) -> Any:
    """The result of a task whose worker process stopped."""
    result_type = typing.get_type_hints(task)["return"]
    return result_type(path=str(path), error=f"the worker process stopped ({type(e).__name__})")
