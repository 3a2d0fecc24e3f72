"""Ctrl-C and SIGTERM while a report renders, wherever they land.

    with lost_interrupts() as lost:
        render(run_dir)
    if lost:
        raise KeyboardInterrupt    # the render finished, but someone asked it to stop

A signal's handler raises KeyboardInterrupt where the interpreter is at that moment. Inside a
weakref callback or a ``__del__`` (the plotting libraries run many), Python cannot raise it: it
prints "Exception ignored in ..." with a traceback and carries on. Within this block such an
interrupt is recorded instead of printed, so that the caller still stops, in its one line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def lost_interrupts() -> Iterator[list[BaseException]]:
    lost: list[BaseException] = []
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            lost.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield lost
    finally:
        sys.unraisablehook = previous
