"""The error table, checked against the OCPP-J spellings of each version."""

from __future__ import annotations

import pytest

from ocppkit.translators.errors import ERROR_CODE_BY_WIRE, ErrorCode
from ocppkit.translators.versions import OcppVersion

# OCPP-J 1.6 §4.2.3, as printed (including the spec's own misspelling).
V16_CODES = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}
# OCPP 2.0.1 Part 4 §4.3 (RPC framework error codes).
V201_CODES = {
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
}


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
def test_every_code_is_written_with_a_spelling_its_version_defines(code: ErrorCode) -> None:
    assert code.wire(OcppVersion.V16) in V16_CODES
    assert code.wire(OcppVersion.V201) in V201_CODES


def test_every_wire_spelling_of_both_versions_reads_back() -> None:
    for spelling in V16_CODES | V201_CODES:
        member = ERROR_CODE_BY_WIRE[spelling]
        assert spelling in {member.wire(OcppVersion.V16), member.wire(OcppVersion.V201)}


def test_not_implemented_and_not_supported_are_not_swapped() -> None:
    # "Requested Action is not known by receiver" vs "recognized but not supported".
    assert ErrorCode.NOT_IMPLEMENTED.wire(OcppVersion.V201) == "NotImplemented"
    assert ErrorCode.NOT_SUPPORTED.wire(OcppVersion.V16) == "NotSupported"
