'use strict';
// A stand-in for the function's POST /fill (real Google Sheets are out of reach in tests):
// answers FILL_STATUS with FILL_BODY (JSON), and GET /healthz.
const http = require('node:http');

const status = Number(process.env.FILL_STATUS || 200);
const body = process.env.FILL_BODY || JSON.stringify({
  rows: 3, enriched: 2, found: 1, not_found: 1, skipped_filled: 1, duplicates: 0, invalid: 0,
  failed: 0, over_budget: 0, credits: 3, upstream_calls: 2, sheets_reads: 1, sheets_writes: 1,
  seconds: 0.4,
});

http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, {'Content-Type': 'application/json'});
      response.end('{"ok": true}');
    } else if (request.method === 'POST' && request.url === '/fill') {
      response.writeHead(status, {'Content-Type': 'application/json'});
      response.end(body);
    } else {
      response.writeHead(404, {'Content-Type': 'application/json'});
      response.end('{"error": {"code": "not_found", "message": "Use POST /fill."}}');
    }
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
