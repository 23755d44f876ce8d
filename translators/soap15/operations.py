"""OCPP 1.5 SOAP, declared once: every operation, field, type and enumeration.

This module is the single source of truth for 1.5 in ocppkit. The project's
own WSDL and XSD files (:mod:`ocppkit.translators.soap15.wsdl_gen`), the codec's
dict normalisation (:mod:`ocppkit.translators.soap15.normalize`) and the mapping
document are all derived from these literals.

The facts are those of the OCPP 1.5 specification's two services
(Central System service, ``urn://Ocpp/Cs/2012/06/``: the 10 operations a
charge point calls; Charge Point service, ``urn://Ocpp/Cp/2012/06/``: the 15
operations a central system calls). Every request carries the SOAP header
``chargeBoxIdentity`` (xs:string) in the namespace of the called service; the
WS-Addressing actions are ``/<Op>`` and ``/<Op>Response``; body elements are
``<lowerCamelOp>Request`` / ``<lowerCamelOp>Response``. Element order is the
``xs:sequence`` order and matters on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CS_NAMESPACE = "urn://Ocpp/Cs/2012/06/"
CP_NAMESPACE = "urn://Ocpp/Cp/2012/06/"

UNBOUNDED = -1

# XML Schema built-in types the description uses (local names in xs:).
BUILTINS = frozenset({"string", "int", "boolean", "dateTime", "anyURI"})


@dataclass(frozen=True, slots=True)
class Field:
    """One element of a sequence: name, type, cardinality.

    ``type`` is an XML Schema built-in (:data:`BUILTINS`) or the name of a
    :class:`Restricted` / :class:`Complex` type in :data:`TYPES`.
    """

    name: str
    type: str
    min: int = 1
    max: int = 1  # UNBOUNDED for maxOccurs="unbounded"

    @property
    def repeated(self) -> bool:
        return self.max != 1


def opt(name: str, type_: str) -> Field:
    """An optional single field (``minOccurs=0``)."""
    return Field(name, type_, min=0)


def many(name: str, type_: str, min_: int = 0) -> Field:
    """A repeated field (``maxOccurs=unbounded``)."""
    return Field(name, type_, min=min_, max=UNBOUNDED)


@dataclass(frozen=True, slots=True)
class Restricted:
    """A simple type: a string with a maximum length, or an enumeration."""

    name: str
    max_length: int | None = None
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Complex:
    """A complex type: a sequence of fields, or text content with attributes.

    Attributes:
        text: for simple content (1.5 meter readings), the built-in type of the
            element's text; the codec presents the text under the key
            :data:`TEXT_KEY`.
    """

    name: str
    fields: tuple[Field, ...] = ()
    text: str | None = None
    attributes: tuple[Attribute, ...] = ()


# The key under which the codec's plain dicts carry the text of a
# simple-content element (zeep calls it ``_value_1``). "value" mirrors 1.6's
# sampledValue.value, which is where that text goes when lifted.
TEXT_KEY = "value"


class Role(StrEnum):
    """Which side hosts a service (and therefore receives its requests)."""

    CENTRAL_SYSTEM = "CentralSystem"
    CHARGE_POINT = "ChargePoint"


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    request: tuple[Field, ...] = ()
    response: tuple[Field, ...] = ()

    @property
    def request_element(self) -> str:
        return self.name[0].lower() + self.name[1:] + "Request"

    @property
    def response_element(self) -> str:
        return self.name[0].lower() + self.name[1:] + "Response"

    @property
    def action(self) -> str:
        return "/" + self.name

    @property
    def response_action(self) -> str:
        return "/" + self.name + "Response"


@dataclass(frozen=True, slots=True)
class Service:
    """One SOAP service: who hosts it, its namespace and operations."""

    name: str
    role: Role
    namespace: str
    operations: tuple[Operation, ...]

    @property
    def binding(self) -> str:
        return self.name + "Soap"

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)


def _enum(name: str, *values: str) -> Restricted:
    return Restricted(name, enum=values)


def _text(name: str, max_length: int) -> Restricted:
    return Restricted(name, max_length=max_length)


_SIMPLE: tuple[Restricted, ...] = (
    # Strings with a length limit (1.5 gives each its own type name).
    _text("IdToken", 20),
    _text("ChargePointVendor", 20),
    _text("ChargePointModel", 20),
    _text("ChargePointSerialNumber", 25),
    _text("ChargeBoxSerialNumber", 25),
    _text("FirmwareVersion", 50),
    _text("IccidString", 20),
    _text("ImsiString", 20),
    _text("MeterType", 25),
    _text("MeterSerialNumber", 25),
    # Enumerations.
    _enum("AuthorizationStatus", "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"),
    _enum("AvailabilityStatus", "Accepted", "Rejected", "Scheduled"),
    _enum("AvailabilityType", "Inoperative", "Operative"),
    _enum("CancelReservationStatus", "Accepted", "Rejected"),
    _enum(
        "ChargePointErrorCode",
        "ConnectorLockFailure",
        "HighTemperature",
        "Mode3Error",
        "NoError",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "GroundFailure",
        "OverCurrentFailure",
        "UnderVoltage",
        "WeakSignal",
        "OtherError",
    ),
    _enum("ChargePointStatus", "Available", "Occupied", "Faulted", "Unavailable", "Reserved"),
    _enum("ClearCacheStatus", "Accepted", "Rejected"),
    _enum("ConfigurationStatus", "Accepted", "Rejected", "NotSupported"),
    _enum("DataTransferStatus", "Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
    _enum("DiagnosticsStatus", "Uploaded", "UploadFailed"),
    _enum("FirmwareStatus", "Downloaded", "DownloadFailed", "InstallationFailed", "Installed"),
    _enum("Location", "Inlet", "Outlet", "Body"),
    _enum(
        "Measurand",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "Current.Export",
        "Current.Import",
        "Voltage",
        "Temperature",
    ),
    _enum(
        "ReadingContext",
        "Interruption.Begin",
        "Interruption.End",
        "Sample.Clock",
        "Sample.Periodic",
        "Transaction.Begin",
        "Transaction.End",
    ),
    _enum("RegistrationStatus", "Accepted", "Rejected"),
    _enum("RemoteStartStopStatus", "Accepted", "Rejected"),
    _enum("ReservationStatus", "Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"),
    _enum("ResetStatus", "Accepted", "Rejected"),
    _enum("ResetType", "Hard", "Soft"),
    _enum(
        "UnitOfMeasure",
        "Wh",
        "kWh",
        "varh",
        "kvarh",
        "W",
        "kW",
        "var",
        "kvar",
        "Amp",
        "Volt",
        "Celsius",
    ),
    _enum("UnlockStatus", "Accepted", "Rejected"),
    _enum("UpdateStatus", "Accepted", "Failed", "HashError", "NotSupported", "VersionMismatch"),
    _enum("UpdateType", "Differential", "Full"),
    _enum("ValueFormat", "Raw", "SignedData"),
)

_COMPLEX: tuple[Complex, ...] = (
    Complex(
        "IdTagInfo",
        (
            Field("status", "AuthorizationStatus"),
            opt("expiryDate", "dateTime"),
            opt("parentIdTag", "IdToken"),
        ),
    ),
    # A reading: its text is the value; every attribute is optional (the
    # spec's implied defaults are Sample.Periodic, Raw,
    # Energy.Active.Import.Register, Outlet and Wh, the same as 1.6's).
    Complex(
        "MeterValueReading",
        text="string",
        attributes=(
            Attribute("context", "ReadingContext"),
            Attribute("format", "ValueFormat"),
            Attribute("measurand", "Measurand"),
            Attribute("location", "Location"),
            Attribute("unit", "UnitOfMeasure"),
        ),
    ),
    Complex("MeterValue", (Field("timestamp", "dateTime"), many("value", "MeterValueReading", 1))),
    # StopTransaction wraps its samples one level deeper than MeterValues.
    Complex("TransactionData", (many("values", "MeterValue"),)),
    Complex(
        "KeyValue", (Field("key", "string"), Field("readonly", "boolean"), opt("value", "string"))
    ),
    Complex("AuthorisationData", (Field("idTag", "IdToken"), opt("idTagInfo", "IdTagInfo"))),
)

_ALL: tuple[Restricted | Complex, ...] = (*_SIMPLE, *_COMPLEX)
TYPES: dict[str, Restricted | Complex] = {t.name: t for t in _ALL}

_DATA_TRANSFER = Operation(
    "DataTransfer",
    request=(Field("vendorId", "string"), opt("messageId", "string"), opt("data", "string")),
    response=(Field("status", "DataTransferStatus"), opt("data", "string")),
)

CENTRAL_SYSTEM = Service(
    name="CentralSystemService",
    role=Role.CENTRAL_SYSTEM,
    namespace=CS_NAMESPACE,
    operations=(
        Operation("Authorize", (Field("idTag", "IdToken"),), (Field("idTagInfo", "IdTagInfo"),)),
        Operation(
            "BootNotification",
            request=(
                Field("chargePointVendor", "ChargePointVendor"),
                Field("chargePointModel", "ChargePointModel"),
                opt("chargePointSerialNumber", "ChargePointSerialNumber"),
                opt("chargeBoxSerialNumber", "ChargeBoxSerialNumber"),
                opt("firmwareVersion", "FirmwareVersion"),
                opt("iccid", "IccidString"),
                opt("imsi", "ImsiString"),
                opt("meterType", "MeterType"),
                opt("meterSerialNumber", "MeterSerialNumber"),
            ),
            response=(
                Field("status", "RegistrationStatus"),
                Field("currentTime", "dateTime"),
                Field("heartbeatInterval", "int"),
            ),
        ),
        _DATA_TRANSFER,
        Operation("DiagnosticsStatusNotification", (Field("status", "DiagnosticsStatus"),)),
        Operation("FirmwareStatusNotification", (Field("status", "FirmwareStatus"),)),
        Operation("Heartbeat", response=(Field("currentTime", "dateTime"),)),
        Operation(
            "MeterValues",
            (
                Field("connectorId", "int"),
                opt("transactionId", "int"),
                many("values", "MeterValue"),
            ),
        ),
        Operation(
            "StartTransaction",
            request=(
                Field("connectorId", "int"),
                Field("idTag", "IdToken"),
                Field("timestamp", "dateTime"),
                Field("meterStart", "int"),
                opt("reservationId", "int"),
            ),
            response=(Field("transactionId", "int"), Field("idTagInfo", "IdTagInfo")),
        ),
        Operation(
            "StatusNotification",
            (
                Field("connectorId", "int"),
                Field("status", "ChargePointStatus"),
                Field("errorCode", "ChargePointErrorCode"),
                opt("info", "string"),
                opt("timestamp", "dateTime"),
                opt("vendorId", "string"),
                opt("vendorErrorCode", "string"),
            ),
        ),
        Operation(
            "StopTransaction",
            request=(
                Field("transactionId", "int"),
                opt("idTag", "IdToken"),
                Field("timestamp", "dateTime"),
                Field("meterStop", "int"),
                many("transactionData", "TransactionData"),
            ),
            response=(opt("idTagInfo", "IdTagInfo"),),
        ),
    ),
)

CHARGE_POINT = Service(
    name="ChargePointService",
    role=Role.CHARGE_POINT,
    namespace=CP_NAMESPACE,
    operations=(
        Operation(
            "CancelReservation",
            (Field("reservationId", "int"),),
            (Field("status", "CancelReservationStatus"),),
        ),
        Operation(
            "ChangeAvailability",
            (Field("connectorId", "int"), Field("type", "AvailabilityType")),
            (Field("status", "AvailabilityStatus"),),
        ),
        Operation(
            "ChangeConfiguration",
            (Field("key", "string"), Field("value", "string")),
            (Field("status", "ConfigurationStatus"),),
        ),
        Operation("ClearCache", response=(Field("status", "ClearCacheStatus"),)),
        _DATA_TRANSFER,
        Operation(
            "GetConfiguration",
            (many("key", "string"),),
            (many("configurationKey", "KeyValue"), many("unknownKey", "string")),
        ),
        Operation(
            "GetDiagnostics",
            (
                Field("location", "anyURI"),
                opt("startTime", "dateTime"),
                opt("stopTime", "dateTime"),
                opt("retries", "int"),
                opt("retryInterval", "int"),
            ),
            (opt("fileName", "string"),),
        ),
        Operation("GetLocalListVersion", response=(Field("listVersion", "int"),)),
        Operation(
            "RemoteStartTransaction",
            # 1.5 order: idTag before connectorId (1.6 swapped them).
            (Field("idTag", "IdToken"), opt("connectorId", "int")),
            (Field("status", "RemoteStartStopStatus"),),
        ),
        Operation(
            "RemoteStopTransaction",
            (Field("transactionId", "int"),),
            (Field("status", "RemoteStartStopStatus"),),
        ),
        Operation(
            "ReserveNow",
            (
                Field("connectorId", "int"),
                Field("expiryDate", "dateTime"),
                Field("idTag", "IdToken"),
                opt("parentIdTag", "IdToken"),
                Field("reservationId", "int"),
            ),
            (Field("status", "ReservationStatus"),),
        ),
        Operation("Reset", (Field("type", "ResetType"),), (Field("status", "ResetStatus"),)),
        Operation(
            "SendLocalList",
            (
                Field("updateType", "UpdateType"),
                Field("listVersion", "int"),
                many("localAuthorisationList", "AuthorisationData"),
                opt("hash", "string"),
            ),
            (Field("status", "UpdateStatus"), opt("hash", "string")),
        ),
        Operation(
            "UnlockConnector", (Field("connectorId", "int"),), (Field("status", "UnlockStatus"),)
        ),
        Operation(
            "UpdateFirmware",
            (
                Field("retrieveDate", "dateTime"),
                Field("location", "anyURI"),
                opt("retries", "int"),
                opt("retryInterval", "int"),
            ),
        ),
    ),
)

SERVICES: tuple[Service, ...] = (CENTRAL_SYSTEM, CHARGE_POINT)


def service_for(role: Role) -> Service:
    """The service hosted by ``role`` (the one receiving its requests)."""
    return CENTRAL_SYSTEM if role is Role.CENTRAL_SYSTEM else CHARGE_POINT


def types_used(service: Service) -> tuple[Restricted | Complex, ...]:
    """Every named type the service's operations reach, in declaration order."""
    seen: set[str] = set()

    def visit(type_name: str) -> None:
        if type_name in BUILTINS or type_name in seen:
            return
        seen.add(type_name)
        t = TYPES[type_name]
        if isinstance(t, Complex):
            for f in t.fields:
                visit(f.type)
            for a in t.attributes:
                visit(a.type)

    for op in service.operations:
        for f in (*op.request, *op.response):
            visit(f.type)
    return tuple(t for t in TYPES.values() if t.name in seen)
