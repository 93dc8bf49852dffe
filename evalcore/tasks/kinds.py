"""The registry of task kinds: a task name (what the data declares, `EvalData.task`) resolved to its kind
object (`evalcore.core.kind.TaskKind`). Adding a kind is adding its module under `evalcore/tasks/` and
naming it in `KINDS` here."""

from __future__ import annotations

from typing import Any

from evalcore.core.errors import ConfigError
from evalcore.core.kind import TaskKind
from evalcore.tasks import classification, generation

KINDS: dict[str, TaskKind] = {k.name: k for k in (classification.KIND, generation.KIND)}
DEFAULT = classification.NAME


def task_kind(name: str | None) -> TaskKind:
    """The kind object of a task name (None: classification, the default of data that declares nothing)."""
    try:
        return KINDS[name or DEFAULT]
    except KeyError:
        raise ConfigError(f"task {name!r} is unknown; allowed: {', '.join(KINDS)}") from None


def kind_of(obj: Any) -> TaskKind:
    """The kind of data, an analysis or a df_eval: their declared task (`task`, or df_eval's `attrs["task"]`)."""
    attrs = getattr(obj, "attrs", None)
    name = attrs.get("task") if isinstance(attrs, dict) else getattr(obj, "task", None)
    return task_kind(name)


__all__ = ["DEFAULT", "KINDS", "kind_of", "task_kind"]
