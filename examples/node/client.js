#!/usr/bin/env node
// A geoaccess client in Node: calls a running geoaccessd the way a client
// service would, prints what it gets, and checks it.
//
//   geoaccessd --listen 127.0.0.1:8443 --plans-file data/assets/plans/example.yaml &
//   cd examples/node && npm ci && node client.js --addr 127.0.0.1:8443
//
// Four calls: CheckAccess for a member in Manhattan (by discipline, then
// for a service under a plan), CheckAccess with an impossible latitude
// (decoding the google.rpc.BadRequest details of the INVALID_ARGUMENT
// error), a CheckAccessBatch stream of several members one of which is
// invalid, and EvaluateNegotiation for a member whose plan has no
// accessible provider of the service; then GetRosterStatus, whose counts
// are plain numbers. The checks hold for the embedded sample roster and
// the example plans (docs/clients.md); the program exits 1 when one does
// not.
//
// Nothing is generated ahead of time: @grpc/proto-loader reads
// proto/geoaccess/v1/adequacy.proto at start-up, and google/rpc/*.proto
// come from the npm package google-proto-files (pinned in package.json and
// package-lock.json).
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const googleProtoFiles = require('google-proto-files');

const { values: args } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:8443' },
    proto: { type: 'string', default: path.join(__dirname, '..', '..', 'proto') },
  },
});

// The directory holding google/rpc/status.proto and error_details.proto.
const googleProtos = path.dirname(googleProtoFiles.getProtoPath());
const includeDirs = [args.proto, googleProtos];

// The API, loaded at run time. keepCase: field names as in the .proto
// (snake_case); enums as their names; proto3 optional fields present only
// when set.
const packageDefinition = protoLoader.loadSync('geoaccess/v1/adequacy.proto', {
  includeDirs,
  keepCase: true,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { geoaccess } = grpc.loadPackageDefinition(packageDefinition);

// google.rpc.Status and BadRequest, to decode error details.
const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (origin, target) => {
  for (const dir of includeDirs) {
    const candidate = path.join(dir, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  return target;
};
rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const Status = rpcRoot.lookupType('google.rpc.Status');
const BadRequest = rpcRoot.lookupType('google.rpc.BadRequest');

const AS_OF = '2026-06-01'; // a fixed date: the example plan acme-ma is in force in 2026
const MANHATTAN = { latitude: 40.748817, longitude: -73.985428 }; // New York County, NY
const AUSTIN = { latitude: 30.2672, longitude: -97.7431 }; // Travis County, TX

function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
}

const deadline = (seconds) => ({ deadline: Date.now() + seconds * 1000 });

// unary promisifies a unary call.
function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, deadline(10), (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// badRequest returns the field violations of a google.rpc.Status's
// BadRequest detail, as {field: description}. status.details are Any
// messages: {type_url, value}.
function badRequest(status) {
  const out = {};
  for (const detail of status.details || []) {
    if (detail.type_url === 'type.googleapis.com/google.rpc.BadRequest') {
      for (const v of BadRequest.decode(detail.value).field_violations) {
        out[v.field] = v.description;
      }
    }
  }
  return out;
}

// rpcStatus decodes the google.rpc.Status a failed call carries in its
// trailing metadata (grpc-status-details-bin).
function rpcStatus(err) {
  const [bin] = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  return bin ? Status.decode(bin) : { code: err.code, message: err.details, details: [] };
}

async function checkAccess(client) {
  let resp = await unary(client, 'CheckAccess', {
    location: MANHATTAN, disciplines: ['DISCIPLINE_PT'], as_of: AS_OF, k: 3,
  });
  let d = resp.decisions[0];
  console.log(`CheckAccess PT, Manhattan: ${d.status}, ${d.providers_within} providers within; ${d.explanation}`);
  console.log(`  profile ${resp.profile} ${resp.profile_version}, roster ${resp.roster_version}`);
  check(d.status === 'ACCESS_STATUS_SERVED' && d.served && d.county.fips === '36061' && d.nearest.length === 3,
    `CheckAccess PT in Manhattan: ${d.status} in ${d.county && d.county.fips} with ${d.nearest.length} nearest, want SERVED in 36061 with 3`);

  // A service under a plan: only the plan's networks count, under the
  // profile its contract mandates, and only providers offering the
  // service (or a similar one). Without disciplines, one decision across
  // the service's disciplines.
  resp = await unary(client, 'CheckAccess', {
    location: MANHATTAN, service: 'lymphedema', plan: 'acme-ma', as_of: AS_OF,
  });
  d = resp.decisions[0];
  console.log(`CheckAccess lymphedema, plan ${resp.plan} (networks ${resp.networks}): ${d.status}; ${d.explanation}`);
  for (const c of d.components) {
    console.log(`  ${c.discipline}: ${c.providers_within} within ${c.rule.max_miles} miles`);
  }
  check(resp.plan === 'acme-ma' && resp.networks.join() === 'ACME-MA' && d.service === 'lymphedema' &&
    d.status === 'ACCESS_STATUS_SERVED' && d.components.length > 0,
    `CheckAccess lymphedema under acme-ma: ${resp.plan} ${resp.networks} ${d.service} ${d.status} with ${d.components.length} components`);
  for (const p of d.nearest) {
    check(p.services.includes('lymphedema'), `nearest provider ${p.npi} does not offer lymphedema: ${p.services}`);
  }
}

async function checkAccessInvalid(client) {
  try {
    await unary(client, 'CheckAccess', {
      location: { latitude: 91, longitude: -73.98 }, disciplines: ['DISCIPLINE_PT'], as_of: AS_OF,
    });
  } catch (err) {
    const violations = badRequest(rpcStatus(err));
    console.log(`CheckAccess latitude 91: ${grpc.status[err.code]}: ${err.details}`);
    for (const [field, description] of Object.entries(violations)) {
      console.log(`  field ${field}: ${description}`);
    }
    check(err.code === grpc.status.INVALID_ARGUMENT && violations['location.latitude'],
      `CheckAccess latitude 91: ${grpc.status[err.code]} ${JSON.stringify(violations)}, want INVALID_ARGUMENT on location.latitude`);
    return;
  }
  throw new Error('check failed: CheckAccess latitude 91 succeeded');
}

async function checkAccessBatch(client) {
  const pt = ['DISCIPLINE_PT'];
  const items = [
    { member_ref: 'm1', location: MANHATTAN, disciplines: pt, as_of: AS_OF },
    { member_ref: 'm2', zip: '10016', disciplines: pt, as_of: AS_OF },
    { member_ref: 'm3', location: AUSTIN, disciplines: pt, service: 'lymphedema', plan: 'acme-ma', as_of: AS_OF },
    { member_ref: 'm4', location: { latitude: 91, longitude: -73.98 }, disciplines: pt, as_of: AS_OF },
    { member_ref: 'm5', location: AUSTIN, disciplines: ['DISCIPLINE_DC', 'DISCIPLINE_OT'], as_of: AS_OF },
  ];
  const answers = new Map();
  await new Promise((resolve, reject) => {
    const call = client.CheckAccessBatch(deadline(30));
    // Answers come in any order: match them by member_ref.
    call.on('data', (a) => {
      if (answers.has(a.member_ref)) reject(new Error(`check failed: ${a.member_ref} answered twice`));
      answers.set(a.member_ref, a);
    });
    call.on('error', reject);
    call.on('end', resolve);
    // Write while reading, waiting for 'drain' when the stream's buffer
    // is full (the server reads no faster than it answers).
    (async () => {
      for (const it of items) {
        if (!call.write(it)) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })().catch(reject);
  });
  console.log(`CheckAccessBatch: ${items.length} items, ${answers.size} answers`);
  for (const it of items) {
    const a = answers.get(it.member_ref);
    check(a, `CheckAccessBatch: no answer for ${it.member_ref}`);
    if (a.outcome === 'error') {
      // The item's error is a google.rpc.Status, details included.
      console.log(`  ${a.member_ref}: error ${grpc.status[a.error.code]}: ${JSON.stringify(badRequest(a.error))}`);
      continue;
    }
    for (const d of a.result.decisions) console.log(`  ${a.member_ref}: ${d.discipline} ${d.status}`);
  }
  const m4 = answers.get('m4');
  check(m4.outcome === 'error' && m4.error.code === grpc.status.INVALID_ARGUMENT && badRequest(m4.error)['location.latitude'],
    `CheckAccessBatch m4: ${JSON.stringify(m4)}, want INVALID_ARGUMENT on location.latitude`);
  const want = {
    m1: ['ACCESS_STATUS_SERVED'],
    m2: ['ACCESS_STATUS_SERVED'],
    m3: ['ACCESS_STATUS_NOT_SERVED'],
    m5: ['ACCESS_STATUS_SERVED', 'ACCESS_STATUS_SERVED'],
  };
  for (const [ref, statuses] of Object.entries(want)) {
    const got = answers.get(ref).result.decisions.map((d) => d.status);
    check(got.join() === statuses.join(), `CheckAccessBatch ${ref}: ${got}, want ${statuses}`);
  }
  check(answers.get('m2').result.decisions[0].location_approximate, 'CheckAccessBatch m2: a member located by ZIP must be approximate');
}

async function evaluateNegotiation(client) {
  const req = {
    location: AUSTIN, discipline: 'DISCIPLINE_PT', service: 'lymphedema', plan: 'acme-ma', as_of: AS_OF,
    provider: { npi: '1398110258', location: { latitude: 30.269565, longitude: -97.625406 } },
    // proto3 optional: an unset attestation blocks negotiation; false is
    // an answer, and is sent as one.
    attestations: {
      healthcare_requirement: true, within_scope: true, superior_outcomes: true,
      benefit_covers_negotiation: true, medically_necessary: true,
      solely_comfort_or_convenience: false, technique_preference: false, investigational: false,
      equivalent_outcomes_available: false,
    },
  };
  let resp = await unary(client, 'EvaluateNegotiation', req);
  console.log(`EvaluateNegotiation PT lymphedema, Austin, plan acme-ma: supported=${resp.supported}\n  ${resp.summary}`);
  for (const c of resp.criteria) console.log(`  ${c.id.padEnd(32)} ${c.outcome}`);
  check(resp.supported && resp.geo_access.status === 'ACCESS_STATUS_NOT_SERVED' &&
    resp.discipline_access.status === 'ACCESS_STATUS_SERVED',
    `EvaluateNegotiation: supported=${resp.supported}, service ${resp.geo_access.status}, discipline ${resp.discipline_access && resp.discipline_access.status}; want supported, NOT_SERVED for the service, SERVED for PT`);

  // Without the service, PT alone is accessible in Austin: the gate says
  // no, and names the geo-access criterion.
  resp = await unary(client, 'EvaluateNegotiation', { ...req, service: '' });
  console.log(`EvaluateNegotiation PT, Austin, plan acme-ma: supported=${resp.supported}\n  ${resp.summary}`);
  const [first] = resp.criteria;
  check(!resp.supported && first.id === 'geo_access_not_met' && first.outcome === 'CRITERION_OUTCOME_FAIL',
    `EvaluateNegotiation PT alone: supported=${resp.supported}, first criterion ${first.id} ${first.outcome}; want not supported on geo_access_not_met`);
}

async function rosterStatus(client) {
  const { status } = await unary(client, 'GetRosterStatus', {});
  console.log(`GetRosterStatus: roster ${status.version}, ${status.total_providers} providers`);
  // Counts are int32: plain numbers in Node, not Long objects.
  check(typeof status.total_providers === 'number' && status.total_providers > 0 &&
    status.counts.every((c) => typeof c.participating === 'number'),
  `GetRosterStatus: total_providers ${JSON.stringify(status.total_providers)} should be a positive number`);
}

async function main() {
  // Plaintext on loopback; use grpc.credentials.createSsl() (and a bearer
  // token in call metadata) against a real deployment.
  const client = new geoaccess.v1.AdequacyService(args.addr, grpc.credentials.createInsecure());
  try {
    for (const step of [checkAccess, checkAccessInvalid, checkAccessBatch, evaluateNegotiation, rosterStatus]) {
      await step(client);
    }
  } finally {
    client.close();
  }
  console.log('ok: every check passed');
}

main().catch((err) => {
  console.error(`FAIL: ${err.message}`);
  process.exit(1);
});
