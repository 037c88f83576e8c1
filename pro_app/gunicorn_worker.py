"""gunicorn's sync worker, woken alone when a connection comes in.

gunicorn's own sync workers all wait in `select` on the one listening socket, so each new
connection wakes every idle worker; one accepts it and the others find nothing and go back to
sleep ("the thundering herd", gunicorn's FAQ); and the connections go round all the workers in
turn, so each request runs in a process whose memory the others have since pushed out of the
CPU's caches. Measured on this app at one patient (docs/performance.md):
four sync workers spent 1.6-2.2 ms of CPU on an answer page that one worker alone serves with
1.3-1.4 ms, and with three of the four stopped the fourth needed no more than one worker alone.

This worker waits in `epoll` with EPOLLEXCLUSIVE on the listening sockets (Linux 4.5 and later):
the kernel wakes one idle worker per connection, and the same worker while it stays idle, so a
quiet server keeps one warm process answering. Under load nothing changes: a busy worker is not
waiting, so the next connection wakes another, and a worker that finishes takes whatever queued
before it waits again (gunicorn's own loop). Where epoll or the flag is missing (macOS, old
kernels) it waits as gunicorn's sync worker does.
"""

from __future__ import annotations

import errno
import os
import select
from typing import Any

from gunicorn.workers.sync import StopWaiting, SyncWorker

_EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", None)


class ExclusiveSyncWorker(SyncWorker):
    """A sync worker (one request at a time) that idle peers are not woken beside."""

    # The worker's epoll (made in the worker process, before its loop); None where the kernel or
    # the platform offers no exclusive wake-ups, and the worker waits as gunicorn's own does.
    _poller: select.epoll | None = None
    _listeners: dict[int, Any]

    def run(self) -> None:
        self._poller = self._exclusive_poller()
        super().run()

    def wait(self, timeout: float) -> list[Any] | None:
        if self._poller is None:
            return super().wait(timeout)
        try:
            self.notify()
            ready: list[Any] = []
            for fd, _events in self._poller.poll(timeout):
                if fd == self.PIPE[0]:
                    os.read(fd, 1)  # a signal's wake-up byte, as gunicorn's own wait reads it
                    ready.append(fd)
                else:
                    ready.append(self._listeners[fd])
            return ready or None
        except OSError as error:  # the same handling as gunicorn's sync worker
            if error.errno == errno.EINTR:
                return self.sockets
            if error.errno == errno.EBADF:
                if self.nr < 0:
                    return self.sockets
                raise StopWaiting from error
            raise

    def _exclusive_poller(self) -> select.epoll | None:
        """Each listening socket exclusive, the signal pipe as usual; None where exclusive
        wake-ups are not offered."""
        if _EXCLUSIVE is None or not hasattr(select, "epoll"):
            return None
        poller = select.epoll()
        try:
            for listener in self.sockets:
                poller.register(listener.fileno(), select.EPOLLIN | _EXCLUSIVE)
            poller.register(self.PIPE[0], select.EPOLLIN)
        except OSError:  # EINVAL: a kernel older than 4.5
            poller.close()
            return None
        self._listeners = {listener.fileno(): listener for listener in self.sockets}
        return poller
