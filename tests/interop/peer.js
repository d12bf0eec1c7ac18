// SPDX-License-Identifier: MIT
// Interop peer on Node's @grpc/grpc-js (a gRPC stack of its own, HTTP/2 in
// JavaScript): the corpc.test.Echo service and a client that checks a corpc
// server. Driven by interop_test (see interop_test.c).
//
//   node peer.js TEST_PROTO server [UNIX_PATH]  serve on 127.0.0.1:0 (and
//                                               UNIX_PATH); print the port
//   node peer.js TEST_PROTO client TARGET       run the checks; exit 0 when
//                                               all pass
//
// Server behaviour: as peer.py (a subset of tests/conformance/echo_service.c).
'use strict';
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [protoPath, mode, arg] = process.argv.slice(2);
const def = loader.loadSync(protoPath,
  {keepCase: true, longs: Number, enums: Number, defaults: true});
const Echo = grpc.loadPackageDefinition(def).corpc.test.Echo;
const SVC = '/corpc.test.Echo/';

function echoMd(call) {
  if (!call.request.echo_metadata) return null;
  const hdr = new grpc.Metadata();
  const trl = new grpc.Metadata();
  for (const [k, vs] of Object.entries(call.metadata.toJSON())) {
    if (!k.startsWith('x-')) continue;
    for (const v of vs) {
      hdr.add('h-' + k, v);
      trl.add('t-' + k, v);
    }
  }
  call.sendMetadata(hdr);
  return trl;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serve(unixPath) {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    async Unary(call, cb) {
      const req = call.request;
      const trl = echoMd(call) || new grpc.Metadata();
      await sleep(req.delay_ms);
      if (req.fail_code) {
        if (req.fail_details && req.fail_details.length > 0) {
          trl.set('grpc-status-details-bin', Buffer.from(req.fail_details));
        }
        cb({code: req.fail_code, details: req.fail_message, metadata: trl});
        return;
      }
      cb(null, {text: req.text, blob: req.blob}, trl);
    },
    async ServerStream(call) {
      const req = call.request;
      const trl = echoMd(call) || new grpc.Metadata();
      const n = req.fail_code ? req.fail_after : req.count;
      for (let i = 0; i < n; i++) {
        if (req.delay_ms) await sleep(req.delay_ms);
        if (!call.write({text: req.text, index: i})) {
          await new Promise((r) => call.once('drain', r));
        }
      }
      if (req.fail_code) {
        call.emit('error',
          {code: req.fail_code, details: req.fail_message, metadata: trl});
        return;
      }
      call.end(trl);
    },
  });
  const creds = grpc.ServerCredentials.createInsecure();
  server.bindAsync('127.0.0.1:0', creds, (err, port) => {
    if (err) throw err;
    const started = () => process.stdout.write(port + '\n');
    if (unixPath) {
      server.bindAsync('unix:' + unixPath, creds, (e2) => {
        if (e2) throw e2;
        started();
      });
    } else {
      started();
    }
  });
  process.on('SIGTERM', () => {
    server.forceShutdown();
    process.exit(0);
  });
}

let failed = 0;
function check(name, cond, detail) {
  console.log((cond ? 'ok   ' : 'FAIL ') + name + ' ' + (detail || ''));
  if (!cond) failed++;
}

function unaryP(client, req, md, opts) {
  return new Promise((resolve) => {
    // Done once both the callback and the status (trailers) have come.
    const r = {headers: null, trailers: null};
    let left = 2;
    const done = () => { if (--left === 0) resolve(r); };
    const call = client.Unary(req, md || new grpc.Metadata(), opts || {},
      (err, resp) => { r.err = err; r.resp = resp; done(); });
    call.on('metadata', (m) => { r.headers = m; });
    call.on('status', (s) => { r.trailers = s.metadata; done(); });
  });
}

function streamP(client, req, md, opts) {
  return new Promise((resolve) => {
    const got = [];
    let headers = null;
    let err = null;
    const call = client.ServerStream(req, md || new grpc.Metadata(), opts || {});
    call.on('metadata', (m) => { headers = m; });
    call.on('data', (m) => got.push(m));
    call.on('error', (e) => { err = e; });
    call.on('status', (s) => resolve({got, headers, err, status: s}));
  });
}

function bin(md, key) {
  const v = md && md.get(key)[0];
  return Buffer.isBuffer(v) ? v.toString('hex') : v;
}

function rawUnary(client, path, bytes, opts) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b) => b, (b) => b, bytes,
      new grpc.Metadata(), opts || {}, (err, resp) => resolve({err, resp}));
  });
}

async function runClient(target) {
  const client = new Echo(target, grpc.credentials.createInsecure());
  const dl = (ms) => ({deadline: Date.now() + ms});

  let r = await unaryP(client, {text: 'hello', blob: Buffer.from([0, 255])},
    null, dl(10000));
  check('unary', !r.err && r.resp.text === 'hello' &&
    r.resp.blob.toString('hex') === '00ff', JSON.stringify(r.err || r.resp));

  const md = new grpc.Metadata();
  md.add('x-a', '1');
  md.add('x-b-bin', Buffer.from([0, 1, 254]));
  r = await unaryP(client, {text: 'md', echo_metadata: true}, md, dl(10000));
  check('unary headers', bin(r.headers, 'h-x-a') === '1' &&
    bin(r.headers, 'h-x-b-bin') === '0001fe', JSON.stringify(r.headers));
  check('unary trailers', bin(r.trailers, 't-x-a') === '1' &&
    bin(r.trailers, 't-x-b-bin') === '0001fe', JSON.stringify(r.trailers));

  let s = await streamP(client, {text: 's', count: 10000, echo_metadata: true},
    md, dl(60000));
  const inOrder = s.got.every((m, i) => m.index === i && m.text === 's');
  check('stream 10000', !s.err && s.got.length === 10000 && inOrder,
    s.got.length + ' messages ' + (s.err ? s.err.message : ''));
  check('stream metadata', bin(s.headers, 'h-x-a') === '1' &&
    bin(s.status.metadata, 't-x-a') === '1');

  r = await unaryP(client,
    {text: 'x', fail_code: 5, fail_message: 'no such thing'}, null, dl(10000));
  check('error status', r.err && r.err.code === 5 &&
    r.err.details === 'no such thing', r.err && r.err.message);

  const details = Buffer.from([8, 5, 0x12, 4, 0x67, 0x6f, 0x6e, 0x65, 0]);
  r = await unaryP(client, {text: 'x', fail_code: 5, fail_message: 'gone',
    fail_details: details}, null, dl(10000));
  const gotDetails = r.err && r.err.metadata &&
    r.err.metadata.get('grpc-status-details-bin')[0];
  check('rich error details', r.err && r.err.code === 5 && gotDetails &&
    Buffer.compare(gotDetails, details) === 0, String(gotDetails));

  s = await streamP(client,
    {text: 'e', fail_code: 3, fail_after: 2, fail_message: 'stop'}, null,
    dl(10000));
  check('stream error', s.got.length === 2 && s.err && s.err.code === 3 &&
    s.err.details === 'stop', s.got.length + ' ' + (s.err && s.err.message));

  const t0 = Date.now();
  r = await unaryP(client, {text: 'slow', delay_ms: 3000}, null, dl(300));
  check('deadline', r.err && r.err.code === grpc.status.DEADLINE_EXCEEDED &&
    Date.now() - t0 < 2500, r.err && r.err.message);

  r = await rawUnary(client, SVC + 'Unary', Buffer.from([0x0a, 0x05, 0x61]),
    dl(10000));
  check('bad request', r.err && r.err.code === grpc.status.INTERNAL &&
    r.err.details.includes(SVC + 'Unary'), r.err && r.err.message);

  r = await rawUnary(client, SVC + 'Nope', Buffer.alloc(0), dl(10000));
  check('unknown method', r.err && r.err.code === grpc.status.UNIMPLEMENTED,
    r.err && r.err.message);

  client.close();
  process.exit(failed ? 1 : 0);
}

if (mode === 'server') {
  serve(arg);
} else {
  runClient(arg);
}
