// A local receiver of slotd's outbound webhooks for the tests: node's http and the official
// Standard Webhooks library. It listens on 127.0.0.1 (--port, 0: a free one), prints
// {"base"} as its ready line, verifies every delivery with new Webhook(secret).verify(body,
// headers), records it (with whether it verified) and answers it.
//
//   POST /_control/endpoint    {"path","secret","statuses"?:[...]}: the secret that deliveries
//                              to `path` are verified with, and the statuses to answer the
//                              next ones (then 200): a number, or "hang" (no answer for a
//                              minute), "huge" (200 and 100 MB of body), "redirect" (302 to
//                              `path`/moved)
//   GET  /_control/deliveries  ?path=: [{"path","id","timestamp","signature","body","verified",
//                              "status"}] in the order they came
//   any other request          a delivery
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const endpoints = new Map(); // path -> {secret, statuses}
const deliveries = [];

function json(res, status, value) {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
}

function deliver(req, res, raw) {
    const path = req.url.split('?')[0];
    const endpoint = endpoints.get(path) || { secret: null, statuses: [] };
    let verified = false;
    let body = null;
    try {
        if (endpoint.secret) {
            body = new Webhook(endpoint.secret).verify(raw, req.headers);
            verified = true;
        }
    } catch (e) {
        verified = false;
    }
    if (body === null) {
        try { body = JSON.parse(raw); } catch (e) { body = raw; }
    }
    const status = endpoint.statuses.length ? endpoint.statuses.shift() : 200;
    deliveries.push({
        path, id: req.headers['webhook-id'] || null, timestamp: req.headers['webhook-timestamp'] || null,
        signature: req.headers['webhook-signature'] || null, body, verified, status,
    });
    if (status === 'hang') {
        setTimeout(() => json(res, 200, { late: true }), 60000).unref();
    } else if (status === 'huge') {
        huge(res);
    } else if (status === 'redirect') {
        res.writeHead(302, { location: `${path}/moved`, 'content-length': 0 });
        res.end();
    } else {
        json(res, status, { received: true });
    }
}

// 100 MB of body, written as fast as the client reads it, until it hangs up.
function huge(res) {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let left = 1600;
    let closed = false;
    res.on('close', () => { closed = true; });
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': chunk.length * left });
    const pump = () => {
        while (!closed && left > 0) {
            left--;
            if (!res.write(chunk)) return res.once('drain', pump);
        }
        if (!closed) res.end();
    };
    pump();
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url, 'http://receiver');
        if (url.pathname === '/_control/endpoint' && req.method === 'POST') {
            const c = JSON.parse(raw);
            endpoints.set(c.path, { secret: c.secret, statuses: c.statuses || [] });
            return json(res, 200, { ok: true });
        }
        if (url.pathname === '/_control/deliveries' && req.method === 'GET') {
            const path = url.searchParams.get('path');
            return json(res, 200, deliveries.filter((d) => path === null || d.path === path));
        }
        deliver(req, res, raw);
    });
});

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
server.listen(port, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ base: `http://127.0.0.1:${server.address().port}` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
process.stdout.on('error', () => {});
