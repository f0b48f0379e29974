"""The one error hierarchy.

Every error a client can see is a :class:`DynamoDBError` subclass whose class name is DynamoDB's
error code. The server turns it into DynamoDB's JSON error body in exactly one place
(``DynamoDBError.body``), so handlers only ever ``raise``.
"""

from __future__ import annotations

from typing import Any, ClassVar

_DYNAMODB_NS = "com.amazonaws.dynamodb.v20120810#"
_CORAL_NS = "com.amazon.coral.service#"


class DynamoDBError(Exception):
    """Base of every error returned to a client."""

    status: ClassVar[int] = 400
    # DynamoDB's own errors live in the dynamodb namespace and say "message"; errors raised by
    # the AWS request front end (signatures, unknown operations, malformed JSON) are "coral"
    # errors and say "Message". boto3 reads both.
    namespace: ClassVar[str] = _DYNAMODB_NS
    message_key: ClassVar[str] = "message"
    # The DynamoDB error code: the class name, inherited by private (underscore) subclasses and
    # by classes that set it explicitly.
    code: ClassVar[str] = "InternalServerError"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_") and "code" not in cls.__dict__:
            cls.code = cls.__name__

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"__type": self.namespace + self.code, self.message_key: self.message}


class _CoralError(DynamoDBError):
    namespace = _CORAL_NS
    message_key = "Message"


# --- request-level errors ---------------------------------------------------------------------


class ValidationException(DynamoDBError):
    pass


class SerializationException(_CoralError):
    # A body that does not parse as JSON is answered with the bare
    # {"__type": "com.amazon.coral.service#SerializationException"}: no message member at all
    # (dynalite's test/connection.js, written against DynamoDB, pins that body and its CRC32).
    bare: bool = False

    @classmethod
    def unparsable(cls, detail: str) -> SerializationException:
        """The error for an unparsable body; ``detail`` is kept for logs, never sent."""
        error = cls(detail)
        error.bare = True
        return error

    def body(self) -> dict[str, Any]:
        return {"__type": self.namespace + self.code} if self.bare else super().body()


class UnknownOperationException(_CoralError):
    pass


class RequestEntityTooLarge(DynamoDBError):
    status = 413


class RequestTimeout(_CoralError):
    """The request did not arrive within the server's read timeout (docs/security.md)."""

    status = 408


class ThrottlingException(_CoralError):
    """Too many request bytes in flight; SDKs back off and retry this error on their own."""

    namespace = "com.amazon.coral.availability#"


# --- resources --------------------------------------------------------------------------------


class ResourceNotFoundException(DynamoDBError):
    pass


class ResourceInUseException(DynamoDBError):
    pass


class TableNotFoundException(DynamoDBError):
    """The backup operations' name for a missing table (others say ResourceNotFound)."""


class LimitExceededException(DynamoDBError):
    pass


# --- writes -----------------------------------------------------------------------------------


class ConditionalCheckFailedException(DynamoDBError):
    def __init__(self, message: str = "The conditional request failed",
                 item: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.item = item

    def body(self) -> dict[str, Any]:
        out = super().body()
        if self.item is not None:
            out["Item"] = self.item
        return out


class DuplicateItemException(DynamoDBError):
    """A PartiQL INSERT of a key that exists (tests/test_partiql.py::test_insert_duplicate)."""

    def __init__(self, message: str = "Duplicate primary key exists in table") -> None:
        super().__init__(message)


class TransactionConflictException(DynamoDBError):
    def __init__(self, message: str = "Transaction is ongoing for the item") -> None:
        super().__init__(message)


class IdempotentParameterMismatchException(DynamoDBError):
    pass


class TransactionInProgressException(DynamoDBError):
    def __init__(self, message: str = "The transaction with the given request token is "
                 "already in progress.") -> None:
        super().__init__(message)


class TransactionCanceledException(DynamoDBError):
    """A write or read transaction cancelled: one reason per action, in action order, each
    ``{"Code": ...}`` with ``Message`` and ``Item`` where they apply."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        codes = ", ".join(r["Code"] for r in reasons)
        super().__init__("Transaction cancelled, please refer cancellation reasons for "
                         f"specific reasons [{codes}]")
        self.reasons = reasons

    def body(self) -> dict[str, Any]:
        return {**super().body(), "CancellationReasons": self.reasons}


class ItemCollectionSizeLimitExceededException(DynamoDBError):
    pass


# --- streams ----------------------------------------------------------------------------------


class ExpiredIteratorException(DynamoDBError):
    def __init__(self, message: str = "The provided iterator exceeds the maximum age allowed."
                 ) -> None:
        super().__init__(message)


class TrimmedDataAccessException(DynamoDBError):
    pass


# --- authentication and authorization ---------------------------------------------------------


class MissingAuthenticationTokenException(_CoralError):
    pass


class IncompleteSignatureException(_CoralError):
    pass


class InvalidSignatureException(_CoralError):
    pass


class UnrecognizedClientException(_CoralError):
    pass


class AccessDeniedException(_CoralError):
    pass


# --- server side ------------------------------------------------------------------------------


class InternalServerError(DynamoDBError):
    status = 500

    def __init__(self, message: str = "Internal server error") -> None:
        super().__init__(message)


class ServiceUnavailable(_CoralError):
    status = 503


class RequestTimeoutError(InternalServerError):
    """A storage write whose outcome is unknown (e.g. a Paxos timeout), or an operation past
    --alternator-timeout-in-ms (docs/http.md).

    Reported as a 500 InternalServerError so clients retry; never reported as success.
    """

    code = "InternalServerError"
