#!/usr/bin/env python3
"""A geoaccess client in Python: calls a running geoaccessd the way a
client service would, prints what it gets, and checks it.

    geoaccessd --listen 127.0.0.1:8443 --plans-file data/assets/plans/example.yaml &
    examples/python/generate.sh           # the generated modules, into gen/
    python3 examples/python/client.py --addr 127.0.0.1:8443

Four calls: CheckAccess for a member in Manhattan (by discipline, then for
a service under a plan), CheckAccess with an impossible latitude (decoding
the google.rpc.BadRequest details of the INVALID_ARGUMENT error), a
CheckAccessBatch stream of several members one of which is invalid, and
EvaluateNegotiation for a member whose plan has no accessible provider of
the service. The checks hold for the embedded sample roster and the
example plans (docs/clients.md); the program exits 1 when one does not.

Runs on Debian 12's python3 with python3-grpcio and python3-protobuf.
"""

import argparse
import os
import sys

# The modules generate.sh wrote: gen/ beside this file, or the directory
# GEOACCESS_PYTHON_GEN names.
sys.path.insert(0, os.environ.get("GEOACCESS_PYTHON_GEN") or
                os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402

from geoaccess.v1 import adequacy_pb2 as pb  # noqa: E402
from geoaccess.v1 import adequacy_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

# A fixed date, so the answers do not change with the calendar (the
# example plan acme-ma is in force in 2026).
AS_OF = "2026-06-01"
MANHATTAN = pb.LatLng(latitude=40.748817, longitude=-73.985428)  # New York County, NY
AUSTIN = pb.LatLng(latitude=30.2672, longitude=-97.7431)  # Travis County, TX
PT = pb.DISCIPLINE_PT
CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class CheckFailed(Exception):
    pass


def check(ok, message):
    if not ok:
        raise CheckFailed(message)


def bad_request(status):
    """The field violations of a google.rpc.Status's BadRequest detail, as
    {field: description}."""
    out = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            detail.Unpack(br)
            for v in br.field_violations:
                out[v.field] = v.description
    return out


def rpc_status(err):
    """The google.rpc.Status a failed call carries in its trailing metadata
    (grpc-status-details-bin), or one with only the code and message."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return status_pb2.Status(code=err.code().value[0], message=err.details() or "")


def check_access(stub):
    resp = stub.CheckAccess(
        pb.CheckAccessRequest(location=MANHATTAN, disciplines=[PT], as_of=AS_OF, k=3), timeout=10)
    d = resp.decisions[0]
    print(f"CheckAccess PT, Manhattan: {pb.AccessStatus.Name(d.status)}, "
          f"{d.providers_within} providers within; {d.explanation}")
    print(f"  profile {resp.profile} {resp.profile_version}, roster {resp.roster_version}")
    check(d.status == pb.ACCESS_STATUS_SERVED and d.served and d.county.fips == "36061" and len(d.nearest) == 3,
          f"CheckAccess PT in Manhattan: {pb.AccessStatus.Name(d.status)} in {d.county.fips!r} "
          f"with {len(d.nearest)} nearest, want SERVED in 36061 with 3")

    # A service under a plan: only the plan's networks count, under the
    # profile its contract mandates, and only providers offering the
    # service (or a similar one). Without disciplines, one decision across
    # the service's disciplines.
    resp = stub.CheckAccess(
        pb.CheckAccessRequest(location=MANHATTAN, service="lymphedema", plan="acme-ma", as_of=AS_OF), timeout=10)
    d = resp.decisions[0]
    print(f"CheckAccess lymphedema, plan {resp.plan} (networks {list(resp.networks)}): "
          f"{pb.AccessStatus.Name(d.status)}; {d.explanation}")
    for c in d.components:
        print(f"  {pb.Discipline.Name(c.discipline)}: {c.providers_within} within {c.rule.max_miles:g} miles")
    check(resp.plan == "acme-ma" and list(resp.networks) == ["ACME-MA"] and d.service == "lymphedema"
          and d.status == pb.ACCESS_STATUS_SERVED and len(d.components) > 0,
          f"CheckAccess lymphedema under acme-ma: {resp.plan!r} {list(resp.networks)} {d.service!r} "
          f"{pb.AccessStatus.Name(d.status)} with {len(d.components)} components")
    for p in d.nearest:
        check("lymphedema" in p.services, f"nearest provider {p.npi} does not offer lymphedema: {list(p.services)}")


def check_access_invalid(stub):
    try:
        stub.CheckAccess(pb.CheckAccessRequest(location=pb.LatLng(latitude=91, longitude=-73.98),
                                               disciplines=[PT], as_of=AS_OF), timeout=10)
    except grpc.RpcError as err:
        violations = bad_request(rpc_status(err))
        print(f"CheckAccess latitude 91: {err.code().name}: {err.details()}")
        for field, description in violations.items():
            print(f"  field {field}: {description}")
        check(err.code() == grpc.StatusCode.INVALID_ARGUMENT and violations.get("location.latitude"),
              f"CheckAccess latitude 91: {err.code().name} {violations}, want INVALID_ARGUMENT on location.latitude")
        return
    raise CheckFailed("CheckAccess latitude 91 succeeded")


def check_access_batch(stub):
    items = [
        pb.CheckAccessBatchRequest(member_ref="m1", location=MANHATTAN, disciplines=[PT], as_of=AS_OF),
        pb.CheckAccessBatchRequest(member_ref="m2", zip="10016", disciplines=[PT], as_of=AS_OF),
        pb.CheckAccessBatchRequest(member_ref="m3", location=AUSTIN, disciplines=[PT], service="lymphedema",
                                   plan="acme-ma", as_of=AS_OF),
        pb.CheckAccessBatchRequest(member_ref="m4", location=pb.LatLng(latitude=91, longitude=-73.98),
                                   disciplines=[PT], as_of=AS_OF),
        pb.CheckAccessBatchRequest(member_ref="m5", location=AUSTIN,
                                   disciplines=[pb.DISCIPLINE_DC, pb.DISCIPLINE_OT], as_of=AS_OF),
    ]
    # gRPC sends from the iterator on its own thread while this one reads
    # the answers; answers come in any order: match them by member_ref.
    answers = {}
    for a in stub.CheckAccessBatch(iter(items), timeout=30):
        check(a.member_ref not in answers, f"CheckAccessBatch: {a.member_ref} answered twice")
        answers[a.member_ref] = a
    print(f"CheckAccessBatch: {len(items)} items, {len(answers)} answers")
    for it in items:
        a = answers.get(it.member_ref)
        check(a is not None, f"CheckAccessBatch: no answer for {it.member_ref}")
        if a.WhichOneof("outcome") == "error":
            # The item's error is a google.rpc.Status, details included.
            print(f"  {a.member_ref}: error {CODE_NAMES.get(a.error.code, a.error.code)}: {bad_request(a.error)}")
            continue
        for d in a.result.decisions:
            print(f"  {a.member_ref}: {pb.Discipline.Name(d.discipline)} {pb.AccessStatus.Name(d.status)}")
    m4 = answers["m4"]
    check(m4.WhichOneof("outcome") == "error" and m4.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
          and bad_request(m4.error).get("location.latitude"),
          f"CheckAccessBatch m4: {m4}, want INVALID_ARGUMENT on location.latitude")
    want = {
        "m1": [pb.ACCESS_STATUS_SERVED],
        "m2": [pb.ACCESS_STATUS_SERVED],
        "m3": [pb.ACCESS_STATUS_NOT_SERVED],
        "m5": [pb.ACCESS_STATUS_SERVED, pb.ACCESS_STATUS_SERVED],
    }
    for ref, statuses in want.items():
        got = [d.status for d in answers[ref].result.decisions]
        check(got == statuses, f"CheckAccessBatch {ref}: {got}, want {statuses}")
    check(answers["m2"].result.decisions[0].location_approximate,
          "CheckAccessBatch m2: a member located by ZIP must be approximate")


def evaluate_negotiation(stub):
    req = pb.EvaluateNegotiationRequest(
        location=AUSTIN, discipline=PT, service="lymphedema", plan="acme-ma", as_of=AS_OF,
        provider=pb.RequestedProvider(npi="1398110258", location=pb.LatLng(latitude=30.269565, longitude=-97.625406)),
        # proto3 optional: an unset attestation blocks negotiation; False
        # is an answer, and is sent as one (HasField is true).
        attestations=pb.Attestations(
            healthcare_requirement=True, within_scope=True, superior_outcomes=True,
            benefit_covers_negotiation=True, medically_necessary=True,
            solely_comfort_or_convenience=False, technique_preference=False, investigational=False,
            equivalent_outcomes_available=False))
    check(req.attestations.HasField("investigational"), "an attestation set to False must be present")
    resp = stub.EvaluateNegotiation(req, timeout=10)
    print(f"EvaluateNegotiation PT lymphedema, Austin, plan acme-ma: supported={resp.supported}\n  {resp.summary}")
    for c in resp.criteria:
        print(f"  {c.id:32} {pb.CriterionOutcome.Name(c.outcome)}")
    check(resp.supported and resp.geo_access.status == pb.ACCESS_STATUS_NOT_SERVED
          and resp.discipline_access.status == pb.ACCESS_STATUS_SERVED,
          f"EvaluateNegotiation: supported={resp.supported}, service {pb.AccessStatus.Name(resp.geo_access.status)}, "
          f"discipline {pb.AccessStatus.Name(resp.discipline_access.status)}; "
          "want supported, NOT_SERVED for the service, SERVED for PT")

    # Without the service, PT alone is accessible in Austin: the gate says
    # no, and names the geo-access criterion.
    req.ClearField("service")
    resp = stub.EvaluateNegotiation(req, timeout=10)
    print(f"EvaluateNegotiation PT, Austin, plan acme-ma: supported={resp.supported}\n  {resp.summary}")
    first = resp.criteria[0]
    check(not resp.supported and first.id == "geo_access_not_met" and first.outcome == pb.CRITERION_OUTCOME_FAIL,
          f"EvaluateNegotiation PT alone: supported={resp.supported}, first criterion {first.id} "
          f"{pb.CriterionOutcome.Name(first.outcome)}; want not supported on geo_access_not_met")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:8443", help="geoaccessd's gRPC address")
    args = parser.parse_args()
    # Plaintext on loopback; use grpc.secure_channel with
    # grpc.ssl_channel_credentials (and a bearer token in the call's
    # metadata) against a real deployment.
    with grpc.insecure_channel(args.addr) as channel:
        stub = adequacy_pb2_grpc.AdequacyServiceStub(channel)
        try:
            for step in (check_access, check_access_invalid, check_access_batch, evaluate_negotiation):
                step(stub)
        except CheckFailed as err:
            print(f"FAIL: {err}", file=sys.stderr)
            return 1
        except grpc.RpcError as err:
            print(f"FAIL: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1
    print("ok: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
