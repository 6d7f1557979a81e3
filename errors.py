"""One exception hierarchy for SoniqueBay; the web layer maps it to HTTP statuses in one place."""

from __future__ import annotations


class SoniqueBayError(Exception):
    """Base of every error SoniqueBay raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigError(SoniqueBayError):
    """A configuration value is missing or invalid; names the section and key."""

    code = "config_error"

    def __init__(self, section: str, key: str, problem: str):
        super().__init__(f"[{section}] {key}: {problem}", details={"section": section, "key": key})
        self.section = section
        self.key = key


class BadAudioFile(SoniqueBayError):
    """A file in the library cannot be read as audio (empty, truncated, not audio, unreadable)."""

    code = "bad_audio_file"
    status = 422


class NotFound(SoniqueBayError):
    code = "not_found"
    status = 404


class InvalidInput(SoniqueBayError):
    """A request carried a value we refuse; ``details`` names the field."""

    code = "invalid_input"
    status = 400


class Unprocessable(InvalidInput):
    """Well-formed input that fails validation (a wrong type, a value out of range): HTTP 422."""

    code = "validation_failed"
    status = 422


class BatchFailed(Unprocessable):
    """One or more items of a batch were refused; nothing of the batch was written.

    ``details["items"]`` lists ``{"index", "message", "field"?}`` for every refused item.
    """

    code = "batch_failed"

    def single(self) -> Unprocessable:
        """A one-item batch's refusal, told as a plain validation error."""
        item = self.details["items"][0]
        details = {"field": item["field"]} if "field" in item else {}
        return Unprocessable(item["message"], details=details)


class Unauthorized(SoniqueBayError):
    code = "unauthorized"
    status = 401


class Forbidden(SoniqueBayError):
    code = "forbidden"
    status = 403


class Conflict(SoniqueBayError):
    code = "conflict"
    status = 409


class Gone(SoniqueBayError):
    """It existed and never will again (a revoked or expired share): HTTP 410."""

    code = "gone"
    status = 410


class ServiceUnavailable(SoniqueBayError):
    """A backing service (Redis, the API) cannot be reached right now."""

    code = "service_unavailable"
    status = 503


class StorageFull(ServiceUnavailable):
    """The disk under the data folder is full: nothing was written (the caller may retry)."""

    code = "storage_full"
    status = 507


class TryLater(ServiceUnavailable):
    """A stage cannot run now (a remote service is down or its circuit breaker is open).

    Raised by a per-track hook: the stage runner puts the track back on the queue for
    ``seconds`` later instead of recording a failure.
    """

    code = "try_later"

    def __init__(self, message: str, seconds: float):
        super().__init__(message, details={"retry_in": seconds})
        self.seconds = seconds
