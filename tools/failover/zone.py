"""Reading one stack's Route53 state, every call bounded; the errors an operator sees, one class per exit status.

Owns: the boto3 client ``tools.failover`` uses (connect and read timeouts, three attempts, an overall deadline
checked before every attempt, and every successful answer recognised as Route53's by its content: the XML
document of the operation's type, whatever the HTTP status says), turning whatever botocore raises into one
``FailoverError`` line with its exit status, and ``read``: the stack's public hosted zone (private zones of the
same name are not the stack's), its record sets, and every health check tagged for the environment with its
configuration, tags and what Route53's checkers observe.

Deliberately not here: judging that state (``tools.failover.answer``) or changing it (``tools.failover``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from components.dns_records import TAG_ENV, CheckRef, CheckRole
from stacks.model import Topology

# Exit statuses, one per class of failure (the module docstring of tools.failover lists them for operators).
EXIT_DRILL_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ZONE_MISMATCH = 3
EXIT_REFUSED = 4
EXIT_AWS_REFUSED = 5
EXIT_UNREACHABLE = 6
EXIT_LEFT_CHANGED = 7


class FailoverError(Exception):
    """One line an operator can act on, and the exit status of its class; after a failed change, Route53 as read
    back (``state``) and the commands that finish or undo it."""

    status = EXIT_BAD_INPUT

    def __init__(self, message: str, *, state: Snapshot | None = None, commands: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.state = state
        self.commands = list(commands)


class ZoneMismatchError(FailoverError):
    status = EXIT_ZONE_MISMATCH


class RefusedError(FailoverError):
    """Acting would not do what was asked (the target is down, nothing to fail over, already so...)."""

    status = EXIT_REFUSED


class AwsRefusedError(FailoverError):
    """AWS answered, and said no: credentials, permissions, throttling, invalid request."""

    status = EXIT_AWS_REFUSED


class UnreachableError(FailoverError):
    """No usable answer: closed port, timeouts, the deadline, an answer that is not Route53's API (by its content), or
    changes answered as done that the read-back does not show."""

    status = EXIT_UNREACHABLE


class LeftChangedError(FailoverError):
    """A change failed and Route53 is neither as it was nor as asked (or could not be read back)."""

    status = EXIT_LEFT_CHANGED


class Deadline:
    """Seconds left for the whole command; ``extend`` gives the read-back after an error a budget of its own."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def extend(self, seconds: float) -> None:
        self.end = max(self.end, time.monotonic() + seconds)


def client(call_timeout: float, deadline: Deadline) -> Any:
    """A Route53 client whose every attempt is bounded; AWS_ENDPOINT_URL and AWS_PROFILE apply as usual."""
    import boto3
    from botocore.config import Config

    try:
        session = boto3.Session()
        r53 = session.client(
            "route53",
            region_name="us-east-1",  # Route53's API lives there whatever the profile's region
            config=Config(
                connect_timeout=call_timeout,
                read_timeout=call_timeout,
                retries={"total_max_attempts": 3, "mode": "standard"},
            ),
        )
    except Exception as exc:
        raise classify(exc) from None

    def check_deadline(**_: Any) -> None:
        if deadline.remaining() <= 0:
            raise UnreachableError("Route53 did not answer within the command's deadline (--deadline)")

    r53.meta.events.register("before-send.route53", check_deadline)
    r53.meta.events.register("before-parse.route53", require_route53_answer)
    return r53


def _root_element(body: bytes) -> str | None:
    """The local name of an XML document's root element; None when the body does not start as XML."""
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(events=("start",))
    try:
        parser.feed(body)
        for event in parser.read_events():  # the first start event is the root, before any later error
            element = event[-1]
            if isinstance(element, ElementTree.Element):
                return str(element.tag).rpartition("}")[2]
    except ElementTree.ParseError:
        return None
    return None


def require_route53_answer(operation_model: Any, response_dict: Mapping[str, Any], **_: Any) -> None:
    """Refuse a successful answer that is not Route53's document for the operation (``before-parse`` hook).

    botocore parses any well-formed body, an HTML page from a proxy or a captive portal included, into an empty
    result with no error: a change would look done and a listing empty ("no hosted zone"). So a 2xx answer
    counts only when its root element is the operation's response (``UpdateHealthCheckResponse``...). An
    operation whose answer carries nothing (``ChangeTagsForResource``) may also answer with an empty body, as moto
    does; what it changed is judged by the read-back anyway. Error answers (3xx and above) are left to botocore,
    which retries the transient ones; ``classify`` judges them by whether they carry an API error code.
    """
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300:
        return
    shape = operation_model.output_shape
    expected = shape.name if shape is not None else f"{operation_model.name}Response"
    body = bytes(response_dict.get("body") or b"")
    if not body.strip() and (shape is None or not shape.members):
        return
    root = _root_element(body)
    if root != expected:
        ctype = (response_dict.get("headers") or {}).get("content-type") or "no content type"  # case-insensitive
        got = f"a <{root}> document" if root else ("an empty body" if not body.strip() else "a body that is not XML")
        raise UnreachableError(
            f"Route53's endpoint answered {operation_model.name} with HTTP {status} and {got} ({ctype}), "
            f"not {expected}: something that is not its API answered (a proxy or captive portal?)"
        )


def classify(exc: BaseException) -> FailoverError:
    """The one-line error of an exception raised by boto3 or botocore."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, FailoverError):
        return exc
    if isinstance(exc, bx.ProfileNotFound):
        return AwsRefusedError(
            f"AWS profile {exc.kwargs.get('profile')!r} is not configured; set AWS_PROFILE to one in ~/.aws/config"
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AwsRefusedError("no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code, message = str(err.get("Code") or "").strip(), str(err.get("Message") or "").strip()
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # An error is AWS's when it carries an API error code; botocore fills in the HTTP status, or nothing, when
        # the body had none (a proxy's error page): that is the "not the API" class, whatever the status.
        if not code or code.isdigit() or (isinstance(status, int) and status >= 500 and not message):
            return UnreachableError(f"Route53 answered HTTP {status or code} without an API error; is the endpoint Route53?")
        kind = "throttled" if "throttl" in code.lower() or "rate exceeded" in message.lower() else "refused"
        return AwsRefusedError(f"AWS {kind} {exc.operation_name}: {code}: {message}")
    if isinstance(exc, bx.ConnectTimeoutError | bx.EndpointConnectionError):
        return UnreachableError(
            f"cannot reach Route53 at {getattr(exc, 'kwargs', {}).get('endpoint_url', 'its endpoint')}: connection failed"
        )
    if isinstance(exc, bx.ReadTimeoutError):
        return UnreachableError("Route53 accepted the connection but did not answer in time (--call-timeout)")
    if isinstance(exc, bx.ConnectionClosedError | bx.HTTPClientError):
        return UnreachableError("the connection to Route53 broke before an answer arrived")
    if isinstance(exc, ResponseParserError):
        return UnreachableError("Route53's endpoint answered with something that is not its API (unparseable response)")
    if isinstance(exc, bx.NoRegionError | bx.BotoCoreError):
        return UnreachableError(f"AWS SDK error: {type(exc).__name__}")
    raise exc


def call(fn: Any, **kwargs: Any) -> Any:
    """One API call; any failure becomes a ``FailoverError``."""
    try:
        return fn(**kwargs)
    except Exception as exc:
        raise classify(exc) from None


# ----------------------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class Check:
    id: str
    ref: CheckRef | None
    config: Mapping[str, Any]
    tags: Mapping[str, str]
    observed: bool | None = None  # endpoint checks: what Route53's checkers say; None when unknown

    @property
    def inverted(self) -> bool:
        return bool(self.config.get("Inverted", False))

    @property
    def disabled(self) -> bool:
        return bool(self.config.get("Disabled", False))

    @property
    def children(self) -> tuple[str, ...]:
        return tuple(self.config.get("ChildHealthChecks") or ())


@dataclass(frozen=True)
class Snapshot:
    """What Route53 holds for one stack, as read."""

    zone_id: str
    records: tuple[Mapping[str, Any], ...]  # record sets, names without the trailing dot
    checks: Mapping[str, Check] = field(default_factory=dict)  # id → every check tagged for the environment

    def assuming(self, inverted: Mapping[str, bool], *, all_up: bool = False) -> Snapshot:
        """The same zone with some checks' inversion changed (what Route53 would hold after a plan), and with
        ``all_up`` every endpoint observed healthy (what the stack means to answer)."""
        checks = {
            i: Check(
                c.id, c.ref, {**c.config, "Inverted": inverted.get(i, c.inverted)}, c.tags,
                True if all_up and c.observed is not None else c.observed,
            )
            for i, c in self.checks.items()
        }  # fmt: skip
        return Snapshot(self.zone_id, self.records, checks)


def zone_id(r53: Any, topology: Topology) -> str:
    """The stack's public hosted zone; private zones of the same name belong to VPCs, not to clients."""
    zone = topology.route53.zone.rstrip(".")
    found = call(r53.list_hosted_zones_by_name, DNSName=zone, MaxItems="100").get("HostedZones", [])
    public = [z for z in found if z["Name"].rstrip(".") == zone and not z.get("Config", {}).get("PrivateZone", False)]
    if not public:
        raise ZoneMismatchError(f"no public hosted zone {zone!r} in this AWS account; check dns.zone and the account")
    if len(public) > 1:
        ids = ", ".join(str(z["Id"]).rsplit("/", maxsplit=1)[-1] for z in public)
        raise ZoneMismatchError(
            f"{len(public)} public hosted zones are named {zone!r} ({ids}); only one can be delegated: delete the others"
        )
    return str(public[0]["Id"]).rsplit("/", maxsplit=1)[-1]


def read(r53: Any, topology: Topology) -> Snapshot:
    zid = zone_id(r53, topology)
    records: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"HostedZoneId": zid}
    for _ in range(1000):  # bounded: 300 records a page
        page = call(r53.list_resource_record_sets, **kwargs)
        records += [{**r, "Name": r["Name"].rstrip(".")} for r in page["ResourceRecordSets"]]
        if not page.get("IsTruncated"):
            break
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
    configs: dict[str, Mapping[str, Any]] = {}
    marker: dict[str, str] = {}
    for _ in range(1000):  # bounded: 100 checks a page
        page = call(r53.list_health_checks, **marker)
        configs.update({hc["Id"]: hc["HealthCheckConfig"] for hc in page["HealthChecks"]})
        if not page.get("IsTruncated"):
            break
        marker = {"Marker": page["NextMarker"]}
    env = topology.environment
    checks: dict[str, Check] = {}
    ids = sorted(configs)
    for start in range(0, len(ids), 10):  # ListTagsForResources takes ten at a time
        answer = call(r53.list_tags_for_resources, ResourceType="healthcheck", ResourceIds=ids[start : start + 10])
        for tag_set in answer["ResourceTagSets"]:
            tags = {t["Key"]: t["Value"] for t in tag_set.get("Tags", [])}
            if tags.get(TAG_ENV) != env:
                continue
            hc_id = tag_set["ResourceId"]
            ref = CheckRef.from_tags(tags, env)
            observed = _observed(r53, hc_id) if ref is not None and ref.role is CheckRole.ENDPOINT else None
            checks[hc_id] = Check(hc_id, ref, configs[hc_id], tags, observed)
    return Snapshot(zid, tuple(records), checks)


def _observed(r53: Any, hc_id: str) -> bool | None:
    from botocore.exceptions import ClientError

    try:
        observations = r53.get_health_check_status(HealthCheckId=hc_id)["HealthCheckObservations"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchHealthCheck":
            return None
        raise classify(exc) from None
    except Exception as exc:
        raise classify(exc) from None
    if not observations:
        return None
    good = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
    # Route53 calls an endpoint healthy when more than 18 % of its checkers do.
    return good > 0.18 * len(observations)
