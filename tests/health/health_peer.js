// SPDX-License-Identifier: MIT
// Health peer on Node: npm's grpc-health-check client (its `service`
// definition) on @grpc/grpc-js, against a corpc server. Run by peer_driver
// (peer_driver.c), which serves and obeys the "set", "clear" and
// "shutdown" lines this prints on stdout.
//
//   node health_peer.js HOST:PORT   exit 0 when every check passed
'use strict';
const assert = require('assert');
const grpc = require('@grpc/grpc-js');
const health = require('grpc-health-check');

const Client = grpc.makeGenericClientConstructor(health.service, 'Health');
const client = new Client(process.argv[2], grpc.credentials.createInsecure());
const log = (text) => process.stderr.write(`health peer (grpc-health-check): ${text}\n`);
const tell = (line) => process.stdout.write(line + '\n');
const deadline = () => Date.now() + 20000;

function check(service) {
  return new Promise((resolve) => {
    client.check({service}, {deadline: deadline()}, (err, resp) =>
      resolve(err ? {code: err.code} : {status: resp.status}));
  });
}

// Resolves with the watch's messages and end, one at a time.
function watcher(service) {
  const call = client.watch({service}, {deadline: deadline()});
  const queue = [];
  const waiting = [];
  const push = (item) => (waiting.length ? waiting.shift()(item) : queue.push(item));
  call.on('data', (resp) => push({status: resp.status}));
  call.on('error', (err) => push({code: err.code, details: err.details}));
  return {call, next: () => new Promise((r) => (queue.length ? r(queue.shift()) : waiting.push(r)))};
}

async function main() {
  for (const [svc, want] of [['', 'SERVING'], ['demo.Up', 'SERVING'], ['demo.Down', 'NOT_SERVING']]) {
    const got = await check(svc);
    log(`Check '${svc}' -> ${got.status}`);
    assert.strictEqual(got.status, want);
  }
  const unknown = await check('no.Such');
  log(`Check 'no.Such' -> code ${unknown.code}`);
  assert.strictEqual(unknown.code, grpc.status.NOT_FOUND);

  let w = watcher('demo.Later');
  for (const [cmd, want] of [[null, 'SERVICE_UNKNOWN'], ['set demo.Later SERVING', 'SERVING'],
    ['set demo.Later NOT_SERVING', 'NOT_SERVING'], ['clear demo.Later', 'SERVICE_UNKNOWN']]) {
    if (cmd) tell(cmd);
    const got = await w.next();
    log(`Watch 'demo.Later' after ${cmd || 'start'} -> ${got.status}`);
    assert.strictEqual(got.status, want);
  }
  w.call.cancel();

  w = watcher('demo.Up');
  let got = await w.next();
  log(`Watch 'demo.Up' -> ${got.status}`);
  assert.strictEqual(got.status, 'SERVING');
  tell('shutdown');
  got = await w.next();
  log(`Watch 'demo.Up' after shutdown -> ${got.status}`);
  assert.strictEqual(got.status, 'NOT_SERVING');
  got = await w.next();
  log(`Watch then ends code ${got.code}: ${got.details}`);
  assert.strictEqual(got.code, grpc.status.UNAVAILABLE);
  client.close();
  log('all passed');
}

main().catch((e) => {
  process.stderr.write(`health peer (grpc-health-check): FAILED ${e.stack}\n`);
  process.exit(1);
});
