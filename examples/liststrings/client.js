// SPDX-License-Identifier: MIT
// A Node @grpc/grpc-js client for liststrings_server: proof that any gRPC
// peer can call a corpc server. Usage (see README, "Network transport"):
//   npm install --prefix /tmp/js @grpc/grpc-js @grpc/proto-loader
//   NODE_PATH=/tmp/js/node_modules node examples/liststrings/client.js \
//       examples/liststrings/list.proto 127.0.0.1:50051 [RESP_SIZE]
'use strict';
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [protoPath, target, size] = process.argv.slice(2);
const def = loader.loadSync(protoPath, {keepCase: true});
const ListStrings = grpc.loadPackageDefinition(def).list.v0.ListStrings;
const client = new ListStrings(target, grpc.credentials.createInsecure());
let messages = 0;
let strings = 0;
const call = client.List({resp_size: Number(size || 1)},
                         {deadline: Date.now() + 30000});
call.on('data', (resp) => { messages++; strings += resp.strings.length; });
call.on('error', (err) => { console.error(`grpc-js: ${err.message}`); process.exit(1); });
call.on('end', () => {
  console.log(`grpc-js: ${messages} messages, ${strings} strings, status OK`);
  client.close();
});
