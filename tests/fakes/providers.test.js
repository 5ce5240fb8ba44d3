'use strict';
/*
 * The fake providers' own tests: the real command started as a child process
 * (its JSON line read for the port), spoken to over real HTTP with fetch, and
 * checked against the wire formats of the providers' references. Each test
 * resets the fake first.
 *
 *   node --test tests/fakes/providers.test.js
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const SCRIPT = path.join(__dirname, 'providers.js');

/** Starts the command; resolves to {child, urls}. */
function launch(args) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [SCRIPT, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => {
            out += d;
            const nl = out.indexOf('\n');
            if (nl >= 0) resolve({ child, urls: JSON.parse(out.slice(0, nl)) });
        });
        child.once('exit', (code) => reject(new Error(`providers.js exited with ${code} before listening`)));
    });
}

function stop(child) {
    return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
    });
}

let fake;
let urls;

async function call(method, url, { body, form, headers = {}, token } = {}) {
    const h = { ...headers };
    let payload;
    if (form) {
        payload = new URLSearchParams(form).toString();
        h['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        h['Content-Type'] = h['Content-Type'] || 'application/json';
    }
    if (token) h.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { method, headers: h, body: payload });
    const text = await res.text();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch (e) {
        json = null;
    }
    return { status: res.status, headers: res.headers, json, text };
}

async function ctl(method, p, body) {
    const r = await call(method, `${urls.base}/_fake/${p}`, { body });
    assert.equal(r.status, 200, `${method} /_fake/${p}: ${r.text}`);
    return r.json;
}

async function googleToken(user = 'ann@gmail.test') {
    const g = await ctl('POST', 'google/grants', { user, client_id: 'cid', client_secret: 'secret' });
    const r = await call('POST', urls.google_token_url, { form: { grant_type: 'refresh_token', refresh_token: g.refresh_token, client_id: 'cid', client_secret: 'secret' } });
    assert.equal(r.status, 200, r.text);
    return { ...g, access: r.json.access_token, tokenResponse: r.json };
}

async function graphToken(user = 'bea@outlook.test') {
    const g = await ctl('POST', 'microsoft/grants', { user, client_id: 'app' });
    const r = await call('POST', `${urls.microsoft_login_url}/common/oauth2/v2.0/token`, { form: { grant_type: 'refresh_token', refresh_token: g.refresh_token, client_id: 'app', scope: 'Calendars.ReadWrite offline_access' } });
    assert.equal(r.status, 200, r.text);
    return { ...g, access: r.json.access_token, tokenResponse: r.json };
}

function gEvents(cal = 'primary') {
    return `${urls.google_api_url}/calendars/${encodeURIComponent(cal)}/events`;
}

/** Follows Google pages from `first` (a URL); returns {items, nextSyncToken, pages}. */
async function googleAll(first, token) {
    const items = [];
    let url = first;
    let pages = 0;
    for (;;) {
        const r = await call('GET', url, { token });
        assert.equal(r.status, 200, r.text);
        pages++;
        items.push(...r.json.items);
        assert.ok(!(r.json.nextPageToken && r.json.nextSyncToken), 'never both tokens');
        if (!r.json.nextPageToken) return { items, nextSyncToken: r.json.nextSyncToken, pages };
        const u = new URL(first);
        u.searchParams.set('pageToken', r.json.nextPageToken);
        url = u.toString();
    }
}

/** Follows a Graph delta round from `first`; returns {value, deltaLink, pages}. */
async function graphRound(first, token, prefer) {
    const value = [];
    let url = first;
    let pages = 0;
    for (;;) {
        const r = await call('GET', url, { token, headers: prefer ? { Prefer: prefer } : {} });
        assert.equal(r.status, 200, r.text);
        pages++;
        value.push(...r.json.value);
        assert.ok(!(r.json['@odata.nextLink'] && r.json['@odata.deltaLink']), 'never both links');
        if (r.json['@odata.deltaLink']) return { value, deltaLink: r.json['@odata.deltaLink'], pages };
        url = r.json['@odata.nextLink'];
        assert.ok(url, 'a page has a nextLink or a deltaLink');
    }
}

/** A local receiver for deliveries: answers with `answer(req, body)` ({status, headers, body}). */
function receiver(answer) {
    const got = [];
    const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => {
            got.push({ url: req.url, headers: req.headers, body });
            const a = answer ? answer(req, body) : { status: 202, body: '' };
            res.writeHead(a.status, a.headers || {});
            res.end(a.body || '');
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hook` })));
}

async function until(what, fn) {
    for (let i = 0; i < 200; i++) {
        const v = await fn();
        if (v) return v;
        await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`timed out waiting for ${what}`);
}

const future = (days, hour = 10) => {
    const d = new Date(Date.now() + days * 86400000);
    d.setUTCHours(hour, 0, 0, 0);
    return d;
};
const iso = (d) => d.toISOString().replace('.000Z', 'Z');

test.before(async () => {
    ({ child: fake, urls } = await launch([]));
});
test.after(async () => {
    assert.equal(await stop(fake), 0);
});
test.beforeEach(async () => {
    await ctl('POST', 'reset');
});

/* ---- the command ---- */

test('prints its port and every provider base URL on one JSON line, on 127.0.0.1', () => {
    assert.ok(urls.port > 0);
    assert.equal(urls.base, `http://127.0.0.1:${urls.port}`);
    assert.equal(urls.google_api_url, `${urls.base}/google/calendar/v3`);
    assert.equal(urls.google_token_url, `${urls.base}/google/token`);
    assert.equal(urls.microsoft_graph_url, `${urls.base}/microsoft/v1.0`);
    assert.equal(urls.microsoft_login_url, `${urls.base}/microsoft-login`);
    assert.equal(urls.calcom_api_url, `${urls.base}/calcom/v2`);
    assert.equal(urls.ics_url, `${urls.base}/ics`);
});

test('the state file keeps calendars, grants and sync tokens across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-providers-'));
    const file = path.join(dir, 'state.json');
    const first = await launch(['--state-file', file]);
    const saved = urls;
    urls = first.urls;
    try {
        const t = await googleToken();
        await ctl('POST', 'google/events', { calendar: t.user, events: [{ id: 'keep01', summary: 'x', start: { dateTime: iso(future(3)) }, end: { dateTime: iso(future(3, 11)) } }] });
        const full = await googleAll(gEvents(), t.access);
        assert.equal(await stop(first.child), 0);
        const second = await launch(['--state-file', file]);
        urls = second.urls;
        try {
            const again = await googleAll(`${gEvents()}?syncToken=${encodeURIComponent(full.nextSyncToken)}`, t.access);
            assert.deepEqual(again.items, [], 'the old token still works and nothing changed');
            const list = await ctl('GET', `google/events?calendar=${encodeURIComponent(t.user)}`);
            assert.deepEqual(list.events.map((e) => e.id), ['keep01']);
        } finally {
            assert.equal(await stop(second.child), 0);
        }
    } finally {
        urls = saved;
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('a bad control request is 400 with a message and changes nothing', async () => {
    const t = await googleToken();
    const r = await call('POST', `${urls.base}/_fake/google/events`, { body: { calendar: t.user, events: [{ id: 'BAD ID', start: {}, end: {} }] } });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /base32hex/);
    assert.equal((await ctl('GET', `google/events?calendar=${encodeURIComponent(t.user)}`)).events.length, 0);
    assert.equal((await call('POST', `${urls.base}/_fake/config`, { body: { nope: 1 } })).status, 400);
    assert.equal((await call('POST', `${urls.base}/_fake/fail`, { body: { path: '/x' } })).status, 400);
});

/* ---- Google OAuth ---- */

test('google refresh_token grant gives an access token with expires_in; no refresh token back', async () => {
    const t = await googleToken();
    assert.equal(t.tokenResponse.token_type, 'Bearer');
    assert.equal(t.tokenResponse.expires_in, 3599);
    assert.ok(t.tokenResponse.access_token);
    assert.equal(t.tokenResponse.refresh_token, undefined);
    const sent = (await ctl('GET', 'requests?provider=google&path=/google/token')).requests;
    assert.equal(sent.length, 1);
    assert.equal(sent[0].body.refresh_token, t.refresh_token);
    assert.equal(sent[0].headers['content-type'], 'application/x-www-form-urlencoded');
});

test('google token errors: unknown or revoked refresh token 400 invalid_grant, wrong client 401 invalid_client', async () => {
    const t = await googleToken();
    const bad = await call('POST', urls.google_token_url, { form: { grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'cid' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const client = await call('POST', urls.google_token_url, { form: { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'other', client_secret: 'secret' } });
    assert.equal(client.status, 401);
    assert.equal(client.json.error, 'invalid_client');
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 200);
    await ctl('POST', 'oauth/revoke', { provider: 'google', refresh_token: t.refresh_token });
    const revoked = await call('POST', urls.google_token_url, { form: { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'cid', client_secret: 'secret' } });
    assert.equal(revoked.status, 400);
    assert.equal(revoked.json.error, 'invalid_grant');
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 401, 'its access tokens die with it');
});

test('google API: missing, wrong and expired bearer tokens are 401 in Google\'s envelope', async () => {
    const t = await googleToken();
    const missing = await call('GET', gEvents());
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error.code, 401);
    assert.equal(missing.json.error.errors[0].reason, 'required');
    assert.equal(missing.json.error.errors[0].location, 'Authorization');
    const wrong = await call('GET', gEvents(), { token: 'ya29.wrong' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json.error.errors[0], { domain: 'global', reason: 'authError', message: 'Invalid Credentials', locationType: 'header', location: 'Authorization' });
    const ms = await graphToken();
    assert.equal((await call('GET', gEvents(), { token: ms.access })).status, 401, 'a Microsoft token is no Google token');
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 200);
    await ctl('POST', 'oauth/expire-access-tokens', { provider: 'google' });
    const expired = await call('GET', gEvents(), { token: t.access });
    assert.equal(expired.status, 401);
    assert.equal(expired.json.error.errors[0].reason, 'authError');
});

test('google: another user\'s calendar is 404 notFound', async () => {
    const ann = await googleToken('ann@gmail.test');
    await googleToken('ben@gmail.test');
    const r = await call('GET', gEvents('ben@gmail.test'), { token: ann.access });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.errors[0].reason, 'notFound');
    assert.equal((await call('GET', gEvents('ann@gmail.test'), { token: ann.access })).status, 200, 'the own calendar by its id');
});

/* ---- Google events ---- */

test('google insert honours a client id, answers 200 with etag and updated, and 409 duplicate on reuse', async () => {
    const t = await googleToken();
    const body = { id: 'bk8f14e45fceea167a5a36dedd4bea2543', summary: 'Consultation', start: { dateTime: '2026-03-10T10:00:00+01:00' }, end: { dateTime: '2026-03-10T10:30:00+01:00' }, extendedProperties: { private: { bookingId: '8f14e45f' } } };
    const r = await call('POST', gEvents(), { token: t.access, body });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kind, 'calendar#event');
    assert.equal(r.json.id, body.id);
    assert.equal(r.json.status, 'confirmed');
    assert.match(r.json.etag, /^"\d+"$/);
    assert.match(r.json.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(r.json.extendedProperties, body.extendedProperties);
    const again = await call('POST', gEvents(), { token: t.access, body });
    assert.equal(again.status, 409);
    assert.deepEqual(again.json, { error: { errors: [{ domain: 'global', reason: 'duplicate', message: 'The requested identifier already exists.' }], code: 409, message: 'The requested identifier already exists.' } });
    const list = await ctl('GET', `google/events?calendar=${encodeURIComponent(t.user)}`);
    assert.equal(list.events.length, 1, 'exactly once');
});

test('google insert refuses ids outside base32hex or 5-1024 characters, and bad times', async () => {
    const t = await googleToken();
    const times = { start: { dateTime: '2026-03-10T10:00:00Z' }, end: { dateTime: '2026-03-10T11:00:00Z' } };
    for (const id of ['abcd', 'abcdw', 'ABCDE', 'a'.repeat(1025), 'abc-de']) {
        const r = await call('POST', gEvents(), { token: t.access, body: { id, ...times } });
        assert.equal(r.status, 400, id);
        assert.equal(r.json.error.errors[0].reason, 'invalid');
    }
    assert.equal((await call('POST', gEvents(), { token: t.access, body: { id: 'a'.repeat(1024), ...times } })).status, 200);
    const noEnd = await call('POST', gEvents(), { token: t.access, body: { start: times.start } });
    assert.equal(noEnd.status, 400);
    assert.equal(noEnd.json.error.errors[0].reason, 'required');
    const backwards = await call('POST', gEvents(), { token: t.access, body: { start: times.end, end: times.start } });
    assert.equal(backwards.json.error.errors[0].reason, 'timeRangeEmpty');
    const noZone = await call('POST', gEvents(), { token: t.access, body: { start: { dateTime: '2026-03-10T10:00:00' }, end: { dateTime: '2026-03-10T11:00:00' } } });
    assert.equal(noZone.status, 400, 'a dateTime without offset needs timeZone');
    const badJson = await call('POST', gEvents(), { token: t.access, body: '{"id":' });
    assert.equal(badJson.status, 400);
});

test('google patch merges, delete is 204 then 410 deleted, unknown ids 404, If-Match mismatch 412', async () => {
    const t = await googleToken();
    const made = (await call('POST', gEvents(), { token: t.access, body: { id: 'evt001', summary: 'a', location: 'room 1', start: { dateTime: '2026-03-10T10:00:00Z' }, end: { dateTime: '2026-03-10T11:00:00Z' } } })).json;
    const patched = await call('PATCH', `${gEvents()}/evt001`, { token: t.access, body: { start: { dateTime: '2026-03-10T12:00:00Z' }, end: { dateTime: '2026-03-10T13:00:00Z' } } });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.location, 'room 1', 'fields not in the patch stay');
    assert.equal(patched.json.start.dateTime, '2026-03-10T12:00:00Z');
    assert.notEqual(patched.json.etag, made.etag);
    assert.ok(patched.json.updated > made.updated);
    const stale = await call('PATCH', `${gEvents()}/evt001`, { token: t.access, headers: { 'If-Match': made.etag }, body: { summary: 'b' } });
    assert.equal(stale.status, 412);
    assert.equal(stale.json.error.errors[0].reason, 'conditionNotMet');
    assert.equal((await call('PATCH', `${gEvents()}/nosuch1`, { token: t.access, body: { summary: 'b' } })).status, 404);
    assert.equal((await call('DELETE', `${gEvents()}/nosuch1`, { token: t.access })).status, 404);
    const del = await call('DELETE', `${gEvents()}/evt001`, { token: t.access });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const again = await call('DELETE', `${gEvents()}/evt001`, { token: t.access });
    assert.equal(again.status, 410);
    assert.equal(again.json.error.errors[0].reason, 'deleted');
    const get = await call('GET', `${gEvents()}/evt001`, { token: t.access });
    assert.equal(get.json.status, 'cancelled', 'get still returns a deleted event');
});

test('google full sync pages with nextPageToken, ends with nextSyncToken, and an incremental sync returns only changes', async () => {
    const t = await googleToken();
    await ctl('POST', 'config', { google_page_size: 3 });
    const events = [];
    for (let i = 0; i < 8; i++) events.push({ id: `ev${String(i).padStart(4, '0')}`, summary: `e${i}`, start: { dateTime: iso(future(1 + i)) }, end: { dateTime: iso(future(1 + i, 11)) } });
    await ctl('POST', 'google/events', { calendar: t.user, events });
    const full = await googleAll(`${gEvents()}?singleEvents=true&timeMin=${iso(future(0, 0))}`, t.access);
    assert.equal(full.pages, 3);
    assert.deepEqual(full.items.map((e) => e.id), events.map((e) => e.id));
    assert.ok(full.nextSyncToken);
    const firstPage = await call('GET', `${gEvents()}?singleEvents=true&timeMin=${iso(future(0, 0))}`, { token: t.access });
    const retried = [];
    for (let i = 0; i < 2; i++) retried.push((await call('GET', `${gEvents()}?singleEvents=true&timeMin=${iso(future(0, 0))}&pageToken=${firstPage.json.nextPageToken}`, { token: t.access })).json.items.map((e) => e.id));
    assert.deepEqual(retried[0], retried[1], 'a page token can be retried');
    const nothing = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(full.nextSyncToken)}`, t.access);
    assert.deepEqual(nothing.items, []);
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'patch', id: 'ev0002', summary: 'moved', start: { dateTime: iso(future(20)) }, end: { dateTime: iso(future(20, 11)) } }, { op: 'delete', id: 'ev0005' }, { id: 'ev0100', summary: 'new', start: { dateTime: iso(future(30)) }, end: { dateTime: iso(future(30, 11)) } }] });
    const inc = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(full.nextSyncToken)}`, t.access);
    const byId = Object.fromEntries(inc.items.map((e) => [e.id, e]));
    assert.deepEqual(Object.keys(byId).sort(), ['ev0002', 'ev0005', 'ev0100']);
    assert.equal(byId.ev0002.summary, 'moved');
    assert.deepEqual(Object.keys(byId.ev0005).sort(), ['etag', 'id', 'kind', 'status']);
    assert.equal(byId.ev0005.status, 'cancelled');
    const next = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(inc.nextSyncToken)}`, t.access);
    assert.deepEqual(next.items, [], 'the newer token starts after those changes');
    const fullAgain = await googleAll(`${gEvents()}?singleEvents=true`, t.access);
    assert.ok(!fullAgain.items.some((e) => e.id === 'ev0005'), 'a full sync without showDeleted leaves deleted events out');
    const withDeleted = await googleAll(`${gEvents()}?singleEvents=true&showDeleted=true`, t.access);
    assert.equal(withDeleted.items.find((e) => e.id === 'ev0005').status, 'cancelled');
    const since = await googleAll(`${gEvents()}?updatedMin=${encodeURIComponent(new Date(Date.now() - 60000).toISOString())}`, t.access);
    assert.ok(since.items.some((e) => e.id === 'ev0005' && e.status === 'cancelled'), 'updatedMin always includes deleted entries');
});

test('google list windows by end > timeMin and start < timeMax, and refuses bad parameters', async () => {
    const t = await googleToken();
    await ctl('POST', 'google/events', { calendar: t.user, events: [
        { id: 'tm001', start: { dateTime: '2026-05-01T09:00:00Z' }, end: { dateTime: '2026-05-01T10:00:00Z' } },
        { id: 'tm002', start: { dateTime: '2026-05-01T10:00:00Z' }, end: { dateTime: '2026-05-01T11:00:00Z' } },
        { id: 'tm003', start: { date: '2026-05-02' }, end: { date: '2026-05-03' } },
    ] });
    const r = await googleAll(`${gEvents()}?timeMin=2026-05-01T10:00:00Z&timeMax=2026-05-02T00:00:01Z`, t.access);
    assert.deepEqual(r.items.map((e) => e.id), ['tm002', 'tm003']);
    assert.deepEqual(r.items[1].start, { date: '2026-05-02' });
    const restricted = await call('GET', `${gEvents()}?syncToken=${encodeURIComponent(r.nextSyncToken)}&timeMin=2026-05-01T10:00:00Z`, { token: t.access });
    assert.equal(restricted.status, 400);
    assert.equal(restricted.json.error.message, 'Sync token cannot be used with other request restrictions.');
    assert.equal((await call('GET', `${gEvents()}?orderBy=startTime`, { token: t.access })).status, 400, 'orderBy=startTime needs singleEvents');
    assert.equal((await call('GET', `${gEvents()}?timeMin=2026-05-01T10:00:00`, { token: t.access })).status, 400, 'timeMin needs an offset');
    const empty = await call('GET', `${gEvents()}?timeMin=2026-05-02T00:00:00Z&timeMax=2026-05-01T00:00:00Z`, { token: t.access });
    assert.equal(empty.json.error.errors[0].reason, 'timeRangeEmpty');
    assert.equal((await call('GET', `${gEvents()}?pageToken=nope`, { token: t.access })).status, 400);
});

test('google expired sync tokens answer 410 fullSyncRequired and a full sync gives the same end state', async () => {
    const t = await googleToken();
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ id: 'snc001', start: { dateTime: iso(future(2)) }, end: { dateTime: iso(future(2, 11)) } }] });
    const full = await googleAll(`${gEvents()}?singleEvents=true`, t.access);
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'delete', id: 'snc001' }, { id: 'snc002', start: { dateTime: iso(future(3)) }, end: { dateTime: iso(future(3, 11)) } }] });
    assert.equal((await ctl('POST', 'expire-sync-tokens', { provider: 'google' })).expired, 1);
    const gone = await call('GET', `${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(full.nextSyncToken)}`, { token: t.access });
    assert.equal(gone.status, 410);
    assert.deepEqual(gone.json, { error: { errors: [{ domain: 'calendar', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.', locationType: 'parameter', location: 'syncToken' }], code: 410, message: 'Sync token is no longer valid, a full sync is required.' } });
    const again = await googleAll(`${gEvents()}?singleEvents=true`, t.access);
    assert.deepEqual(again.items.map((e) => e.id), ['snc002']);
    assert.equal((await call('GET', `${gEvents()}?syncToken=${encodeURIComponent(again.nextSyncToken)}`, { token: t.access })).status, 200, 'new tokens work');
});

test('google recurring events: singleEvents expands instances in the series zone with EXDATE, instance ids and exceptions', async () => {
    const t = await googleToken();
    await ctl('POST', 'google/events', { calendar: t.user, events: [{
        id: 'series01', summary: 'weekly', start: { dateTime: '2026-03-10T10:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-03-10T10:30:00', timeZone: 'Europe/Berlin' },
        recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20260317T100000'],
    }] });
    const masters = await googleAll(gEvents(), t.access);
    assert.equal(masters.items.length, 1);
    assert.deepEqual(masters.items[0].recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20260317T100000']);
    const single = await googleAll(`${gEvents()}?singleEvents=true&orderBy=startTime`, t.access);
    assert.deepEqual(single.items.map((e) => e.id), ['series01_20260310T090000Z', 'series01_20260324T090000Z', 'series01_20260331T080000Z']);
    assert.deepEqual(single.items.map((e) => e.start.dateTime), ['2026-03-10T10:00:00+01:00', '2026-03-24T10:00:00+01:00', '2026-03-31T10:00:00+02:00'], 'wall time kept across the DST change');
    assert.ok(single.items.every((e) => e.recurringEventId === 'series01' && e.recurrence === undefined && e.originalStartTime));
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'delete', id: 'series01_20260324T090000Z' }, { op: 'patch', id: 'series01_20260331T080000Z', start: { dateTime: '2026-03-31T15:00:00+02:00' }, end: { dateTime: '2026-03-31T15:30:00+02:00' } }] });
    const inc = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(single.nextSyncToken)}`, t.access);
    const byId = Object.fromEntries(inc.items.map((e) => [e.id, e]));
    assert.equal(byId.series01_20260324T090000Z.status, 'cancelled');
    assert.equal(byId.series01_20260324T090000Z.recurringEventId, 'series01');
    assert.equal(byId.series01_20260331T080000Z.start.dateTime, '2026-03-31T15:00:00+02:00');
    assert.equal(byId.series01_20260331T080000Z.originalStartTime.dateTime, '2026-03-31T10:00:00+02:00');
    const now = await googleAll(`${gEvents()}?singleEvents=true&orderBy=startTime`, t.access);
    assert.deepEqual(now.items.map((e) => e.id), ['series01_20260310T090000Z', 'series01_20260331T080000Z']);
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'patch', id: 'series01', recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=1'] }] });
    const shortened = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(inc.nextSyncToken)}`, t.access);
    assert.ok(shortened.items.some((e) => e.id === 'series01_20260310T090000Z' && e.status === 'confirmed'));
    const allDay = await call('POST', gEvents(), { token: t.access, body: { id: 'ad0001', start: { date: '2026-04-01' }, end: { date: '2026-04-02' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=2'] } });
    assert.equal(allDay.status, 200, allDay.text);
    const days = await googleAll(`${gEvents()}?singleEvents=true&timeMin=2026-04-01T00:00:00Z&timeMax=2026-05-01T00:00:00Z`, t.access);
    assert.deepEqual(days.items.map((e) => [e.id, e.start.date, e.end.date]), [['ad0001_20260401', '2026-04-01', '2026-04-02'], ['ad0001_20260402', '2026-04-02', '2026-04-03']]);
    const badRule = await call('POST', gEvents(), { token: t.access, body: { start: { dateTime: '2026-03-10T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-03-10T11:00:00', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=SECONDLY'] } });
    assert.equal(badRule.status, 400);
    const noZone = await call('POST', gEvents(), { token: t.access, body: { start: { dateTime: '2026-03-10T10:00:00Z' }, end: { dateTime: '2026-03-10T11:00:00Z' }, recurrence: ['RRULE:FREQ=DAILY'] } });
    assert.equal(noZone.json.error.errors[0].reason, 'missingTimeZone');
});

test('google events.watch sends sync then exists notifications with the channel headers; channels.stop ends them', async () => {
    const t = await googleToken();
    const hook = await receiver();
    try {
        const w = await call('POST', `${gEvents()}/watch`, { token: t.access, body: { id: 'chan-1', type: 'web_hook', address: hook.url, token: 'target=slotd' } });
        assert.equal(w.status, 200, w.text);
        assert.equal(w.json.kind, 'api#channel');
        assert.equal(w.json.id, 'chan-1');
        assert.equal(typeof w.json.expiration, 'string');
        assert.ok(w.json.resourceId);
        await until('the sync message', () => hook.got.length >= 1);
        assert.equal(hook.got[0].headers['x-goog-resource-state'], 'sync');
        assert.equal(hook.got[0].headers['x-goog-message-number'], '1');
        assert.equal(hook.got[0].headers['x-goog-channel-id'], 'chan-1');
        assert.equal(hook.got[0].headers['x-goog-channel-token'], 'target=slotd');
        assert.equal(hook.got[0].headers['x-goog-resource-id'], w.json.resourceId);
        assert.equal(hook.got[0].body, '');
        await ctl('POST', 'google/events', { calendar: t.user, events: [{ id: 'notif1', start: { dateTime: iso(future(1)) }, end: { dateTime: iso(future(1, 11)) } }, { id: 'notif2', start: { dateTime: iso(future(2)) }, end: { dateTime: iso(future(2, 11)) } }] });
        await until('the exists message', () => hook.got.length >= 2);
        assert.equal(hook.got[1].headers['x-goog-resource-state'], 'exists');
        assert.equal(hook.got[1].headers['x-goog-message-number'], '2');
        const deliveries = await until('both answers recorded', async () => {
            const list = (await ctl('GET', 'deliveries?provider=google')).deliveries;
            return list.length === 2 && list.every((d) => d.status !== null) ? list : null;
        });
        assert.deepEqual(deliveries.map((d) => [d.kind, d.status]), [['google-sync', 202], ['google-exists', 202]]);
        const dup = await call('POST', `${gEvents()}/watch`, { token: t.access, body: { id: 'chan-1', type: 'web_hook', address: hook.url } });
        assert.equal(dup.status, 400);
        assert.equal((await call('POST', `${urls.google_api_url}/channels/stop`, { token: t.access, body: { id: 'chan-1', resourceId: 'wrong' } })).status, 404);
        const stopped = await call('POST', `${urls.google_api_url}/channels/stop`, { token: t.access, body: { id: 'chan-1', resourceId: w.json.resourceId } });
        assert.equal(stopped.status, 204);
        await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'delete', id: 'notif1' }] });
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(hook.got.length, 2, 'no message after stop');
    } finally {
        hook.server.close();
    }
});

/* ---- failures, record ---- */

test('injected failures: 429 with Retry-After, 403 rate limits, 500, then normal answers again', async () => {
    const t = await googleToken();
    await ctl('POST', 'fail', { path: '/google/calendar/v3/calendars/primary/events', status: 429, retry_after: 2, count: 2 });
    await ctl('POST', 'fail', { provider: 'google', method: 'GET', status: 403, reason: 'userRateLimitExceeded' });
    for (let i = 0; i < 2; i++) {
        const r = await call('GET', gEvents(), { token: t.access });
        assert.equal(r.status, 429);
        assert.equal(r.headers.get('retry-after'), '2');
        assert.equal(r.json.error.errors[0].reason, 'rateLimitExceeded');
        assert.equal(r.json.error.errors[0].domain, 'usageLimits');
    }
    const limited = await call('GET', gEvents(), { token: t.access });
    assert.equal(limited.status, 403);
    assert.deepEqual(limited.json.error.errors[0], { domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' });
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 200);
    const rules = (await ctl('GET', 'fail')).failures;
    assert.deepEqual(rules.map((f) => f.used), [2, 1]);
    const ms = await graphToken();
    await ctl('POST', 'fail', { provider: 'microsoft', status: 503, retry_after: 1.5 });
    const busy = await call('GET', `${urls.microsoft_graph_url}/me/events`, { token: ms.access });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '1.5');
    assert.equal(busy.json.error.code, 'serviceNotAvailable');
});

test('injected failures: a raw body, a reset connection, a delay, a huge body', async () => {
    const t = await googleToken();
    await ctl('POST', 'fail', { path: '/google/calendar/v3', raw_body: '{"items": [' });
    const raw = await call('GET', gEvents(), { token: t.access });
    assert.equal(raw.status, 200);
    assert.equal(raw.text, '{"items": [');
    await ctl('POST', 'fail', { path: '/google/calendar/v3', drop: 'reset' });
    await assert.rejects(fetch(gEvents(), { headers: { Authorization: `Bearer ${t.access}` } }));
    await ctl('POST', 'fail', { path: '/google/calendar/v3', delay_ms: 300 });
    const started = Date.now();
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 200);
    assert.ok(Date.now() - started >= 280, 'delayed, then served');
    await ctl('POST', 'fail', { path: '/google/calendar/v3', body_bytes: 5 * 1024 * 1024 });
    const big = await fetch(gEvents(), { headers: { Authorization: `Bearer ${t.access}` } });
    assert.equal((await big.arrayBuffer()).byteLength, 5 * 1024 * 1024);
});

test('the request record shows method, path, query, headers and body; filters by since', async () => {
    const t = await googleToken();
    const before = (await ctl('GET', 'requests')).requests.at(-1).seq;
    await call('POST', gEvents(), { token: t.access, body: { id: 'rec001', start: { dateTime: '2026-03-10T10:00:00Z' }, end: { dateTime: '2026-03-10T11:00:00Z' } } });
    await call('GET', `${gEvents()}?singleEvents=true&maxResults=5`, { token: t.access });
    const sent = (await ctl('GET', `requests?since=${before}`)).requests;
    assert.deepEqual(sent.map((r) => [r.method, r.path, r.status]), [['POST', '/google/calendar/v3/calendars/primary/events', 200], ['GET', '/google/calendar/v3/calendars/primary/events', 200]]);
    assert.equal(sent[0].body.id, 'rec001');
    assert.equal(sent[0].headers.authorization, `Bearer ${t.access}`);
    assert.deepEqual(sent[1].query, { singleEvents: 'true', maxResults: '5' });
    assert.equal((await ctl('GET', `requests?since=${before}&method=post`)).requests.length, 1);
    assert.deepEqual((await ctl('GET', `requests?since=${before}&limit=1`)).requests.map((r) => r.method), ['GET']);
    await ctl('DELETE', 'requests');
    assert.equal((await ctl('GET', 'requests')).requests.length, 0);
});

/* ---- Microsoft ---- */

test('microsoft refresh rotates the refresh token; with old tokens invalid the old one is invalid_grant', async () => {
    const g = await graphToken();
    const r1 = g.tokenResponse;
    assert.equal(r1.token_type, 'Bearer');
    assert.equal(r1.expires_in, 3599);
    assert.ok(r1.refresh_token && r1.refresh_token !== g.refresh_token, 'a new refresh token');
    const tokenUrl = `${urls.microsoft_login_url}/common/oauth2/v2.0/token`;
    const again = await call('POST', tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: g.refresh_token, client_id: 'app' } });
    assert.equal(again.status, 200, 'by default the old one still works (as Graph documents)');
    await ctl('POST', 'config', { microsoft_old_refresh_token_valid: false });
    const old = await call('POST', tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: g.refresh_token, client_id: 'app' } });
    assert.equal(old.status, 400);
    assert.equal(old.json.error, 'invalid_grant');
    const fresh = await call('POST', tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: again.json.refresh_token, client_id: 'app' } });
    assert.equal(fresh.status, 200);
    const wrongClient = await call('POST', tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: fresh.json.refresh_token, client_id: 'other' } });
    assert.equal(wrongClient.status, 400);
    assert.equal(wrongClient.json.error, 'unauthorized_client');
    await ctl('POST', 'oauth/revoke', { provider: 'microsoft', user: g.user });
    const revoked = await call('POST', tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: fresh.json.refresh_token, client_id: 'app' } });
    assert.equal(revoked.status, 400);
    assert.equal(revoked.json.error, 'invalid_grant');
    assert.deepEqual(revoked.json.error_codes, [50173]);
    assert.match(revoked.json.error_description, /^AADSTS50173: /);
    assert.ok(revoked.json.trace_id && revoked.json.correlation_id && revoked.json.timestamp);
    const api = await call('GET', `${urls.microsoft_graph_url}/me/events`, { token: g.access });
    assert.equal(api.status, 401);
    assert.equal(api.json.error.code, 'InvalidAuthenticationToken');
});

test('graph events: create 201 (transactionId retries do not duplicate), patch 200, delete 204, then 404 ErrorItemNotFound', async () => {
    const g = await graphToken();
    const base = `${urls.microsoft_graph_url}/me/events`;
    const body = { subject: 'Consultation', start: { dateTime: '2026-04-15T12:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-04-15T14:00:00', timeZone: 'Pacific Standard Time' }, showAs: 'busy', transactionId: 'booking-1' };
    const made = await call('POST', base, { token: g.access, body });
    assert.equal(made.status, 201, made.text);
    assert.ok(made.json.id);
    assert.match(made.json['@odata.etag'], /^W\/"/);
    assert.deepEqual(made.json.start, { dateTime: '2026-04-15T19:00:00.0000000', timeZone: 'UTC' });
    const retry = await call('POST', base, { token: g.access, body });
    assert.equal(retry.status, 201);
    assert.equal(retry.json.id, made.json.id, 'the same transactionId gives the same event');
    const patched = await call('PATCH', `${base}/${made.json.id}`, { token: g.access, headers: { Prefer: 'outlook.timezone="Europe/Berlin"' }, body: { start: { dateTime: '2026-04-15T20:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-04-15T21:00:00', timeZone: 'UTC' } } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.start, { dateTime: '2026-04-15T22:00:00.0000000', timeZone: 'Europe/Berlin' });
    assert.equal(patched.json.subject, 'Consultation');
    assert.equal((await call('DELETE', `${base}/${made.json.id}`, { token: g.access })).status, 204);
    const gone = await call('DELETE', `${base}/${made.json.id}`, { token: g.access });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'ErrorItemNotFound');
    assert.equal(gone.json.error.message, 'The specified object was not found in the store.');
    assert.ok(gone.json.error.innerError['request-id']);
    const bad = await call('POST', base, { token: g.access, body: { subject: 'x' } });
    assert.equal(bad.status, 400);
    const other = await graphToken('cid@outlook.test');
    assert.equal((await call('GET', `${urls.microsoft_graph_url}/users/${g.user}/events`, { token: other.access })).status, 403);
});

test('graph calendarView needs its window, pages with nextLink, and shows occurrences of a series', async () => {
    const g = await graphToken();
    await ctl('POST', 'microsoft/events', { user: g.user, events: [
        { subject: 'one', start: { dateTime: '2026-06-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-01T10:00:00', timeZone: 'UTC' } },
        { subject: 'weekly', start: { dateTime: '2026-06-01T12:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2026-06-01T13:00:00', timeZone: 'W. Europe Standard Time' },
            recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'numbered', startDate: '2026-06-01', numberOfOccurrences: 3 } } },
        { subject: 'free', showAs: 'free', isAllDay: true, start: { dateTime: '2026-06-02T00:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-03T00:00:00', timeZone: 'UTC' } },
    ] });
    const view = `${urls.microsoft_graph_url}/me/calendarView`;
    const missing = await call('GET', view, { token: g.access });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.code, 'ErrorInvalidParameter');
    const first = await call('GET', `${view}?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-07-01T00:00:00Z`, { token: g.access, headers: { Prefer: 'odata.maxpagesize=2' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('preference-applied'), 'odata.maxpagesize=2');
    assert.equal(first.json.value.length, 2);
    const second = await call('GET', first.json['@odata.nextLink'], { token: g.access });
    const third = await call('GET', second.json['@odata.nextLink'], { token: g.access });
    const all = [...first.json.value, ...second.json.value, ...third.json.value];
    assert.equal(third.json['@odata.nextLink'], undefined);
    assert.equal(all.length, 5);
    const occ = all.filter((e) => e.type === 'occurrence');
    assert.deepEqual(occ.map((e) => e.start.dateTime), ['2026-06-01T10:00:00.0000000', '2026-06-08T10:00:00.0000000', '2026-06-15T10:00:00.0000000']);
    assert.ok(occ.every((e) => e.seriesMasterId && e.subject === 'weekly'));
    assert.ok(!all.some((e) => e.type === 'seriesMaster'), 'no masters in a calendar view');
    const allDay = all.find((e) => e.subject === 'free');
    assert.equal(allDay.isAllDay, true);
    assert.equal(allDay.showAs, 'free');
});

test('graph delta: nextLink pages, deltaLink, then only changes with @removed; expiry 410 with Location', async () => {
    const g = await graphToken();
    const made = (await ctl('POST', 'microsoft/events', { user: g.user, events: [1, 2, 3, 4, 5].map((i) => ({ subject: `e${i}`, start: { dateTime: `2026-06-0${i}T09:00:00`, timeZone: 'UTC' }, end: { dateTime: `2026-06-0${i}T10:00:00`, timeZone: 'UTC' } })) })).events;
    const first = `${urls.microsoft_graph_url}/me/calendarView/delta?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-07-01T00:00:00Z`;
    const round = await graphRound(first, g.access, 'odata.maxpagesize=2');
    assert.equal(round.pages, 3);
    assert.deepEqual(round.value.map((e) => e.subject).sort(), ['e1', 'e2', 'e3', 'e4', 'e5']);
    assert.ok(round.value.every((e) => e['@odata.type'] === '#microsoft.graph.event'));
    assert.match(round.deltaLink, /\/me\/calendarView\/delta\?\$deltatoken=/);
    const quiet = await graphRound(round.deltaLink, g.access);
    assert.deepEqual(quiet.value, []);
    await ctl('POST', 'microsoft/events', { user: g.user, events: [
        { op: 'delete', id: made[0].id },
        { op: 'patch', id: made[1].id, subject: 'e2 moved' },
        { op: 'patch', id: made[2].id, start: { dateTime: '2026-08-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-08-01T10:00:00', timeZone: 'UTC' } },
        { subject: 'e6', start: { dateTime: '2026-06-20T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-20T10:00:00', timeZone: 'UTC' } },
    ] });
    const changes = await graphRound(quiet.deltaLink, g.access);
    const byId = Object.fromEntries(changes.value.map((e) => [e.id, e]));
    assert.deepEqual(byId[made[0].id], { '@odata.type': '#microsoft.graph.event', id: made[0].id, '@removed': { reason: 'deleted' } });
    assert.equal(byId[made[1].id].subject, 'e2 moved');
    assert.deepEqual(byId[made[2].id]['@removed'], { reason: 'deleted' }, 'moved out of the window');
    assert.ok(changes.value.some((e) => e.subject === 'e6'));
    assert.equal(changes.value.length, 4);
    await ctl('POST', 'expire-sync-tokens', { provider: 'microsoft' });
    const gone = await call('GET', changes.deltaLink, { token: g.access });
    assert.equal(gone.status, 410);
    assert.equal(gone.json.error.code, 'resyncRequired');
    assert.match(gone.headers.get('location'), /calendarView\/delta\?\$deltatoken=$/);
    const fresh = await graphRound(first, g.access);
    await ctl('POST', 'expire-sync-tokens', { provider: 'microsoft', mode: 'syncStateNotFound' });
    const notFound = await call('GET', fresh.deltaLink, { token: g.access });
    assert.equal(notFound.status, 400);
    assert.equal(notFound.json.error.code, 'syncStateNotFound');
});

test('graph subscriptions: the validationToken handshake, change notifications with clientState, renewal, delete', async () => {
    const g = await graphToken();
    const hook = await receiver((req) => {
        const u = new URL(req.url, 'http://x');
        if (u.searchParams.has('validationToken')) return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: u.searchParams.get('validationToken') };
        return { status: 202 };
    });
    const refusing = await receiver(() => ({ status: 200, body: 'wrong' }));
    try {
        const exp = new Date(Date.now() + 86400000).toISOString();
        const subs = `${urls.microsoft_graph_url}/subscriptions`;
        const refused = await call('POST', subs, { token: g.access, body: { changeType: 'created,updated,deleted', notificationUrl: refusing.url, resource: '/me/events', expirationDateTime: exp, clientState: 's3cret' } });
        assert.equal(refused.status, 400, 'a failed handshake creates nothing');
        const tooLong = await call('POST', subs, { token: g.access, body: { changeType: 'created', notificationUrl: hook.url, resource: '/me/events', expirationDateTime: new Date(Date.now() + 11000 * 60000).toISOString() } });
        assert.equal(tooLong.status, 400);
        const made = await call('POST', subs, { token: g.access, body: { changeType: 'created,updated,deleted', notificationUrl: hook.url, resource: '/me/events', expirationDateTime: exp, clientState: 's3cret' } });
        assert.equal(made.status, 201, made.text);
        assert.equal(made.json.clientState, 's3cret');
        assert.equal(hook.got.length, 1);
        assert.match(hook.got[0].url, /\?validationToken=/);
        assert.match(hook.got[0].headers['content-type'], /^text\/plain/);
        const ev = (await ctl('POST', 'microsoft/events', { user: g.user, events: [{ subject: 'n', start: { dateTime: '2026-06-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-01T10:00:00', timeZone: 'UTC' } }] })).events[0];
        await until('a notification', () => hook.got.length >= 2);
        const note = JSON.parse(hook.got[1].body).value[0];
        assert.equal(note.subscriptionId, made.json.id);
        assert.equal(note.clientState, 's3cret');
        assert.equal(note.changeType, 'created');
        assert.equal(note.resourceData.id, ev.id);
        assert.equal(note.resourceData['@odata.type'], '#Microsoft.Graph.Event');
        await ctl('POST', 'microsoft/events', { user: g.user, events: [{ op: 'delete', id: ev.id }] });
        await until('a deleted notification', () => hook.got.length >= 3);
        assert.equal(JSON.parse(hook.got[2].body).value[0].changeType, 'deleted');
        const later = new Date(Date.now() + 2 * 86400000).toISOString();
        const renewed = await call('PATCH', `${subs}/${made.json.id}`, { token: g.access, body: { expirationDateTime: later } });
        assert.equal(renewed.status, 200);
        assert.equal(Date.parse(renewed.json.expirationDateTime), Date.parse(later));
        assert.equal((await call('DELETE', `${subs}/${made.json.id}`, { token: g.access })).status, 204);
        assert.equal((await call('GET', `${subs}/${made.json.id}`, { token: g.access })).status, 404);
    } finally {
        hook.server.close();
        refusing.server.close();
    }
});

test('graph 429 carries Retry-After and Graph\'s throttling body', async () => {
    const g = await graphToken();
    await ctl('POST', 'fail', { provider: 'microsoft', path: '/microsoft/v1.0/me/calendarView/delta', status: 429, retry_after: 2.128 });
    const r = await call('GET', `${urls.microsoft_graph_url}/me/calendarView/delta?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-07-01T00:00:00Z`, { token: g.access });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '2.128');
    assert.equal(r.json.error.code, 'TooManyRequests');
    assert.equal(r.json.error.innerError.status, '429');
});

/* ---- Cal.com ---- */

async function calcomSetup() {
    const user = await ctl('POST', 'calcom/users', { username: 'dana', email: 'dana@cal.test', name: 'Dana', timeZone: 'Europe/Berlin' });
    const et = await ctl('POST', 'calcom/event-types', { user: user.username, slug: 'checkup', title: 'Checkup', length: 30 });
    return { user, et };
}

const calHeaders = { 'cal-api-version': '2024-08-13' };

test('cal.com bookings: create 201, list with filters and pagination, reschedule 201 with a new uid, cancel 200', async () => {
    const { user, et } = await calcomSetup();
    const start = iso(future(5));
    const made = await call('POST', `${urls.calcom_api_url}/bookings`, { token: user.api_key, headers: calHeaders, body: { start, eventTypeId: et.id, attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'Europe/Berlin' }, metadata: { slotd_booking: 'b-1' } } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.status, 'success');
    const b = made.json.data;
    assert.equal(b.status, 'accepted');
    assert.equal(b.duration, 30);
    assert.equal(Date.parse(b.end) - Date.parse(b.start), 30 * 60000);
    assert.deepEqual(b.metadata, { slotd_booking: 'b-1' });
    for (const k of ['id', 'uid', 'title', 'description', 'hosts', 'status', 'start', 'end', 'duration', 'eventTypeId', 'eventType', 'location', 'absentHost', 'createdAt', 'updatedAt', 'attendees', 'bookingFieldsResponses']) assert.ok(k in b, k);
    const clash = await call('POST', `${urls.calcom_api_url}/bookings`, { token: user.api_key, headers: calHeaders, body: { start, eventTypeId: et.id, attendee: { name: 'Al', timeZone: 'UTC' } } });
    assert.equal(clash.status, 400);
    assert.equal(clash.json.status, 'error');
    assert.equal(clash.json.error.message, 'User either already has booking at this time or is not available');
    const past = await call('POST', `${urls.calcom_api_url}/bookings`, { headers: calHeaders, body: { start: '2020-01-01T10:00:00Z', eventTypeId: et.id, attendee: { name: 'Al', timeZone: 'UTC' } } });
    assert.equal(past.json.error.message, 'Attempting to book a meeting in the past.');
    await ctl('POST', 'calcom/bookings', { bookings: [{ eventTypeId: et.id, start: iso(future(6)), attendee: { name: 'Walk', timeZone: 'UTC' } }, { eventTypeId: et.id, start: iso(future(7)), attendee: { name: 'In', timeZone: 'UTC' } }] });
    const page = await call('GET', `${urls.calcom_api_url}/bookings?status=upcoming&take=2`, { token: user.api_key, headers: calHeaders });
    assert.equal(page.status, 200);
    assert.equal(page.json.data.length, 2);
    assert.deepEqual(page.json.pagination, { totalItems: 3, remainingItems: 1, returnedItems: 2, itemsPerPage: 2, currentPage: 1, totalPages: 2, hasNextPage: true, hasPreviousPage: false });
    const moved = await call('POST', `${urls.calcom_api_url}/bookings/${b.uid}/reschedule`, { token: user.api_key, headers: calHeaders, body: { start: iso(future(9)), reschedulingReason: 'moved' } });
    assert.equal(moved.status, 201, moved.text);
    assert.notEqual(moved.json.data.uid, b.uid);
    assert.equal(moved.json.data.rescheduledFromUid, b.uid);
    const old = await call('GET', `${urls.calcom_api_url}/bookings/${b.uid}`, { token: user.api_key, headers: calHeaders });
    assert.equal(old.json.data.status, 'cancelled');
    assert.equal(old.json.data.rescheduledToUid, moved.json.data.uid);
    const cancelled = await call('POST', `${urls.calcom_api_url}/bookings/${moved.json.data.uid}/cancel`, { token: user.api_key, headers: calHeaders, body: { cancellationReason: 'ill' } });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.json.data.status, 'cancelled');
    assert.equal(cancelled.json.data.cancellationReason, 'ill');
    const twice = await call('POST', `${urls.calcom_api_url}/bookings/${moved.json.data.uid}/cancel`, { token: user.api_key, headers: calHeaders, body: {} });
    assert.equal(twice.status, 400);
    const gone = await call('GET', `${urls.calcom_api_url}/bookings?status=cancelled`, { token: user.api_key, headers: calHeaders });
    assert.equal(gone.json.data.length, 2);
    assert.equal((await call('GET', `${urls.calcom_api_url}/bookings/nope`, { token: user.api_key, headers: calHeaders })).status, 404);
});

test('cal.com refuses a missing or wrong API key (401) and a missing cal-api-version (400), in its error envelope', async () => {
    const { user } = await calcomSetup();
    const noKey = await call('GET', `${urls.calcom_api_url}/bookings`, { headers: calHeaders });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.status, 'error');
    assert.equal(noKey.json.error.code, 'UnauthorizedException');
    assert.equal(noKey.json.path, '/v2/bookings');
    assert.ok(noKey.json.timestamp);
    assert.ok(noKey.headers.get('x-request-id'));
    assert.equal((await call('GET', `${urls.calcom_api_url}/bookings`, { token: 'cal_wrong', headers: calHeaders })).status, 401);
    assert.equal((await call('GET', `${urls.calcom_api_url}/bookings`, { token: user.api_key })).status, 400);
    const other = await ctl('POST', 'calcom/users', { username: 'eve' });
    const list = await call('GET', `${urls.calcom_api_url}/bookings`, { token: other.api_key, headers: calHeaders });
    assert.deepEqual(list.json.data, [], 'another user sees none of dana\'s bookings');
});

test('cal.com webhooks are signed with X-Cal-Signature-256 (HMAC-SHA256 hex of the raw body) or no-secret-provided', async () => {
    const { user, et } = await calcomSetup();
    const hook = await receiver();
    try {
        await ctl('POST', 'calcom/webhooks', { user: user.username, subscriberUrl: hook.url, secret: 'whsec' });
        const viaApi = await call('POST', `${urls.calcom_api_url}/webhooks`, { token: user.api_key, body: { active: true, subscriberUrl: `${hook.url}?plain`, triggers: ['BOOKING_CANCELLED'] } });
        assert.equal(viaApi.status, 201, viaApi.text);
        const made = (await ctl('POST', 'calcom/bookings', { bookings: [{ eventTypeId: et.id, start: iso(future(4)), attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'UTC' } }] })).bookings[0];
        await until('BOOKING_CREATED', () => hook.got.length >= 1);
        const created = hook.got[0];
        assert.equal(created.headers['x-cal-signature-256'], crypto.createHmac('sha256', 'whsec').update(created.body).digest('hex'));
        const body = JSON.parse(created.body);
        assert.equal(body.triggerEvent, 'BOOKING_CREATED');
        assert.equal(body.payload.uid, made.uid);
        assert.equal(body.payload.bookingId, made.id);
        assert.equal(body.payload.organizer.email, 'dana@cal.test');
        assert.equal(body.payload.status, 'ACCEPTED');
        assert.equal(body.payload.startTime, made.start.replace('.000Z', 'Z'));
        await ctl('POST', 'calcom/bookings', { bookings: [{ op: 'cancel', uid: made.uid, cancellationReason: 'no' }] });
        await until('two BOOKING_CANCELLED', () => hook.got.length >= 3);
        const plain = hook.got.find((g) => g.url.endsWith('?plain'));
        assert.equal(plain.headers['x-cal-signature-256'], 'no-secret-provided');
        assert.equal(JSON.parse(plain.body).triggerEvent, 'BOOKING_CANCELLED');
        assert.equal(JSON.parse(plain.body).payload.cancellationReason, 'no');
    } finally {
        hook.server.close();
    }
});

test('access tokens expire after the configured expires_in', async () => {
    await ctl('POST', 'config', { google_access_token_ttl_seconds: 1 });
    const t = await googleToken();
    assert.equal(t.tokenResponse.expires_in, 1);
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call('GET', gEvents(), { token: t.access })).status, 401);
    const unsupported = await call('POST', urls.google_token_url, { form: { grant_type: 'authorization_code', code: 'x' } });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.json.error, 'unsupported_grant_type');
    const noClient = await call('POST', `${urls.microsoft_login_url}/common/oauth2/v2.0/token`, { form: { grant_type: 'refresh_token', refresh_token: 'x' } });
    assert.equal(noClient.status, 400);
    assert.equal(noClient.json.error, 'invalid_request');
});

test('google singleEvents=false lists the master and its cancelled exceptions; showDeleted adds deleted events', async () => {
    const t = await googleToken();
    await ctl('POST', 'google/events', { calendar: t.user, events: [
        { id: 'master01', start: { dateTime: '2026-09-01T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-09-01T11:00:00', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] },
        { id: 'single01', start: { dateTime: '2026-09-05T10:00:00Z' }, end: { dateTime: '2026-09-05T11:00:00Z' } },
    ] });
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'delete', id: 'master01_20260902T100000Z' }, { op: 'delete', id: 'single01' }] });
    const plain = await googleAll(gEvents(), t.access);
    assert.deepEqual(plain.items.map((e) => [e.id, e.status]), [['master01', 'confirmed'], ['master01_20260902T100000Z', 'cancelled']]);
    assert.equal(plain.items[1].recurringEventId, 'master01');
    assert.equal(plain.items[1].originalStartTime.dateTime, '2026-09-02T10:00:00Z');
    const all = await googleAll(`${gEvents()}?showDeleted=true`, t.access);
    assert.deepEqual(all.items.map((e) => e.id).sort(), ['master01', 'master01_20260902T100000Z', 'single01']);
    const byUpdate = await googleAll(`${gEvents()}?showDeleted=true&orderBy=updated`, t.access);
    assert.deepEqual(byUpdate.items.map((e) => e.id), ['master01', 'master01_20260902T100000Z', 'single01']);
    await ctl('POST', 'google/events', { calendar: t.user, events: [{ op: 'delete', id: 'master01' }] });
    const inc = await googleAll(`${gEvents()}?singleEvents=true&syncToken=${encodeURIComponent(all.nextSyncToken)}`, t.access);
    const cancelled = inc.items.filter((e) => e.status === 'cancelled').map((e) => e.id);
    assert.equal(cancelled.length, inc.items.length, 'a deleted series cancels its instances');
    assert.ok(cancelled.includes('master01_20260901T100000Z') && cancelled.includes('master01_20260903T100000Z'));
});

test('graph series: a deleted occurrence and a shortened series come back as @removed in the next delta round', async () => {
    const g = await graphToken();
    const [master] = (await ctl('POST', 'microsoft/events', { user: g.user, events: [{
        subject: 'daily', start: { dateTime: '2026-06-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-01T09:30:00', timeZone: 'UTC' },
        recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'endDate', startDate: '2026-06-01', endDate: '2026-06-04' } },
    }] })).events;
    const first = `${urls.microsoft_graph_url}/me/calendarView/delta?startDateTime=2026-06-01T00:00:00Z&endDateTime=2026-07-01T00:00:00Z`;
    const round = await graphRound(first, g.access);
    assert.deepEqual(round.value.map((e) => e.start.dateTime), ['2026-06-01T09:00:00.0000000', '2026-06-02T09:00:00.0000000', '2026-06-03T09:00:00.0000000', '2026-06-04T09:00:00.0000000']);
    const ids = round.value.map((e) => e.id);
    assert.ok(round.value.every((e) => e.type === 'occurrence' && e.seriesMasterId === master.id));
    const del = await call('DELETE', `${urls.microsoft_graph_url}/me/events/${ids[1]}`, { token: g.access });
    assert.equal(del.status, 204);
    const moved = await call('PATCH', `${urls.microsoft_graph_url}/me/events/${ids[2]}`, { token: g.access, body: { subject: 'later', start: { dateTime: '2026-06-03T15:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-06-03T15:30:00', timeZone: 'UTC' } } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.type, 'exception');
    const changes = await graphRound(round.deltaLink, g.access);
    const byId = Object.fromEntries(changes.value.map((e) => [e.id, e]));
    assert.deepEqual(byId[ids[1]]['@removed'], { reason: 'deleted' });
    assert.equal(byId[ids[2]].start.dateTime, '2026-06-03T15:00:00.0000000');
    assert.equal(changes.value.length, 2);
    await ctl('POST', 'microsoft/events', { user: g.user, events: [{ op: 'patch', id: master.id, recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2026-06-01', numberOfOccurrences: 1 } } }] });
    const shortened = await graphRound(changes.deltaLink, g.access);
    const removed = shortened.value.filter((e) => e['@removed']).map((e) => e.id);
    assert.ok(removed.includes(ids[3]), 'the occurrence the series no longer has');
    assert.ok(shortened.value.some((e) => e.id === ids[0] && !e['@removed']));
});

test('cal.com page size setting caps take; skip pages on', async () => {
    const { user, et } = await calcomSetup();
    await ctl('POST', 'config', { calcom_page_size: 2 });
    await ctl('POST', 'calcom/bookings', { bookings: [1, 2, 3, 4, 5].map((i) => ({ eventTypeId: et.id, start: iso(future(i)) })) });
    const seen = [];
    for (let skip = 0; ; skip += 2) {
        const r = await call('GET', `${urls.calcom_api_url}/bookings?skip=${skip}`, { token: user.api_key, headers: calHeaders });
        assert.equal(r.status, 200);
        seen.push(...r.json.data.map((b) => b.start));
        if (!r.json.pagination.hasNextPage) break;
    }
    assert.equal(seen.length, 5);
    assert.deepEqual(seen, [...seen].sort(), 'by start, ascending');
    assert.equal((await call('GET', `${urls.calcom_api_url}/bookings?take=0`, { token: user.api_key, headers: calHeaders })).status, 400);
});

/* ---- ICS feeds ---- */

const FEED = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fake//EN\r\nBEGIN:VEVENT\r\nUID:a@fake\r\nDTSTAMP:20260101T000000Z\r\n' +
    'DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:Zażółć – ünïcode\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

/** PUT /_fake/ics/{name}?query with `bytes` (a string or Buffer); returns the answer. */
async function putFeed(name, bytes, query = '', type = 'text/plain') {
    const res = await fetch(`${urls.base}/_fake/ics/${encodeURIComponent(name)}${query}`, { method: 'PUT', headers: { 'Content-Type': type }, body: bytes });
    return { status: res.status, json: await res.json() };
}

async function getFeed(name, headers = {}, query = '') {
    const res = await fetch(`${urls.ics_url}/${encodeURIComponent(name)}${query}`, { headers });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

test('ics: a feed is served byte for byte with a strong ETag, Last-Modified and text/calendar; If-None-Match gives 304', async () => {
    const put = await putFeed('clinic', FEED);
    assert.equal(put.status, 201);
    const etag = `"${crypto.createHash('sha1').update(Buffer.from(FEED)).digest('hex')}"`;
    assert.equal(put.json.etag, etag);
    assert.equal(put.json.bytes, Buffer.byteLength(FEED));
    assert.match(put.json.last_modified, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.ok(Math.abs(Date.parse(put.json.last_modified) - Date.now()) < 5000);
    const first = await getFeed('clinic', {}, '?key=secret');
    assert.equal(first.status, 200);
    assert.ok(first.bytes.equals(Buffer.from(FEED)), 'the exact bytes');
    assert.equal(first.headers.get('etag'), etag);
    assert.equal(first.headers.get('last-modified'), put.json.last_modified);
    assert.equal(first.headers.get('content-type'), 'text/calendar; charset=utf-8');
    assert.equal(first.headers.get('content-length'), String(Buffer.byteLength(FEED)));
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const again = await getFeed('clinic', { 'If-None-Match': inm });
        assert.equal(again.status, 304, inm);
        assert.equal(again.bytes.length, 0);
        assert.equal(again.headers.get('etag'), etag);
    }
    assert.equal((await getFeed('clinic', { 'If-None-Match': '"other"' })).status, 200);
    assert.equal((await getFeed('nope')).status, 404);
    const state = await ctl('GET', 'ics/clinic');
    assert.deepEqual([state.gets, state.not_modified], [6, 4]);
    const sent = (await ctl('GET', 'requests?provider=ics')).requests;
    assert.deepEqual(sent.map((r) => [r.method, r.path, r.status]).slice(0, 2), [['GET', '/ics/clinic', 200], ['GET', '/ics/clinic', 304]]);
    assert.deepEqual(sent[0].query, { key: 'secret' });
    assert.equal(sent[0].headers['if-none-match'], undefined);
    assert.equal(sent[1].headers['if-none-match'], etag);
    assert.equal(sent.at(-1).status, 404);
});

test('ics: If-Modified-Since at or after Last-Modified gives 304 when no If-None-Match is sent', async () => {
    await putFeed('lm', FEED, '?etag=0&last_modified=Tue,%2010%20Mar%202026%2009:00:00%20GMT');
    const first = await getFeed('lm');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('etag'), null, 'etag=0: no ETag');
    const lm = first.headers.get('last-modified');
    assert.equal(lm, 'Tue, 10 Mar 2026 09:00:00 GMT');
    assert.equal((await getFeed('lm', { 'If-Modified-Since': lm })).status, 304);
    assert.equal((await getFeed('lm', { 'If-Modified-Since': 'Wed, 11 Mar 2026 00:00:00 GMT' })).status, 304);
    assert.equal((await getFeed('lm', { 'If-Modified-Since': 'Tue, 10 Mar 2026 08:59:59 GMT' })).status, 200);
    assert.equal((await getFeed('lm', { 'If-Modified-Since': 'not a date' })).status, 200);
    assert.equal((await getFeed('lm', { 'If-None-Match': '"x"', 'If-Modified-Since': lm })).status, 200, 'If-None-Match decides alone');
    await putFeed('lm', FEED, '?last_modified=0');
    const none = await getFeed('lm', { 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' });
    assert.equal(none.status, 200, 'no Last-Modified: no 304 by date');
    assert.equal(none.headers.get('last-modified'), null);
    assert.ok(none.headers.get('etag'));
    const sent = (await ctl('GET', 'requests?provider=ics')).requests;
    assert.equal(sent[1].headers['if-modified-since'], lm);
});

test('ics: replacing a feed gives a new ETag and body (the counts go on); delete makes it 404', async () => {
    const a = (await putFeed('r', FEED)).json;
    await getFeed('r');
    const changed = FEED.replace('a@fake', 'b@fake');
    const put = await putFeed('r', changed, '', 'application/octet-stream');
    assert.equal(put.status, 200);
    assert.notEqual(put.json.etag, a.etag);
    const got = await getFeed('r', { 'If-None-Match': a.etag });
    assert.equal(got.status, 200, 'the old ETag no longer matches');
    assert.equal(got.bytes.toString(), changed);
    assert.equal(got.headers.get('etag'), put.json.etag);
    assert.equal((await getFeed('r', { 'If-None-Match': put.json.etag })).status, 304);
    assert.deepEqual([(await ctl('GET', 'ics/r')).gets, (await ctl('GET', 'ics/r')).not_modified], [3, 1]);
    assert.deepEqual(Object.keys((await ctl('GET', 'ics')).feeds), ['r']);
    assert.deepEqual(await ctl('DELETE', 'ics/r'), { deleted: 'r' });
    assert.equal((await getFeed('r')).status, 404);
    assert.equal((await call('GET', `${urls.base}/_fake/ics/r`)).status, 404);
    assert.equal((await call('DELETE', `${urls.base}/_fake/ics/r`)).status, 404);
    await putFeed('gone', FEED);
    await ctl('POST', 'reset');
    assert.equal((await getFeed('gone')).status, 404, 'a reset forgets the feeds');
});

test('ics: injected status, delay and content type; bad options are 400; /_fake/fail applies to feeds', async () => {
    await putFeed('down', FEED, '?status=500');
    const down = await getFeed('down', {});
    assert.equal(down.status, 500);
    assert.ok(down.bytes.length > 0 && down.bytes.length < 100);
    assert.equal((await getFeed('down')).status, 500);
    await putFeed('down', FEED, '?status=404');
    assert.equal((await getFeed('down')).status, 404);
    assert.equal((await ctl('GET', 'ics/down')).gets, 3);
    await putFeed('down', FEED);
    assert.equal((await getFeed('down')).status, 200, 'a PUT without status serves again');
    await putFeed('slow', FEED, '?delay_ms=300&content_type=text/plain');
    const started = Date.now();
    const slow = await getFeed('slow');
    assert.ok(Date.now() - started >= 280, 'delayed');
    assert.equal(slow.status, 200);
    assert.equal(slow.headers.get('content-type'), 'text/plain');
    for (const q of ['?status=abc', '?status=99', '?delay_ms=-1', '?last_modified=soon']) {
        const r = await call('PUT', `${urls.base}/_fake/ics/bad${q}`, { body: 'x' });
        assert.equal(r.status, 400, q);
        assert.ok(r.json.error);
    }
    assert.equal((await call('GET', `${urls.base}/_fake/ics/bad`)).status, 404, 'a refused PUT sets nothing');
    await ctl('POST', 'fail', { provider: 'ics', status: 503, retry_after: 2 });
    const failed = await getFeed('down');
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get('retry-after'), '2');
    assert.equal((await getFeed('down')).status, 200);
});

test('ics: a feed of 40 MB streams whole', async () => {
    const line = 'DESCRIPTION:' + 'x'.repeat(60) + '\r\n';
    const big = Buffer.from(line.repeat(Math.ceil(40 * 1024 * 1024 / line.length)));
    assert.equal((await putFeed('big', big)).json.bytes, big.length);
    const got = await getFeed('big');
    assert.equal(got.status, 200);
    assert.equal(got.bytes.length, big.length);
    assert.ok(got.bytes.equals(big));
});
