"""``.scylla.alternator.system.config``: the server's options, some changeable at run time.

As ScyllaDB's ``system.config``, one item per option: ``name`` (the option's name as ScyllaDB
spells it: ``--alternator-timeout-in-ms`` is ``alternator_timeout_in_ms``), ``value`` (text),
``source`` (``default``, ``cli``, ``env`` for an ALTERNATOR_... variable, or ``cql`` once
changed at run time) and ``live`` (whether it may change while the server runs). Query by
``name``, or Scan.

With ``--alternator-allow-system-table-write``, a superuser changes a live option with PutItem
(``{"name": ..., "value": ...}``) or UpdateItem (``SET #value = :v`` on the key ``name``); the
next request sees it. Under ``--workers`` the change is also written to a file the other
workers read within a second (:class:`LiveOptions`). Changes last until the server stops.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import orjson

from alternator import settings as live
from alternator.errors import ValidationException
from alternator.expressions.ast import Update, Value
from alternator.values import Item

log = logging.getLogger("alternator")

SHARED_FILE = "live-options.json"


@dataclass(slots=True)
class LiveOptions:
    """The run-time changes of one server, applied to this process's settings."""

    settings: live.Settings
    # Under --workers: the directory shared by the workers, where changes are written.
    shared_dir: str | None = None
    changed: dict[str, str] = field(default_factory=dict)  # name -> value, as given
    _seen: float = -1.0  # mtime of the shared file when last read

    def change(self, name: str, text: str) -> None:
        """Change option ``name``; ValidationException with the reason if it cannot."""
        if name not in live.SCYLLA_NAMES:
            raise ValidationException(
                f"Option {name} cannot be changed while the server runs; the options that "
                f"can: {', '.join(sorted(live.SCYLLA_NAMES))}")
        self.refresh()  # the other workers' changes first, so that this one does not undo them
        try:
            live.change(self.settings, name, text)
        except ValueError as error:
            raise ValidationException(f"Invalid value for option {name}: {error}") from None
        self.changed[name] = live.current(self.settings, name)
        self._write()

    def refresh(self) -> None:
        """Apply the changes other workers made (cheap when there are none: one stat)."""
        if self.shared_dir is None:
            return
        path = os.path.join(self.shared_dir, SHARED_FILE)
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._seen:
            return
        self._seen = mtime
        try:
            with open(path, "rb") as f:
                changes = orjson.loads(f.read())
        except (OSError, orjson.JSONDecodeError):
            return  # being replaced: read it next time
        for name, text in changes.items():
            if self.changed.get(name) != text:
                try:
                    live.change(self.settings, name, text)
                    self.changed[name] = text
                except ValueError:
                    log.warning("ignoring live option %s=%r from another worker", name, text)

    def _write(self) -> None:
        if self.shared_dir is None:
            return
        path = os.path.join(self.shared_dir, SHARED_FILE)
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "wb") as f:
            f.write(orjson.dumps(self.changed))
        os.replace(temporary, path)


def items(options: tuple[tuple[str, str, str], ...], current: LiveOptions) -> list[Item]:
    """Every option as an item, sorted by name."""
    rows: dict[str, tuple[str, str]] = {name: (value, source) for name, value, source in options}
    for name in live.SCYLLA_NAMES:
        value = live.current(current.settings, name)
        source = "cql" if name in current.changed else rows.get(name, ("", "default"))[1]
        rows[name] = (value, source)
    return [{"name": {"S": name}, "value": {"S": value}, "source": {"S": source},
             "live": {"BOOL": name in live.SCYLLA_NAMES}}
            for name, (value, source) in sorted(rows.items())]


def written_value(item: Item) -> tuple[str, str]:
    """(name, value) of a PutItem on the table: both strings, nothing else."""
    name, value = item.get("name"), item.get("value")
    if not (isinstance(name, dict) and "S" in name and isinstance(value, dict)
            and "S" in value) or set(item) - {"name", "value", "source", "live"}:
        raise ValidationException(
            'An item of system.config is {"name": {"S": ...}, "value": {"S": ...}}')
    return str(name["S"]), str(value["S"])


def updated_value(update: Update | None, key: Item) -> tuple[str, str]:
    """(name, value) of an UpdateItem: ``SET value = :v`` on the key ``name``."""
    name = key.get("name")
    if set(key) != {"name"} or not (isinstance(name, dict) and "S" in name):
        raise ValidationException('The key of system.config is {"name": {"S": ...}}')
    if update is None or len(update.set) != 1 or len(update.actions) != 1:
        raise ValidationException("An update of system.config sets its value: SET value = :v")
    action = update.set[0]
    operand = action.value
    if tuple(action.path.bound()) != ("value",) or not isinstance(operand, Value) \
            or "S" not in operand.value:
        raise ValidationException("An update of system.config sets its value: SET value = :v "
                                  "with a string :v")
    return str(name["S"]), str(operand.value["S"])
