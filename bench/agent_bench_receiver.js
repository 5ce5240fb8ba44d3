// The webhook receiver of bench/agent_bench.sh: node's http, answering every delivery 204 at
// once, verifying its signature with the Standard Webhooks library of tests/webhooks (npm ci
// there first) and counting it by webhook-id. It listens on 127.0.0.1 (--port, 0: a free one)
// and prints {"base"} as its ready line.
//
//   POST /_control/secret  {"secret"}: the endpoint's secret, before the first delivery (200)
//   GET  /_control/stats   {"deliveries","distinct","duplicates","unverified","bookings",
//                           "types":{type: count},"first_ms","last_ms"}: deliveries received,
//                           distinct webhook-ids, deliveries of an id already seen, deliveries
//                           whose signature did not verify, distinct booking ids in the data,
//                           and the arrival of the first and the last (Unix milliseconds, with
//                           fractions)
//   any other POST         a delivery
'use strict';
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Webhook } = require(require.resolve('standardwebhooks', {
    paths: [path.join(__dirname, '..', 'tests', 'webhooks')],
}));

let webhook = null;
const ids = new Set();
const bookings = new Set();
const types = {};
let deliveries = 0;
let duplicates = 0;
let unverified = 0;
let firstMs = null;
let lastMs = null;

function json(res, status, value) {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
}

function deliver(req, res, raw) {
    const now = performance.timeOrigin + performance.now();
    res.writeHead(204);
    res.end();
    deliveries++;
    if (firstMs === null) firstMs = now;
    lastMs = now;
    const id = req.headers['webhook-id'] || '';
    if (ids.has(id)) duplicates++;
    ids.add(id);
    let body = null;
    try {
        body = webhook.verify(raw, req.headers);
    } catch (e) {
        unverified++;
        return;
    }
    types[body.type] = (types[body.type] || 0) + 1;
    if (body.data && body.data.id) bookings.add(body.data.id);
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/_control/secret' && req.method === 'POST') {
            webhook = new Webhook(JSON.parse(raw).secret);
            json(res, 200, { ok: true });
        } else if (req.url === '/_control/stats') {
            json(res, 200, {
                deliveries, distinct: ids.size, duplicates, unverified, bookings: bookings.size,
                types, first_ms: firstMs, last_ms: lastMs,
            });
        } else if (req.method === 'POST' && webhook) {
            deliver(req, res, raw);
        } else {
            json(res, 409, { error: 'no secret yet' });
        }
    });
});
server.keepAliveTimeout = 60000;

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
server.listen(port, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ base: `http://127.0.0.1:${server.address().port}` }) + '\n');
});
