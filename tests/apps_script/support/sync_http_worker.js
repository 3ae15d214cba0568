'use strict';
// The worker half of sync_http.js: performs one HTTP request at a time for a main
// thread that blocks on Atomics.wait until the answer is posted back.
const http = require('node:http');
const https = require('node:https');
const {parentPort, workerData} = require('node:worker_threads');

const flag = new Int32Array(workerData.flag);
const replies = workerData.port;
const inFlight = new Map();

function reply(message) {
  replies.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

parentPort.on('message', (message) => {
  if (message.abort !== undefined) {
    const request = inFlight.get(message.abort);
    if (request) request.destroy(new Error('aborted'));
    return;
  }
  const {id, url, method, headers, body} = message;
  const client = url.startsWith('https:') ? https : http;
  const request = client.request(url, {method, headers, agent: false}, (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      inFlight.delete(id);
      reply({id, status: response.statusCode, headers: response.headers,
        body: new Uint8Array(Buffer.concat(chunks))});
    });
    response.on('error', (error) => {
      inFlight.delete(id);
      reply({id, error: error.message});
    });
  });
  inFlight.set(id, request);
  request.on('error', (error) => {
    inFlight.delete(id);
    reply({id, error: error.code || error.message});
  });
  if (body) request.write(Buffer.from(body));
  request.end();
});
