#!/usr/bin/env node
'use strict';
/*
 * A local fake of the calendar providers slotd syncs with: Google Calendar v3
 * and Google's OAuth token endpoint, Microsoft Graph v1.0 and the Microsoft
 * identity platform's token endpoint, Cal.com API v2, and iCalendar (ICS)
 * feeds served over HTTP with ETag and Last-Modified. It speaks the
 * providers' documented wire formats (paths, query parameters, headers, status
 * codes, error bodies) over plain HTTP on 127.0.0.1, keeps real state (events
 * with ids, etags, update times, tombstones; sync tokens and delta links that
 * return exactly what changed), and lets a test steer it and see what its client
 * sent through a control API under /_fake/. Node 18 or later, no packages.
 *
 *   node tests/fakes/providers.js [--port N] [--state-file FILE]
 *
 * --port 0 (the default) picks a free port. Once listening it prints one JSON
 * line on stdout and keeps serving until SIGTERM or SIGINT (exit 0):
 *
 *   {"port":41234,"base":"http://127.0.0.1:41234",
 *    "google_api_url":"http://127.0.0.1:41234/google/calendar/v3",
 *    "google_token_url":"http://127.0.0.1:41234/google/token",
 *    "microsoft_graph_url":"http://127.0.0.1:41234/microsoft/v1.0",
 *    "microsoft_login_url":"http://127.0.0.1:41234/microsoft-login",
 *    "calcom_api_url":"http://127.0.0.1:41234/calcom/v2",
 *    "ics_url":"http://127.0.0.1:41234/ics"}
 *
 * The *_url values are what slotd's settings of the same names take. With
 * --state-file the whole state is written to FILE (atomically) after every
 * change and read back at start, so a restarted fake has the same calendars,
 * grants and sync tokens (page tokens are not kept: they answer 400 after a
 * restart). The request record, deliveries, injected failures and ICS feeds live
 * in memory.
 * The file is rewritten whole after each change: a benchmark with many events
 * runs the fake without one.
 *
 * Providers, as served (see google.js, microsoft.js, calcom.js, ics.js for the details):
 *
 *   POST /google/token                      refresh_token grant (form) -> access_token, expires_in
 *   /google/calendar/v3/calendars/{id}/events            GET list (timeMin, timeMax, singleEvents,
 *        showDeleted, orderBy, maxResults, pageToken, syncToken, updatedMin), POST insert
 *   /google/calendar/v3/calendars/{id}/events/{eventId}  GET, PATCH, PUT, DELETE (If-Match)
 *   POST /google/calendar/v3/calendars/{id}/events/watch, POST /google/calendar/v3/channels/stop
 *   POST /microsoft-login/{tenant}/oauth2/v2.0/token      refresh_token grant; rotates the refresh token
 *   /microsoft/v1.0/{me|users/{id}}[/calendar|/calendars/{id}]/calendarView[/delta]   GET
 *   /microsoft/v1.0/{me|users/{id}}[/calendar|/calendars/{id}]/events[/{id}]          GET, POST, PATCH, DELETE
 *   /microsoft/v1.0/subscriptions[/{id}]    POST (validationToken handshake first), GET, PATCH, DELETE
 *   /calcom/v2/bookings, /calcom/v2/bookings/{uid}[/cancel|/reschedule], /calcom/v2/webhooks[/{id}], /calcom/v2/me
 *   GET|HEAD /ics/{name}[?any query]        the feed's exact bytes (200, ETag, Last-Modified,
 *        Content-Type), streamed; 304 (no body, with the ETag) when If-None-Match matches the ETag
 *        or is "*", or, without If-None-Match, when If-Modified-Since is at or after Last-Modified;
 *        404 for an unknown name
 *
 * Every provider request needs a live bearer token (Google and Microsoft:
 * an access token from their token endpoint; Cal.com: a user's API key), else
 * 401 in that provider's error format. Tokens come from grants the test makes.
 * ICS feeds need none (a feed's secret is in its URL). Every request, an ICS
 * GET too (provider "ics", with its If-None-Match and If-Modified-Since among
 * the headers), goes to the request record, and /_fake/fail rules apply to it.
 *
 * Control API (JSON in, JSON out; a bad control request is 400 {"error":"..."}; a list of
 * changes is applied in order and stops at the first bad one, the earlier ones kept):
 *
 *   GET  /_fake/health                       {"ok":true}
 *   POST /_fake/reset                        forget everything (state, record, failures)
 *   GET  /_fake/config, POST /_fake/config   settings: google_page_size, microsoft_page_size,
 *        calcom_page_size (cap each provider's page size: small pages for paging tests),
 *        google_access_token_ttl_seconds, microsoft_access_token_ttl_seconds (expires_in),
 *        microsoft_old_refresh_token_valid (false: a rotated-away refresh token answers
 *        invalid_grant), microsoft_delta_expiry ("410" | "syncStateNotFound"),
 *        recurrence_horizon_days (how far unbounded series expand), delivery_timeout_ms
 *   GET  /_fake/state                        the whole state, as the state file holds it
 *
 *   POST /_fake/google/grants     {user?, refresh_token?, client_id?, client_secret?, scope?}
 *        -> {refresh_token, user}; the user's primary calendar (id = user) exists from then on.
 *        client_id / client_secret, when given, must match at the token endpoint (401 invalid_client).
 *   POST /_fake/microsoft/grants  same -> {refresh_token, user, calendar_id} (the default calendar)
 *   POST /_fake/oauth/revoke      {provider?, refresh_token? | user?}: the grant (with every refresh
 *        token rotated from it) is revoked: refresh -> 400 invalid_grant, its access tokens -> 401
 *   POST /_fake/oauth/expire-access-tokens {provider?}: every access token issued so far -> 401
 *
 *   POST /_fake/google/calendars  {user, id?, timeZone?, summary?}: another calendar of a user
 *   POST /_fake/google/events     {calendar, events:[{op?, id?, ...Event fields}]} as the user would
 *        in Google Calendar; op "put" (default: create, or replace the event of that id), "patch"
 *        (merge), "delete" (tombstone). An id may name a series instance ("<masterId>_20260310T090000Z")
 *        to make an exception. -> {events:[the stored events]}
 *   GET  /_fake/google/events?calendar=ID    every stored event, tombstones included (status cancelled)
 *   POST /_fake/microsoft/calendars {user, id?, name?}: another calendar (no id: the default one)
 *   POST /_fake/microsoft/events  {user | calendar, events:[{op?, id?, ...Graph event fields}]}, same ops
 *   GET  /_fake/microsoft/events?user=U | ?calendar=ID   every stored event ({id, deleted:true} for deleted)
 *   POST /_fake/calcom/users      {username?, email?, name?, timeZone?, api_key?} -> user with its api_key
 *   POST /_fake/calcom/event-types {user, id?, slug?, title?, length?, lengths?} -> event type
 *   POST /_fake/calcom/webhooks   {user, subscriberUrl, secret?, triggers?, active?} -> webhook
 *   POST /_fake/calcom/bookings   {bookings:[{op:"create", eventTypeId, start, attendee?, metadata?} |
 *        {op:"cancel", uid, cancellationReason?} | {op:"reschedule", uid, start}]}; webhooks are sent
 *   GET  /_fake/calcom/bookings?user=REF     every booking (user: id, username, email or api key)
 *
 *   POST /_fake/expire-sync-tokens {provider?, calendar?, mode?}: Google sync tokens issued so far
 *        answer 410 fullSyncRequired, Graph delta links 410 resyncRequired with a Location header
 *        (mode "syncStateNotFound": 400 syncStateNotFound instead) -> {"expired":N}
 *   POST /_fake/fail  {provider?, method?, path? (prefix of the request path, e.g.
 *        "/google/calendar/v3/calendars/primary/events"), path_regex?, count? (default 1, null: every
 *        time), status?, reason? (the provider's error reason/code, e.g. "userRateLimitExceeded"),
 *        retry_after? (Retry-After header, seconds, may be fractional), delay_ms?, drop? ("reset":
 *        close the connection, "hang": never answer), raw_body? (answer exactly this text),
 *        body_bytes? (answer this many bytes of filler), content_type?, headers?}
 *        The next `count` matching provider requests get that answer instead of the real one (with
 *        only delay_ms they are delayed, then served). Rules apply in the order they were added.
 *   GET  /_fake/fail, DELETE /_fake/fail    the rules (with how often each was used), or none
 *   GET  /_fake/requests?provider=&method=&path=&since=SEQ    what clients sent: {requests:[{seq, time,
 *        provider, method, path, query, headers, body, status, in_flight}]} (body: parsed JSON, or the
 *        form as an object, or text; status: the answer's, or "hang" / "reset"; in_flight: how many
 *        requests to that provider were open when it came, itself included), oldest first, the last
 *        `limit` only when given; DELETE /_fake/requests clears the record
 *   PUT  /_fake/ics/{name}?etag=&last_modified=&content_type=&status=&delay_ms=   the body (any
 *        content type, kept byte for byte) sets or replaces feed `name`: a strong ETag ("\"" + the
 *        bytes' hex SHA-1 + "\""), Last-Modified the time of the PUT (an HTTP-date); etag=0: no ETag,
 *        last_modified=0: no Last-Modified (or a date: that one), content_type (default
 *        "text/calendar; charset=utf-8"), status=N: every GET answers N with a short text body
 *        instead of the feed, delay_ms=N: every GET waits N ms first. Each PUT sets every option
 *        anew; the counts go on. -> 201 (new) or 200 (replaced) with the feed as GET tells it
 *   GET  /_fake/ics/{name}                   {etag, last_modified, bytes, gets (GETs answered,
 *        whatever the answer), not_modified (of them 304s), content_type, status, delay_ms};
 *        404 for an unknown name. GET /_fake/ics: {feeds: {name: the same}}
 *   DELETE /_fake/ics/{name}                 removes the feed (its GETs answer 404 from then on)
 *   GET  /_fake/deliveries?provider=&kind=&since=SEQ   what the fake sent to the client's endpoints
 *        (Google watch notifications "google-sync"/"google-exists", Graph "graph-validation" and
 *        "graph-notification", Cal.com "calcom-webhook"): {deliveries:[{seq, time, provider, kind, url,
 *        headers, body, status, response_body, error}]}; DELETE clears
 *
 * Where the references leave a choice, the fake takes the strict reading, so a
 * client that works against it also works against the provider:
 *   - an unknown Google sync token is 410 fullSyncRequired, like an expired one; an
 *     unknown Graph $deltatoken answers as an expired one (410 with Location, or
 *     400 syncStateNotFound by microsoft_delta_expiry);
 *   - a Google insert with the id of a deleted event is 409 duplicate too; a patch of
 *     a deleted event keeps it deleted unless it sets status back;
 *   - a Google page token or a Graph $skiptoken can be used again (the page is a
 *     snapshot taken on the first page; changes after it come with the next sync token);
 *   - a series expands with RFC 5545 rules (DTSTART is the first instance; a local
 *     time in a DST gap is read with the offset before it); with singleEvents=true a
 *     change of a series reports its instances, and instances it no longer has come
 *     as cancelled; rules beyond FREQ DAILY..YEARLY, INTERVAL, COUNT, UNTIL, BYDAY,
 *     BYMONTHDAY, BYMONTH, BYSETPOS, WKST, EXDATE, RDATE are refused with 400;
 *   - Graph's page is 10 events without Prefer: odata.maxpagesize (at most 1000),
 *     and a $skiptoken keeps the page size of the round's first request; a POST
 *     with the transactionId of a live event returns that event (201) instead of a
 *     second one; Graph all-day events come back at midnight in the response zone;
 *   - Cal.com bookings answer only cal-api-version 2024-08-13 (else 400); a booking
 *     over another accepted or pending one of the same host is 400 "User either
 *     already has booking at this time or is not available";
 *   - Microsoft refresh tokens rotate on every refresh; the old one stays valid
 *     unless microsoft_old_refresh_token_valid is false.
 *
 * Deliveries: a Google watch channel gets a "sync" message when created and an
 * "exists" message after each change of its calendar (changes within one
 * request coalesce into one message); a Graph subscription is created only once
 * its notificationUrl answered the validationToken handshake (200, text/plain,
 * the token as body) and then gets change notifications with its clientState;
 * a Cal.com webhook gets BOOKING_CREATED / BOOKING_RESCHEDULED / BOOKING_CANCELLED.
 */
const http = require('http');
const { Fake, serializeState } = require('./core.js');
const google = require('./google.js');
const microsoft = require('./microsoft.js');
const calcom = require('./calcom.js');
const ics = require('./ics.js');

const MAX_BODY = 256 * 1024 * 1024;

const PREFIXES = [
    ['/google/calendar/v3', 'google', (fake, req) => google.handleApi(fake, req)],
    ['/google/token', 'google', (fake, req) => google.handleToken(fake, req)],
    ['/microsoft/v1.0', 'microsoft', (fake, req) => microsoft.handleApi(fake, req)],
    ['/microsoft-login', 'microsoft', (fake, req) => microsoft.handleToken(fake, req)],
    ['/calcom/v2', 'calcom', (fake, req) => calcom.handleApi(fake, req)],
    ['/ics', 'ics', (fake, req) => ics.handleFeed(fake, req)],
];

function parseBody(raw, type) {
    const t = (type || '').split(';')[0].trim().toLowerCase();
    if (raw.length === 0) return { body: null, form: null };
    if (t === 'application/x-www-form-urlencoded') {
        const form = new URLSearchParams(raw);
        return { body: Object.fromEntries(form), form };
    }
    try {
        return { body: JSON.parse(raw), form: null };
    } catch (e) {
        return { body: raw, form: null, badJson: t === 'application/json' };
    }
}

function send(res, r) {
    const headers = { ...(r.headers || {}) };
    if (Buffer.isBuffer(r.body)) {
        ics.sendBytes(res, r.status, headers, r.body);
        return;
    }
    if (r.status === 304) { /* no body, and no Content-Length of an empty one */
        res.writeHead(304, headers);
        res.end();
        return;
    }
    let payload = '';
    if (r.body !== null && r.body !== undefined) {
        if (typeof r.body === 'string') {
            payload = r.body;
            if (!headers['Content-Type']) headers['Content-Type'] = 'text/plain; charset=utf-8';
        } else {
            payload = JSON.stringify(r.body);
            headers['Content-Type'] = 'application/json; charset=UTF-8';
        }
    }
    headers['Content-Length'] = Buffer.byteLength(payload);
    res.writeHead(r.status, headers);
    res.end(payload);
}

function injectedAnswer(provider, f, req) {
    let r;
    if (f.raw_body !== null) {
        r = { status: f.status || 200, headers: { 'Content-Type': f.content_type || 'application/json; charset=UTF-8' }, body: f.raw_body };
    } else if (provider === 'google') r = google.injected(f.status, f.reason);
    else if (provider === 'microsoft') r = microsoft.injected(f.status, f.reason);
    else if (provider === 'ics') r = ics.injected(f.status);
    else r = calcom.injected(req, f.status, f.reason);
    r.headers = { ...(r.headers || {}), ...f.headers };
    if (f.retry_after !== null) r.headers['Retry-After'] = String(f.retry_after);
    return r;
}

function sendFiller(res, f) {
    res.writeHead(f.status || 200, { 'Content-Type': f.content_type || 'application/json; charset=UTF-8', 'Content-Length': f.body_bytes });
    const chunk = Buffer.alloc(Math.min(f.body_bytes, 1 << 20), 0x20);
    chunk[0] = 0x7b; /* "{" */
    let left = f.body_bytes;
    const pump = () => {
        while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
                res.once('drain', pump);
                return;
            }
        }
        res.end();
    };
    pump();
}

/* ---- control ---- */

function controlError(message) {
    return { status: 400, body: { error: message } };
}

function filtered(list, q, fields) {
    const since = q.has('since') ? Number(q.get('since')) : 0;
    const limit = q.has('limit') ? Math.max(0, Number(q.get('limit'))) : Infinity;
    const out = list.filter((r) => r.seq > since && fields.every((f) => !q.has(f) || (f === 'path' ? r.path.startsWith(q.get(f)) : String(r[f]) === (f === 'method' ? q.get(f).toUpperCase() : q.get(f)))));
    return limit < out.length ? out.slice(out.length - limit) : out;
}

function control(fake, req) {
    const b = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    const q = req.query;
    const route = `${req.method} ${req.path}`;
    switch (route) {
    case 'GET /_fake/health': return { status: 200, body: { ok: true } };
    case 'POST /_fake/reset': fake.reset(); return { status: 200, body: { ok: true } };
    case 'GET /_fake/config': return { status: 200, body: fake.config };
    case 'POST /_fake/config':
        for (const k of Object.keys(b)) if (!(k in fake.config)) return controlError(`unknown setting ${k}`);
        Object.assign(fake.config, b);
        fake.changed();
        return { status: 200, body: fake.config };
    case 'GET /_fake/state': return { status: 200, body: JSON.parse(serializeState(fake.state)) };
    case 'POST /_fake/google/grants': {
        const g = fake.addGrant('google', b);
        google.primaryOf(fake, g.user);
        return { status: 200, body: { refresh_token: g.refresh_token, user: g.user } };
    }
    case 'POST /_fake/microsoft/grants': {
        const g = fake.addGrant('microsoft', b);
        return { status: 200, body: { refresh_token: g.refresh_token, user: g.user, calendar_id: microsoft.defaultCalendar(fake, g.user).id } };
    }
    case 'POST /_fake/oauth/revoke':
        if (!b.refresh_token && !b.user) return controlError('refresh_token or user is required');
        return { status: 200, body: { revoked: fake.revoke(b.provider, b) } };
    case 'POST /_fake/oauth/expire-access-tokens': return { status: 200, body: { expired: fake.expireAccessTokens(b.provider) } };
    case 'POST /_fake/google/calendars': return { status: 200, body: google.controlCalendar(fake, b) };
    case 'POST /_fake/google/events': return { status: 200, body: google.controlEvents(fake, b) };
    case 'GET /_fake/google/events': return { status: 200, body: google.controlList(fake, q) };
    case 'POST /_fake/microsoft/calendars': return { status: 200, body: microsoft.controlCalendar(fake, b) };
    case 'POST /_fake/microsoft/events': return { status: 200, body: microsoft.controlEvents(fake, b) };
    case 'GET /_fake/microsoft/events': return { status: 200, body: microsoft.controlList(fake, q) };
    case 'POST /_fake/calcom/users': return { status: 200, body: calcom.controlUser(fake, b) };
    case 'POST /_fake/calcom/event-types': return { status: 200, body: calcom.controlEventType(fake, b) };
    case 'POST /_fake/calcom/webhooks': return { status: 200, body: calcom.controlWebhook(fake, b) };
    case 'POST /_fake/calcom/bookings': return { status: 200, body: calcom.controlBookings(fake, b) };
    case 'GET /_fake/calcom/bookings': return { status: 200, body: calcom.controlList(fake, q) };
    case 'POST /_fake/expire-sync-tokens': {
        let n = 0;
        if (!b.provider || b.provider === 'google') {
            for (const t of fake.state.google.syncTokens.values()) if (!t.expired && (!b.calendar || t.calendar === b.calendar)) { t.expired = true; n++; }
        }
        if (!b.provider || b.provider === 'microsoft') {
            if (b.mode && !['410', 'syncStateNotFound'].includes(b.mode)) return controlError('mode must be "410" or "syncStateNotFound"');
            for (const t of fake.state.microsoft.deltaTokens.values()) {
                if (!t.expired && (!b.calendar || t.calendar === b.calendar)) { t.expired = true; t.mode = b.mode || null; n++; }
            }
        }
        fake.changed();
        return { status: 200, body: { expired: n } };
    }
    case 'POST /_fake/fail': return { status: 200, body: fake.addFailure(b) };
    case 'GET /_fake/fail': return { status: 200, body: { failures: fake.failures } };
    case 'DELETE /_fake/fail': fake.failures = []; return { status: 200, body: { failures: [] } };
    case 'GET /_fake/requests': return { status: 200, body: { requests: filtered(fake.requests, q, ['provider', 'method', 'path']) } };
    case 'DELETE /_fake/requests': fake.requests = []; return { status: 200, body: { requests: [] } };
    case 'GET /_fake/deliveries': return { status: 200, body: { deliveries: filtered(fake.deliveries, q, ['provider', 'kind']) } };
    case 'DELETE /_fake/deliveries': fake.deliveries = []; return { status: 200, body: { deliveries: [] } };
    default: return { status: 404, body: { error: `no control route ${route}` } };
    }
}

/* ---- the server ---- */

async function serve(fake, req, res, bytes) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/_fake/ics' || url.pathname.startsWith('/_fake/ics/')) { /* the body is a feed, not JSON */
        try {
            send(res, ics.control(fake, req.method, url.pathname.slice('/_fake/ics'.length), url.searchParams, bytes));
        } catch (e) {
            send(res, controlError(e.message));
        }
        return;
    }
    const raw = bytes.toString('utf8');
    const parsed = parseBody(raw, req.headers['content-type']);
    const base = `http://127.0.0.1:${fake.port}`;
    const r = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body: parsed.body, form: parsed.form, raw, base };
    if (url.pathname.startsWith('/_fake/')) {
        try {
            r.body = raw.length ? JSON.parse(raw) : null;
        } catch (e) {
            send(res, controlError('the body is not JSON'));
            return;
        }
        try {
            send(res, control(fake, r));
        } catch (e) {
            send(res, controlError(e.message));
        }
        fake.save();
        return;
    }
    const match = PREFIXES.find(([p]) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    const provider = match ? match[1] : null;
    /* in_flight: this provider's requests open at this one's arrival, itself included */
    fake.inFlight[provider] = (fake.inFlight[provider] || 0) + 1;
    res.on('close', () => { fake.inFlight[provider]--; });
    const entry = fake.record({
        time: new Date(fake.now()).toISOString(), provider, method: req.method, path: url.pathname,
        query: Object.fromEntries(url.searchParams), headers: req.headers, body: parsed.body, status: null,
        in_flight: fake.inFlight[provider],
    });
    if (!match) {
        entry.status = 404;
        send(res, { status: 404, body: { error: `no provider at ${url.pathname}` } });
        return;
    }
    const f = fake.takeFailure(provider, req.method, url.pathname);
    if (f && f.delay_ms) await new Promise((resolve) => setTimeout(resolve, f.delay_ms));
    if (f && f.drop === 'hang') {
        entry.status = 'hang';
        return;
    }
    if (f && f.drop === 'reset') {
        entry.status = 'reset';
        req.socket.destroy();
        return;
    }
    if (f && f.body_bytes) {
        entry.status = f.status || 200;
        sendFiller(res, f);
        return;
    }
    if (f && (f.status || f.raw_body !== null)) {
        const answer = injectedAnswer(provider, f, r);
        entry.status = answer.status;
        send(res, answer);
        return;
    }
    if (parsed.badJson) {
        const answer = provider === 'ics' ? ics.injected(400) : provider === 'calcom' ? calcom.injected(r, 400, 'BadRequestException') : provider === 'google' ? google.injected(400, 'parseError') : microsoft.injected(400, 'BadRequest');
        entry.status = 400;
        send(res, answer);
        return;
    }
    r.path = url.pathname.slice(match[0].length);
    let answer;
    try {
        answer = await match[2](fake, r);
    } catch (e) {
        console.error(e);
        answer = { status: 500, body: { error: `fake failed: ${e.message}` } };
    }
    entry.status = answer.status;
    send(res, answer);
    fake.save();
}

/** Starts the fake on 127.0.0.1:port; resolves to {server, fake, port}. */
function start({ port = 0, stateFile = null } = {}) {
    const fake = new Fake({ stateFile });
    const server = http.createServer((req, res) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > MAX_BODY) {
                res.writeHead(413);
                res.end();
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => {
            serve(fake, req, res, Buffer.concat(chunks)).catch((e) => {
                console.error(e);
                if (!res.headersSent) send(res, { status: 500, body: { error: String(e) } });
            });
        });
    });
    server.keepAliveTimeout = 30000;
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
            fake.port = server.address().port;
            resolve({ server, fake, port: fake.port });
        });
    });
}

/** The JSON line the command prints: the port and each provider's base URL. */
function announcement(port) {
    const base = `http://127.0.0.1:${port}`;
    return {
        port, base,
        google_api_url: `${base}/google/calendar/v3`, google_token_url: `${base}/google/token`,
        microsoft_graph_url: `${base}/microsoft/v1.0`, microsoft_login_url: `${base}/microsoft-login`,
        calcom_api_url: `${base}/calcom/v2`, ics_url: `${base}/ics`,
    };
}

function parseArgs(argv) {
    const out = { port: 0, stateFile: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
            return argv[++i];
        };
        if (a === '--port') {
            out.port = Number(value());
            if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be 0-65535');
        } else if (a === '--state-file') out.stateFile = value();
        else if (a === '--help' || a === '-h') out.help = true;
        else throw new Error(`unknown argument ${a}`);
    }
    return out;
}

if (require.main === module) {
    let args;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`providers.js: ${e.message}\nusage: node providers.js [--port N] [--state-file FILE]`);
        process.exit(2);
    }
    if (args.help) {
        console.log('usage: node providers.js [--port N] [--state-file FILE]  (the control API is described at the top of this file)');
        process.exit(0);
    }
    start(args).then(({ server, fake, port }) => {
        process.stdout.write(`${JSON.stringify(announcement(port))}\n`);
        const stop = () => {
            fake.dirty = true;
            fake.save();
            server.close();
            server.closeAllConnections();
            process.exit(0);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
    }, (e) => {
        console.error(`providers.js: cannot listen: ${e.message}`);
        process.exit(1);
    });
}

module.exports = { start, announcement };
