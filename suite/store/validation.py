"""What loading a stored record checks, and how it says so: one line naming the place.

    from suite.store.validation import Bad, Record, expect, number

The records of ``suite.store.records`` and ``suite.store.run_records`` check what they read with
these helpers and raise ``Bad(place, problem)``; the results file's loader turns that into one
``ResultsError`` line naming the file, e.g. "malformed results file PATH: ablations.scaling.
verdicts[0]: ...". The place is written as a path into the JSON. No torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar


class Bad(Exception):
    """A stored value that is not what its record needs, at PLACE (a path into the JSON)."""

    def __init__(self, place: str, problem: str):
        super().__init__(f"{place}: {problem}")  # made one line by ResultsError, which carries it


def expect(value, kind: type | tuple[type, ...], place: str, what: str):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # JSON true is no number
        raise Bad(place, f"expected {what}, found {type(value).__name__}")
    return value


def number(value, place: str) -> float:
    expect(value, (int, float), place, "a number")
    return float(value)


def measured(value, place: str, *, low: float = 0.0, high: float = math.inf, broken: bool | None = None) -> float:
    """A measured number in [LOW, HIGH]. It is finite, except where BROKEN is True (a diverged run's
    loss); BROKEN False says that it could have been, had the run been recorded as diverged."""
    value = number(value, place)
    if math.isfinite(value):
        if not low <= value <= high:
            raise Bad(place, f"{value!r} is outside [{low:g}, {high:g}]")
    elif not broken:
        diverged = ", and the run is not recorded as diverged" if broken is False else ""
        raise Bad(place, f"{value!r} is not finite{diverged}")
    return value


def optional(value, kind: type | tuple[type, ...], place: str, what: str):
    """VALUE, which may be None (an older file, a field nothing filled in), else of KIND."""
    return None if value is None else expect(value, kind, place, what)


def whole(value, place: str, *, low: int, high: int | None = None, what: str = "an integer") -> int:
    """An integer in [LOW, HIGH] (an epoch, a count)."""
    expect(value, int, place, what)
    if high is None and value < low:
        raise Bad(place, f"{value} is less than {low}")
    if high is not None and not low <= value <= high:
        raise Bad(place, f"{value} is outside [{low}, {high}]")
    return value


def _empty(value) -> bool:
    return value is None or (isinstance(value, (dict, list)) and not value)


@dataclass
class Record:
    """A stored JSON object as a dataclass whose fields are its keys, written back as it was read.

    Files of older versions lack keys that today's writers write (a run without ``stack``, a
    results file without ``worker_id``): ``absent`` remembers them, so that ``to_json`` leaves them
    out as long as nothing filled them in, and readers see the file as it is. Keys this version
    does not know are kept in ``extra``. A field in OPTIONAL is one that writers leave out rather
    than store as null (a run's ``activations`` without a probe).
    A record that sets KNOWN_ONLY refuses keys it does not know instead (``unread`` raises Bad):
    see each record for why.
    """

    OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    KNOWN_ONLY: ClassVar[bool] = False

    absent: frozenset[str] = field(default=frozenset(), kw_only=True, repr=False, compare=False)
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("absent", "extra"))

    @classmethod
    def unread(cls, data: dict, place: str) -> dict[str, Any]:
        """The bookkeeping of a record read from DATA at PLACE: which known keys it lacks, which it
        adds; Bad for an added key if the record takes known keys only."""
        known = cls.keys()
        extra = {key: value for key, value in data.items() if key not in known}
        if extra and cls.KNOWN_ONLY:
            raise Bad(place, f"unknown key {next(iter(extra))!r}")
        return {"absent": frozenset(key for key in known if key not in data), "extra": extra}

    def stored(self, values: dict[str, Any]) -> dict[str, Any]:
        """VALUES (every field as JSON, in the order writers write them) less what the file lacked."""
        kept = {
            key: value
            for key, value in values.items()
            if not (value is None and key in self.OPTIONAL) and not (key in self.absent and _empty(value))
        }
        return kept | self.extra


class Choice(str, Enum):
    """A stored word out of a fixed few (a status, an outcome): compares and prints as its text.

    ``(str, Enum)`` rather than 3.11's StrEnum: the suite supports Python 3.10 (README, and the
    GPU runner's system Python that tox -e gpu reuses); ``__str__``/``__format__`` give the text,
    as StrEnum's would.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def read(cls, value, place: str, what: str):
        try:
            return cls(value)
        except ValueError:
            raise Bad(place, f"unknown {what} {value!r}") from None
