"""Domain errors of the register. Messages are Chinese: the UI shows them as they are."""

from __future__ import annotations


class RegisterError(Exception):
    """Base of every refusal the service layer gives."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidTransition(RegisterError):
    """A status change the lifecycle does not allow."""


class RectificationRequired(InvalidTransition):
    """销号 without a recorded rectification."""


class PermissionDenied(RegisterError):
    """The acting user's role (or unit) does not allow the action."""


class ConflictError(RegisterError):
    """The clue changed since the caller read it (optimistic locking)."""


class NotFound(RegisterError):
    """No such clue, user or unit."""


class InvalidInput(RegisterError):
    """A value the service cannot accept (bad role, negative amount, missing text)."""
