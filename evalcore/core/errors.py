"""One exception family for everything a user can get wrong.

The CLI and the app catch `EvalcoreError` and show its message; any other exception is a bug.
Messages name the parameter, the value and what is allowed; causes are chained with `from`.
"""

from __future__ import annotations


class EvalcoreError(Exception):
    """Base of every error caused by user input or environment, never by a bug."""


class DataError(EvalcoreError):
    """A dataset could not be loaded: missing file or column, bad label, bad encoding..."""


class ModelError(EvalcoreError):
    """A model spec could not be resolved, loaded, or mapped onto the dataset's labels."""


class CacheError(EvalcoreError):
    """The prediction cache could not be opened or written."""


class RuleError(EvalcoreError):
    """A slice rule is malformed or does not fit the table it is evaluated on.

    `position` is the character offset in the rule's text form when known.
    """

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position


class FeatureError(EvalcoreError):
    """A metadata feature (built-in or user keyword / regex) is invalid."""


class ConfigError(EvalcoreError):
    """A setting, gate or integration (W&B, LLM endpoint) is misconfigured."""
