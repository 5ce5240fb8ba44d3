'use strict';
/*
 * iCalendar feeds as a calendar server or a booking tool publishes them: a
 * named feed is one text, served whole at /ics/{name} (any query string, such
 * as a feed's secret ?key=, is accepted and ignored) with its ETag,
 * Last-Modified and Content-Type, and answered 304 Not Modified to a
 * conditional GET that matches (RFC 9110, 13.1.2 and 13.1.3):
 *
 *   - If-None-Match: one of its entity tags (weak comparison, "W/" ignored) is
 *     the feed's ETag, or it is "*";
 *   - else, only without If-None-Match: If-Modified-Since is a date at or after
 *     the feed's Last-Modified (whole seconds, as HTTP-dates are).
 *
 * A test sets feeds through the control API (PUT /_fake/ics/{name} with the
 * feed as the body, its options in the query), and sees what the client asked
 * in the request record (provider "ics") and in the feed's counts. Feeds live
 * in memory only: they are not written to the state file.
 */
const crypto = require('crypto');

const DEFAULT_CONTENT_TYPE = 'text/calendar; charset=utf-8';
const CHUNK = 1 << 20;

function feeds(fake) {
    if (!fake.icsFeeds) fake.icsFeeds = new Map();
    return fake.icsFeeds;
}

/** The feed name of a path's rest ("/clinic" -> "clinic"); null if there is none. */
function nameOf(rest) {
    if (!rest.startsWith('/') || rest.length < 2) return null;
    let name;
    try {
        name = decodeURIComponent(rest.slice(1));
    } catch (e) {
        return null;
    }
    return name.includes('/') ? null : name;
}

function text(status, body, headers = {}) {
    return { status, headers, body };
}

function injected(status) {
    return text(status || 500, `${status || 500} ${require('http').STATUS_CODES[status] || 'Error'}\n`);
}

function info(feed) {
    return {
        etag: feed.etag, last_modified: feed.lastModified === null ? null : new Date(feed.lastModified).toUTCString(),
        bytes: feed.bytes.length, gets: feed.gets, not_modified: feed.notModified,
        content_type: feed.contentType, status: feed.status, delay_ms: feed.delayMs,
    };
}

/** A query option that must be a whole number in [min, max], or the default. */
function intOption(q, key, min, max, dflt) {
    if (!q.has(key)) return dflt;
    const v = Number(q.get(key));
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${key} must be a whole number from ${min} to ${max}`);
    return v;
}

/**
 * The control routes under /_fake/ics: PUT sets or replaces a feed with the
 * request's exact bytes, DELETE removes it, GET tells its ETag, Last-Modified,
 * size and counts (GET /_fake/ics: every feed).
 */
function control(fake, method, rest, q, bytes) {
    const all = feeds(fake);
    if (rest === '' || rest === '/') {
        if (method !== 'GET') return text(405, { error: 'GET /_fake/ics lists the feeds' }, { Allow: 'GET' });
        return { status: 200, body: { feeds: Object.fromEntries([...all].map(([n, f]) => [n, info(f)])) } };
    }
    const name = nameOf(rest);
    if (name === null) return { status: 400, body: { error: 'a feed name is one path segment: /_fake/ics/{name}' } };
    const feed = all.get(name);
    switch (method) {
    case 'PUT': {
        const etagOn = q.get('etag') !== '0';
        let lastModified = Math.floor(fake.now() / 1000) * 1000;
        if (q.has('last_modified')) {
            const v = q.get('last_modified');
            if (v === '0') lastModified = null;
            else {
                const t = Date.parse(v);
                if (Number.isNaN(t)) throw new Error('last_modified must be 0 or a date');
                lastModified = Math.floor(t / 1000) * 1000;
            }
        }
        const status = intOption(q, 'status', 100, 599, null);
        const next = {
            bytes,
            etag: etagOn ? `"${crypto.createHash('sha1').update(bytes).digest('hex')}"` : null,
            lastModified,
            contentType: q.has('content_type') ? q.get('content_type') : DEFAULT_CONTENT_TYPE,
            status,
            delayMs: intOption(q, 'delay_ms', 0, 600000, 0),
            gets: feed ? feed.gets : 0,
            notModified: feed ? feed.notModified : 0,
        };
        all.set(name, next);
        return { status: feed ? 200 : 201, body: info(next) };
    }
    case 'DELETE':
        if (!feed) return { status: 404, body: { error: `no feed ${name}` } };
        all.delete(name);
        return { status: 200, body: { deleted: name } };
    case 'GET':
        if (!feed) return { status: 404, body: { error: `no feed ${name}` } };
        return { status: 200, body: info(feed) };
    default:
        return text(405, { error: `${method} is not a control method of a feed` }, { Allow: 'GET, PUT, DELETE' });
    }
}

/** Whether an If-None-Match header matches the ETag (weak comparison; "*" matches any feed). */
function noneMatch(header, etag) {
    if (header.trim() === '*') return true;
    if (etag === null) return false;
    const opaque = (t) => t.trim().replace(/^W\//, '');
    return header.split(',').some((t) => opaque(t) === opaque(etag));
}

/** GET (or HEAD) /ics/{name}: the feed, 304, the feed's injected status, or 404. */
async function handleFeed(fake, req) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'a feed is read with GET\n', { Allow: 'GET, HEAD' });
    const name = nameOf(req.path);
    const feed = name === null ? null : feeds(fake).get(name);
    if (!feed) return text(404, 'no such feed\n');
    if (feed.delayMs) await new Promise((resolve) => setTimeout(resolve, feed.delayMs));
    if (feeds(fake).get(name) !== feed) return text(404, 'no such feed\n'); /* deleted or replaced while waiting */
    feed.gets++;
    if (feed.status !== null) return injected(feed.status);
    const headers = {};
    if (feed.etag !== null) headers.ETag = feed.etag;
    if (feed.lastModified !== null) headers['Last-Modified'] = new Date(feed.lastModified).toUTCString();
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    let fresh = false;
    if (inm !== undefined) fresh = noneMatch(inm, feed.etag);
    else if (ims !== undefined && feed.lastModified !== null) {
        const t = Date.parse(ims);
        fresh = !Number.isNaN(t) && t >= feed.lastModified;
    }
    if (fresh) {
        feed.notModified++;
        return { status: 304, headers };
    }
    headers['Content-Type'] = feed.contentType;
    return { status: 200, headers, body: feed.bytes };
}

/** Writes a Buffer body a megabyte at a time, waiting for the socket to drain. */
function sendBytes(res, status, headers, bytes) {
    res.writeHead(status, { ...headers, 'Content-Length': bytes.length });
    let at = 0;
    const pump = () => {
        while (at < bytes.length) {
            const chunk = bytes.subarray(at, at + CHUNK);
            at += chunk.length;
            if (!res.write(chunk)) {
                res.once('drain', pump);
                return;
            }
        }
        res.end();
    };
    pump();
}

module.exports = { control, handleFeed, injected, sendBytes, DEFAULT_CONTENT_TYPE };
