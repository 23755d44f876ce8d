"""The one error hierarchy of ocppkit.

Every error the project raises derives from :class:`OcppkitError`. Errors that
answer a peer know their wire form: a :class:`FrameError` carries the OCPP-J
error code (:class:`ErrorCode`) a CALLERROR must name, a SOAP error its fault
code. A server converts them to wire frames in exactly one place
(``toolkit`` never invents codes of its own).

Tree::

    OcppkitError
    ├── FrameError            -- a peer's frame or payload broke OCPP-J (has .code)
    │   └── ValidationFailed  -- schema violations (has .violations)
    ├── TranslationError      -- a message has no counterpart (has .code, NotSupported)
    ├── SoapError             -- OCPP 1.5 SOAP envelope problems (has .fault_code)
    ├── JournalError          -- a journal record is not one
    └── ConfigError           -- the user's settings or arguments are wrong
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from ocppkit.translators.violations import Violation


class SpellsErrorCodes(Protocol):
    """A version, as far as error codes go (:class:`~ocppkit.translators.versions.OcppVersion`).

    Declared here so this module needs nothing from ``versions`` (which
    raises :class:`ConfigError`): the import graph stays a tree.
    """

    @property
    def error_code_spelling(self) -> Mapping[ErrorCode, str]: ...


class ErrorCode(StrEnum):
    """OCPP-J RPC error codes (1.6: OCPP-J §4.2.3; 2.0.1: Part 4 §4.3).

    The member names are version-neutral; :meth:`wire` gives the spelling a
    version puts on the wire.
    """

    # "Requested Action is not known by receiver" (the spec wording; the
    # mobilityhouse library swaps this with NotSupported).
    NOT_IMPLEMENTED = "NotImplemented"
    # "Requested Action is recognized but not supported by the receiver".
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    # "Payload for Action is incomplete" / 2.0.1: not conform the protocol.
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    # "Payload for Action is syntactically incorrect or not conform the PDU
    # structure for Action". 1.6 calls it FormationViolation, 2.0.1
    # FormatViolation.
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    # 1.6 spells it "OccurenceConstraintViolation" (one r) on the wire.
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    # 2.0.1 only: "A message with an Message Type Number received that is
    # not supported by this implementation."
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    # 2.0.1 only: "Content of the call is not a valid RPC Request, for
    # example: MessageId could not be read."
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"

    def wire(self, version: SpellsErrorCodes) -> str:
        """The code as ``version`` writes it in a CALLERROR."""
        return version.error_code_spelling.get(self, self.value)


# 1.6 has no MessageTypeNotSupported / RpcFrameworkError; the nearest 1.6
# codes are the ones OCPP-J 1.6 §4.2.3 lists for an unreadable message.
# (Which version spells which way: OcppVersion.error_code_spelling.)
V16_SPELLING: Mapping[ErrorCode, str] = {
    ErrorCode.FORMAT_VIOLATION: "FormationViolation",
    ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
    ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED: "ProtocolError",
    ErrorCode.RPC_FRAMEWORK_ERROR: "ProtocolError",
}

# Every code a peer may send us, in either spelling, back to the member.
ERROR_CODE_BY_WIRE: dict[str, ErrorCode] = {
    **{c.value: c for c in ErrorCode},
    "FormationViolation": ErrorCode.FORMAT_VIOLATION,
    "OccurenceConstraintViolation": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
}


class OcppkitError(Exception):
    """Root of every error ocppkit raises."""


class FrameError(OcppkitError):
    """A frame or payload a peer sent breaks OCPP-J.

    Attributes:
        code: the OCPP-J error code a CALLERROR must carry.
        message_id: the offending CALL's id, when it could be read; a server
            answers with a CALLERROR only when it is known.
        action: the action, when it could be read.
        message_type: the frame's message type number, when it could be
            read (an answer, type 3 to 6, is never answered).
    """

    def __init__(
        self,
        code: ErrorCode,
        description: str,
        *,
        message_id: str | None = None,
        action: str | None = None,
        message_type: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.message_id = message_id
        self.action = action
        self.message_type = message_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.description})"


class ValidationFailed(FrameError):
    """A payload violates its official schema.

    Attributes:
        violations: every violation found, each with its JSON path.
    """

    def __init__(
        self,
        code: ErrorCode,
        description: str,
        violations: tuple[Violation, ...],
        *,
        message_id: str | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(code, description, message_id=message_id, action=action)
        self.violations = violations


class TranslationError(OcppkitError):
    """A message has no counterpart in the target version.

    The bridge answers it with a CALLERROR carrying ``code`` (NotSupported by
    default) and ``reason``.
    """

    def __init__(self, reason: str, code: ErrorCode = ErrorCode.NOT_SUPPORTED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class SoapError(OcppkitError):
    """An OCPP 1.5 SOAP envelope cannot be handled.

    Attributes:
        fault_code: the SOAP 1.2 fault code (``Sender`` for the peer's fault,
            ``Receiver`` for ours).
        subcode: an optional more specific code.
    """

    def __init__(self, reason: str, fault_code: str = "Sender", subcode: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fault_code = fault_code
        self.subcode = subcode


class JournalError(OcppkitError):
    """A line is not a valid journal record."""


class ConfigError(OcppkitError):
    """A setting or argument given by the user is wrong."""


class StoreError(OcppkitError):
    """The bridge's state database cannot be used as it is (damaged, lost, read-only)."""


class LeaseLost(StoreError):
    """Another bridge instance took this charger's lease: the write was refused
    (its fencing token is stale), so nothing of it is stored or acknowledged."""
