'use strict';
/*
 * Google Calendar API v3 (events list/get/insert/patch/update/delete, watch,
 * channels.stop) and Google's OAuth token endpoint, as the reference
 * describes them; served under /google/calendar/v3 and /google/token.
 *
 * A calendar belongs to one user: `primary` is the calendar whose id is the
 * user's e-mail; any other id must be a calendar of that user (else 404, as
 * Google answers for a calendar one cannot see). Events keep Google's fields as
 * the client sent them plus the server's (kind, etag, created, updated, iCalUID,
 * sequence, organizer, creator); a delete keeps a tombstone that lists and
 * incremental syncs show as {"kind","etag","id","status":"cancelled"}.
 */
const crypto = require('crypto');
const time = require('./time.js');
const cal = require('./calendar.js');
const { Calendar } = cal;
const { randomToken } = require('./core.js');

const ID = /^[a-v0-9]{5,1024}$/;
const SYNC_RESTRICTED = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin'];

function error(status, reason, message, extra = {}) {
    const domain = extra.domain || (['fullSyncRequired', 'updatedMinTooLongAgo', 'timeRangeEmpty', 'missingTimeZone'].includes(reason) ? 'calendar' : 'global');
    const item = { domain, reason, message };
    if (extra.location) {
        item.locationType = extra.locationType || 'parameter';
        item.location = extra.location;
    }
    const headers = extra.headers || {};
    return { status, headers, body: { error: { errors: [item], code: status, message } } };
}

/** Google's error for a status the test injects (reason chosen by the test or the usual one). */
function injected(status, reason) {
    const usual = {
        400: ['badRequest', 'Bad Request'], 401: ['authError', 'Invalid Credentials'],
        403: ['rateLimitExceeded', 'Rate Limit Exceeded'], 404: ['notFound', 'Not Found'],
        409: ['duplicate', 'The requested identifier already exists.'],
        410: ['fullSyncRequired', 'Sync token is no longer valid, a full sync is required.'],
        412: ['conditionNotMet', 'Precondition Failed'], 429: ['rateLimitExceeded', 'Rate Limit Exceeded'],
        500: ['backendError', 'Backend Error'], 503: ['backendError', 'Backend Error'],
    };
    const messages = {
        userRateLimitExceeded: 'User Rate Limit Exceeded', rateLimitExceeded: 'Rate Limit Exceeded',
        quotaExceeded: 'Calendar usage limits exceeded.', backendError: 'Backend Error',
    };
    const [r, m] = usual[status] || ['backendError', 'Backend Error'];
    const domain = ['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded'].includes(reason || r) ? 'usageLimits' : undefined;
    return error(status, reason || r, messages[reason] || m, { domain });
}

const adapter = {
    timing(e, c) {
        return timing(e, c);
    },
    masterOf(e) {
        return e.recurringEventId || null;
    },
    instanceId(masterId, key) {
        return `${masterId}_${key}`;
    },
};

class BadEvent extends Error {
    constructor(reason, message, location) {
        super(message);
        this.reason = reason;
        this.location = location;
    }
}

/** The time of a Google event resource, or throws BadEvent. */
function timing(e, c) {
    const s = e.start;
    const en = e.end;
    if (!s || typeof s !== 'object') throw new BadEvent('required', 'Missing start time.', 'start');
    if (!en || typeof en !== 'object') throw new BadEvent('required', 'Missing end time.', 'end');
    const recurring = Array.isArray(e.recurrence) && e.recurrence.length > 0;
    let t;
    if (s.date !== undefined || en.date !== undefined) {
        const a = time.parseDate(s.date);
        const b = time.parseDate(en.date);
        if (!a || !b) throw new BadEvent('invalid', 'Invalid start or end date.', a ? 'end.date' : 'start.date');
        const days = Math.round((time.fieldsAsUtc(b) - time.fieldsAsUtc(a)) / time.DAY_MS);
        if (days <= 0) throw new BadEvent('timeRangeEmpty', 'The specified time range is empty.', 'end');
        const zone = c.timeZone;
        t = { allDay: true, start: a, zone, days, startMs: time.localToUtc(a, zone), endMs: time.localToUtc(b, zone) };
    } else {
        for (const [name, v] of [['start', s], ['end', en]]) {
            if (v.timeZone !== undefined && !time.validZone(v.timeZone)) throw new BadEvent('invalid', `Invalid time zone definition for ${name} time.`, `${name}.timeZone`);
        }
        if (recurring && !s.timeZone) throw new BadEvent('missingTimeZone', 'Missing time zone definition for start time.', 'start.timeZone');
        const a = time.parseDateTime(s.dateTime, s.timeZone);
        const b = time.parseDateTime(en.dateTime, en.timeZone || s.timeZone);
        if (a === null) throw new BadEvent('invalid', 'Invalid start time.', 'start.dateTime');
        if (b === null) throw new BadEvent('invalid', 'Invalid end time.', 'end.dateTime');
        if (b < a) throw new BadEvent('timeRangeEmpty', 'The specified time range is empty.', 'end');
        const zone = s.timeZone || c.timeZone;
        t = { allDay: false, start: time.utcToLocal(a, zone), zone, duration: b - a, startMs: a, endMs: b };
    }
    t.rule = null;
    t.exdates = new Set();
    t.rdates = new Set();
    if (recurring) {
        for (const line of e.recurrence) {
            const head = String(line).split(/[;:]/)[0].toUpperCase();
            try {
                if (head === 'RRULE') {
                    if (t.rule) throw new Error('only one RRULE is supported');
                    t.rule = time.parseRule(String(line).slice(6));
                } else if (head === 'EXDATE') {
                    for (const k of time.parseDateList(String(line), t.allDay, t.zone)) t.exdates.add(k);
                } else if (head === 'RDATE') {
                    for (const k of time.parseDateList(String(line), t.allDay, t.zone)) t.rdates.add(k);
                } else {
                    throw new Error(`${head} is not supported`);
                }
            } catch (err) {
                throw new BadEvent('invalid', `Invalid recurrence rule: ${err.message}.`, 'recurrence');
            }
        }
        if (!t.rule) t.rule = { freq: 'DAILY', interval: 1, count: 1 };
    }
    return t;
}

const horizon = (fake) => cal.horizon(fake);

function stamp(fake, e, rev) {
    const last = e.updated ? Date.parse(e.updated) : 0;
    const now = Math.max(fake.now(), last + 1);
    e.updated = time.isoMs(now);
    e._rev = rev;
    e.etag = `"${now * 1000 + (rev % 1000)}"`;
}

/* ---- rendering ---- */

function publicFields(e) {
    const out = {};
    for (const [k, v] of Object.entries(e)) if (k[0] !== '_') out[k] = v;
    return out;
}

function eventTime(t, ms, fields) {
    if (t.allDay) return { date: time.dateString(fields) };
    const out = { dateTime: time.isoInZone(ms, t.zone) };
    if (t.zone) out.timeZone = t.zone;
    return out;
}

function render(c, view) {
    if (view.tombstone) return { kind: 'calendar#event', etag: `"${view.tombstone.rev}"`, id: view.tombstone.id, status: 'cancelled' };
    const e = view.event;
    if (view.deleted) {
        const out = { kind: 'calendar#event', etag: e.etag, id: e.id, status: 'cancelled' };
        if (e.recurringEventId) {
            out.recurringEventId = e.recurringEventId;
            out.originalStartTime = e.originalStartTime;
        }
        return out;
    }
    if (!view.instance) return publicFields(e);
    const t = cal.timingOf(adapter, c, view.master);
    const i = view.instance;
    const out = publicFields(view.master);
    delete out.recurrence;
    out.id = i.id;
    out.recurringEventId = view.master.id;
    out.start = { ...eventTime(t, i.startMs, i.local), ...(t.allDay ? {} : { timeZone: view.master.start.timeZone }) };
    const endFields = t.allDay ? time.addDays(i.local, t.days) : null;
    out.end = t.allDay ? { date: time.dateString(endFields) } : { dateTime: time.isoInZone(i.endMs, t.zone), timeZone: view.master.end.timeZone || view.master.start.timeZone };
    out.originalStartTime = { ...out.start };
    return out;
}

/* ---- calendars ---- */

/** The user's primary calendar (created on first use). */
function primaryOf(fake, user) {
    const cals = fake.state.google.calendars;
    if (!cals.has(user)) {
        cals.set(user, new Calendar({ id: user, owner: user, timeZone: 'UTC', isDefault: true }));
        fake.changed();
    }
    return cals.get(user);
}

function calendarFor(fake, user, rawId) {
    const id = decodeURIComponent(rawId);
    if (id === 'primary') return primaryOf(fake, user);
    const c = fake.state.google.calendars.get(id);
    return c && c.owner === user ? c : null;
}

/* ---- writes, shared by the API and the control routes ---- */

function checkIfMatch(req, e) {
    const want = req.headers['if-match'];
    if (want && want !== '*' && want !== e.etag) return error(412, 'conditionNotMet', 'Precondition Failed', { locationType: 'header', location: 'If-Match' });
    return null;
}

function validateOrThrow(e, c) {
    timing(e, c);
}

function notify(fake, c) {
    fake.coalesce(`google:${c.id}`, () => notifyChannels(fake, c));
}

/** Stores a changed event and records what its series no longer produces. */
function store(fake, c, before, e) {
    const rev = fake.nextRev();
    stamp(fake, e, rev);
    c.events.set(e.id, e);
    c.updated = fake.now();
    if ((before && before.recurrence) || e.recurrence) cal.recordSeriesChange(adapter, c, before, e, rev, horizon(fake));
    notify(fake, c);
    return e;
}

function newEvent(fake, c, body, user) {
    const id = body.id || crypto.randomBytes(13).toString('hex'); /* hex is base32hex too */
    const now = time.isoMs(fake.now());
    const e = {
        kind: 'calendar#event', etag: '', id, status: body.status || 'confirmed',
        htmlLink: `https://calendar.google.com/calendar/event?eid=${Buffer.from(id).toString('base64url')}`,
        created: now, updated: null,
        ...publicFields(body),
    };
    delete e.updated;
    e.kind = 'calendar#event';
    e.id = id;
    e.created = now;
    e.iCalUID = body.iCalUID || `${id}@google.com`;
    e.sequence = body.sequence || 0;
    e.creator = e.creator || { email: user, self: true };
    e.organizer = e.organizer || { email: c.id, self: true };
    e.eventType = e.eventType || 'default';
    e.reminders = e.reminders || { useDefault: true };
    return e;
}

/** Merges a patch into an event: objects merge, arrays and values replace, null removes. */
function merge(target, patch) {
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete target[k];
        else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] && !Array.isArray(target[k])) {
            target[k] = merge({ ...target[k] }, v);
        } else target[k] = v;
    }
    return target;
}

/** An instance of a series as an exception to store (the instance's current fields), or null. */
function exceptionFor(fake, c, id) {
    const m = /^(.+)_(\d{8}(?:T\d{6}Z)?)$/.exec(id);
    if (!m) return null;
    const master = c.events.get(m[1]);
    if (!master || master._deleted || !master.recurrence) return null;
    const t = cal.timingOf(adapter, c, master);
    if (!t) return null;
    const inst = cal.instancesOf(adapter, c, master, null, null, horizon(fake), 100000).find((i) => i.id === id);
    if (!inst) return null;
    const view = render(c, { event: master, instance: inst, master, deleted: false });
    delete view.etag;
    delete view.updated;
    return view;
}

/** The stored event of an id, making a stored exception of a series instance when asked for one. */
function findForWrite(fake, c, id) {
    const e = c.events.get(id);
    if (e) return e;
    const ex = exceptionFor(fake, c, id);
    if (!ex) return null;
    ex.created = time.isoMs(fake.now());
    return ex;
}

/* ---- the API ---- */

function listParams(q) {
    const p = {};
    for (const name of ['timeMin', 'timeMax', 'updatedMin']) {
        if (q.has(name)) {
            const v = time.parseDateTime(q.get(name), null);
            if (v === null) return { error: error(400, 'badRequest', 'Bad Request', { location: name }) };
            p[name] = v;
        }
    }
    if (p.timeMin !== undefined && p.timeMax !== undefined && p.timeMin >= p.timeMax) {
        return { error: error(400, 'timeRangeEmpty', 'The specified time range is empty.', { location: 'timeMax' }) };
    }
    p.singleEvents = q.get('singleEvents') === 'true';
    p.showDeleted = q.get('showDeleted') === 'true';
    p.orderBy = q.get('orderBy');
    if (p.orderBy && !['startTime', 'updated'].includes(p.orderBy)) return { error: error(400, 'invalid', `Invalid value for orderBy: ${p.orderBy}`, { location: 'orderBy' }) };
    if (p.orderBy === 'startTime' && !p.singleEvents) return { error: error(400, 'badRequest', 'The requested ordering is not available for the particular query.', { location: 'orderBy' }) };
    p.maxResults = 250;
    if (q.has('maxResults')) {
        const n = Number(q.get('maxResults'));
        if (!Number.isInteger(n) || n < 1) return { error: error(400, 'invalid', 'Invalid max results', { location: 'maxResults' }) };
        p.maxResults = Math.min(n, 2500);
    }
    return { params: p };
}

function listEvents(fake, req, c) {
    const q = req.query;
    const { params: p, error: bad } = listParams(q);
    if (bad) return bad;
    const pageSize = Math.min(p.maxResults, fake.config.google_page_size || Infinity);
    const syncToken = q.get('syncToken');
    let snapshot;
    if (syncToken !== null) {
        for (const name of SYNC_RESTRICTED) {
            if (q.has(name)) return error(400, 'invalid', 'Sync token cannot be used with other request restrictions.', { location: name, domain: 'global' });
        }
        if (q.get('showDeleted') === 'false') return error(400, 'invalid', 'Sync token cannot be used with other request restrictions.', { location: 'showDeleted' });
        const tok = fake.state.google.syncTokens.get(syncToken);
        if (!tok || tok.expired || tok.calendar !== c.id) {
            return error(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', { location: 'syncToken' });
        }
    }
    const pageToken = q.get('pageToken');
    if (pageToken !== null) {
        snapshot = fake.pages.get(pageToken);
        if (!snapshot || snapshot.provider !== 'google' || snapshot.calendar !== c.id) {
            return error(400, 'invalid', 'Invalid page token value.', { location: 'pageToken' });
        }
    } else {
        const rev = fake.state.rev;
        let views;
        if (syncToken !== null) {
            const tok = fake.state.google.syncTokens.get(syncToken);
            views = cal.changedSince(adapter, c, tok.rev, { expand: p.singleEvents, from: null, to: null, horizonMs: horizon(fake) });
        } else {
            views = cal.visible(adapter, c, {
                from: p.timeMin === undefined ? null : p.timeMin, to: p.timeMax === undefined ? null : p.timeMax,
                /* with updatedMin, entries deleted since then are always included */
                expand: p.singleEvents, includeDeleted: p.showDeleted || p.updatedMin !== undefined, cancelledExceptions: true, horizonMs: horizon(fake),
            });
            if (p.updatedMin !== undefined) views = views.filter((v) => (v.event.updated ? Date.parse(v.event.updated) >= p.updatedMin : true));
        }
        let rendered = views.map((v) => ({ rev: v.event._rev || 0, item: render(c, v) }));
        if (p.orderBy === 'startTime') rendered.sort((a, b) => startOf(a.item) - startOf(b.item));
        if (p.orderBy === 'updated') rendered.sort((a, b) => a.rev - b.rev); /* revisions follow update times */
        const items = rendered.map((r) => r.item);
        snapshot = { provider: 'google', calendar: c.id, items, offset: 0, rev, singleEvents: p.singleEvents };
    }
    const page = snapshot.items.slice(snapshot.offset, snapshot.offset + pageSize);
    const rest = snapshot.offset + pageSize;
    const body = {
        kind: 'calendar#events', etag: `"p${fake.state.rev}"`, summary: c.name, description: '',
        updated: time.isoMs(c.updated), timeZone: c.timeZone, accessRole: 'owner', defaultReminders: [],
    };
    if (rest < snapshot.items.length) {
        body.nextPageToken = fake.keepPage({ ...snapshot, offset: rest });
    } else {
        const token = randomToken('CPDAlvWDx70C', 12);
        fake.state.google.syncTokens.set(token, { calendar: c.id, rev: snapshot.rev, singleEvents: snapshot.singleEvents, expired: false });
        fake.changed();
        body.nextSyncToken = token;
    }
    body.items = page;
    return { status: 200, body };
}

function startOf(item) {
    if (!item.start) return 0;
    return item.start.dateTime ? Date.parse(item.start.dateTime) : Date.parse(`${item.start.date}T00:00:00Z`);
}

function insertEvent(fake, req, c, user) {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return error(400, 'parseError', 'Parse Error');
    if (body.id !== undefined && (typeof body.id !== 'string' || !ID.test(body.id))) return error(400, 'invalid', 'Invalid resource id value.', { location: 'id' });
    if (body.id !== undefined && c.events.has(body.id)) return error(409, 'duplicate', 'The requested identifier already exists.');
    const e = newEvent(fake, c, body, user);
    if (e.status === 'cancelled') e._deleted = true;
    try {
        validateOrThrow(e, c);
    } catch (err) {
        return badEvent(err);
    }
    return { status: 200, body: publicFields(store(fake, c, null, e)) };
}

function badEvent(err) {
    if (err instanceof BadEvent) return error(400, err.reason, err.message, { location: err.location });
    throw err;
}

function writeEvent(fake, req, c, id, mode) {
    const existing = findForWrite(fake, c, id);
    if (!existing) return error(404, 'notFound', 'Not Found');
    const pre = checkIfMatch(req, existing);
    if (pre) return pre;
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return error(400, 'parseError', 'Parse Error');
    if (body.id !== undefined && body.id !== id) return error(400, 'invalid', 'Invalid resource id value.', { location: 'id' });
    const before = c.events.get(id) || null;
    let e;
    if (mode === 'patch') {
        e = merge(JSON.parse(JSON.stringify(existing)), publicFields(body));
    } else {
        e = { ...publicFields(body) };
        for (const k of ['kind', 'id', 'created', 'iCalUID', 'creator', 'organizer', 'htmlLink', 'recurringEventId', 'originalStartTime', 'updated']) {
            if (existing[k] !== undefined) e[k] = existing[k];
        }
        e.status = body.status || 'confirmed';
        e.sequence = body.sequence !== undefined ? body.sequence : existing.sequence || 0;
    }
    e.id = id;
    if (e.status !== 'cancelled') delete e._deleted;
    else e._deleted = true;
    try {
        validateOrThrow(e, c);
    } catch (err) {
        return badEvent(err);
    }
    return { status: 200, body: publicFields(store(fake, c, before, e)) };
}

function deleteEvent(fake, req, c, id) {
    const existing = findForWrite(fake, c, id);
    if (!existing) return error(404, 'notFound', 'Not Found');
    if (existing._deleted || existing.status === 'cancelled') return error(410, 'deleted', 'Resource has been deleted');
    const pre = checkIfMatch(req, existing);
    if (pre) return pre;
    removeEvent(fake, c, existing);
    return { status: 204, body: null };
}

function removeEvent(fake, c, existing) {
    const before = c.events.get(existing.id) || null;
    const e = { ...existing, status: 'cancelled', _deleted: true };
    store(fake, c, before, e);
}

function getEvent(fake, c, id) {
    let e = c.events.get(id);
    if (e) return { status: 200, body: e._deleted ? { ...publicFields(e), status: 'cancelled' } : publicFields(e) };
    e = exceptionFor(fake, c, id);
    if (e) return { status: 200, body: { ...e, etag: c.events.get(e.recurringEventId).etag } };
    return error(404, 'notFound', 'Not Found');
}

function watch(fake, req, c, user) {
    const b = req.body;
    if (!b || typeof b !== 'object') return error(400, 'parseError', 'Parse Error');
    if (typeof b.id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(b.id)) return error(400, 'required', 'Channel id must match [A-Za-z0-9\\-_\\+/=]+', { location: 'id' });
    if (!['web_hook', 'webhook'].includes(b.type)) return error(400, 'invalid', `Invalid value for: ${b.type} is not a valid value`, { location: 'type' });
    if (typeof b.address !== 'string' || !/^https?:\/\//.test(b.address)) return error(400, 'invalid', 'Invalid value for: address', { location: 'address' });
    if (fake.state.google.channels.some((ch) => ch.id === b.id)) return error(400, 'channelIdNotUnique', `Channel id ${b.id} not unique`);
    const ttl = b.params && b.params.ttl !== undefined ? Number(b.params.ttl) : 604800;
    let expiration = fake.now() + (Number.isFinite(ttl) && ttl > 0 ? ttl : 604800) * 1000;
    if (b.expiration !== undefined && Number(b.expiration) > fake.now()) expiration = Math.min(expiration, Number(b.expiration));
    if (!c.resourceId) c.resourceId = randomToken('', 18);
    const ch = {
        id: b.id, resourceId: c.resourceId, calendar: c.id, user, address: b.address, token: b.token === undefined ? null : b.token,
        expiration, messageNumber: 0, resourceUri: `${req.base}/google/calendar/v3/calendars/${encodeURIComponent(c.id)}/events?alt=json`,
    };
    fake.state.google.channels.push(ch);
    fake.changed();
    sendNotification(fake, ch, 'sync');
    const out = { kind: 'api#channel', id: ch.id, resourceId: ch.resourceId, resourceUri: ch.resourceUri, expiration: String(ch.expiration) };
    if (ch.token !== null) out.token = ch.token;
    return { status: 200, body: out };
}

function sendNotification(fake, ch, state) {
    ch.messageNumber++;
    fake.changed();
    const headers = {
        'X-Goog-Channel-ID': ch.id, 'X-Goog-Message-Number': String(ch.messageNumber), 'X-Goog-Resource-ID': ch.resourceId,
        'X-Goog-Resource-State': state, 'X-Goog-Resource-URI': ch.resourceUri,
        'X-Goog-Channel-Expiration': new Date(ch.expiration).toUTCString(),
    };
    if (ch.token !== null) headers['X-Goog-Channel-Token'] = ch.token;
    fake.deliver({ provider: 'google', kind: state === 'sync' ? 'google-sync' : 'google-exists', url: ch.address, headers, body: '' });
}

function notifyChannels(fake, c) {
    for (const ch of fake.state.google.channels) {
        if (ch.calendar === c.id && ch.expiration > fake.now()) sendNotification(fake, ch, 'exists');
    }
    fake.save();
}

function stopChannel(fake, req, user) {
    const b = req.body || {};
    const i = fake.state.google.channels.findIndex((ch) => ch.id === b.id && ch.resourceId === b.resourceId && ch.user === user);
    if (i < 0) return error(404, 'notFound', `Channel '${b.id}' not found for project 'fake'`);
    fake.state.google.channels.splice(i, 1);
    fake.changed();
    return { status: 204, body: null };
}

function authFailure(result) {
    const www = { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (result.error === 'missing') return error(401, 'required', 'Login Required.', { locationType: 'header', location: 'Authorization', headers: www });
    return error(401, 'authError', 'Invalid Credentials', { locationType: 'header', location: 'Authorization', headers: www });
}

/** Serves a request under /google/calendar/v3 (`req.path` is the rest). */
function handleApi(fake, req) {
    const who = fake.bearer('google', req.headers);
    if (who.error) return authFailure(who);
    const parts = req.path.split('/').filter((s) => s !== '');
    if (req.method === 'POST' && parts.length === 2 && parts[0] === 'channels' && parts[1] === 'stop') return stopChannel(fake, req, who.user);
    if (parts[0] !== 'calendars' || parts.length < 3 || parts[2] !== 'events') return error(404, 'notFound', 'Not Found');
    const c = calendarFor(fake, who.user, parts[1]);
    if (!c) return error(404, 'notFound', 'Not Found');
    if (parts.length === 3) {
        if (req.method === 'GET') return listEvents(fake, req, c);
        if (req.method === 'POST') return insertEvent(fake, req, c, who.user);
    } else if (parts.length === 4 && parts[3] === 'watch' && req.method === 'POST') {
        return watch(fake, req, c, who.user);
    } else if (parts.length === 4) {
        const id = decodeURIComponent(parts[3]);
        if (req.method === 'GET') return getEvent(fake, c, id);
        if (req.method === 'PATCH') return writeEvent(fake, req, c, id, 'patch');
        if (req.method === 'PUT') return writeEvent(fake, req, c, id, 'update');
        if (req.method === 'DELETE') return deleteEvent(fake, req, c, id);
    }
    return error(404, 'notFound', 'Not Found');
}

/** Google's token endpoint (POST /google/token, form or JSON body). */
function handleToken(fake, req) {
    const f = req.form || new URLSearchParams(req.body && typeof req.body === 'object' ? req.body : {});
    const oauth = (status, err, description) => ({ status, body: { error: err, error_description: description } });
    if (req.method !== 'POST') return { status: 405, body: { error: 'invalid_request', error_description: 'POST only' } };
    const grantType = f.get('grant_type');
    if (!grantType) return oauth(400, 'invalid_request', 'Missing required parameter: grant_type');
    if (grantType !== 'refresh_token') return oauth(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    const refresh = f.get('refresh_token');
    if (!refresh) return oauth(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const g = fake.grant('google', refresh);
    if (g && g.client_id && f.get('client_id') !== g.client_id) return oauth(401, 'invalid_client', 'The OAuth client was not found.');
    if (g && g.client_secret && f.get('client_secret') !== g.client_secret) return oauth(401, 'invalid_client', 'Unauthorized');
    if (!g || fake.familyRevoked(g.family)) return oauth(400, 'invalid_grant', 'Token has been expired or revoked.');
    const ttl = fake.config.google_access_token_ttl_seconds;
    const token = fake.issueAccessToken(g, ttl);
    return {
        status: 200,
        body: { access_token: token, expires_in: ttl, scope: g.scope || 'https://www.googleapis.com/auth/calendar', token_type: 'Bearer' },
    };
}

/* ---- control ---- */

/** Creates (or returns) a calendar of a user: {id, user, timeZone?, summary?}. */
function controlCalendar(fake, b) {
    if (!b.user) throw new Error('user is required');
    if (b.timeZone !== undefined && !time.validZone(b.timeZone)) throw new Error(`timeZone ${b.timeZone} is not a known zone`);
    const id = b.id || b.user;
    const cals = fake.state.google.calendars;
    let c = cals.get(id);
    if (c && c.owner !== b.user) throw new Error(`calendar ${id} belongs to ${c.owner}`);
    if (!c) {
        c = new Calendar({ id, owner: b.user, timeZone: b.timeZone || 'UTC', name: b.summary || id, isDefault: id === b.user });
        cals.set(id, c);
    } else if (b.timeZone) c.timeZone = b.timeZone;
    fake.changed();
    return { id: c.id, user: c.owner, timeZone: c.timeZone };
}

function controlCalendarFor(fake, b) {
    const c = fake.state.google.calendars.get(b.calendar);
    if (!c) throw new Error(`calendar ${b.calendar} does not exist (POST /_fake/google/calendars, or a grant's user)`);
    return c;
}

/**
 * Changes events as the user would in Google Calendar: {calendar, events:[...]},
 * each {op:"put"|"patch"|"delete", id?, ...event fields}; put creates or replaces.
 */
function controlEvents(fake, b) {
    const c = controlCalendarFor(fake, b);
    const list = Array.isArray(b.events) ? b.events : [b.event || b];
    const out = [];
    for (const item of list) {
        const op = item.op || 'put';
        if (!['put', 'patch', 'delete'].includes(op)) throw new Error(`op ${op} is not put, patch or delete`);
        const fields = { ...item };
        delete fields.op;
        delete fields.calendar;
        if (op === 'delete') {
            const existing = findForWrite(fake, c, fields.id);
            if (!existing) throw new Error(`event ${fields.id} does not exist`);
            removeEvent(fake, c, existing);
            out.push({ id: fields.id, status: 'cancelled' });
            continue;
        }
        const existing = fields.id ? findForWrite(fake, c, fields.id) : null;
        let e;
        if (op === 'patch') {
            if (!existing) throw new Error(`event ${fields.id} does not exist`);
            e = merge(JSON.parse(JSON.stringify(existing)), fields);
        } else if (existing) {
            e = { ...fields, kind: 'calendar#event', id: existing.id, created: existing.created, iCalUID: existing.iCalUID, updated: existing.updated };
            if (existing.recurringEventId) {
                e.recurringEventId = existing.recurringEventId;
                e.originalStartTime = existing.originalStartTime;
            }
            e.creator = e.creator || existing.creator;
            e.organizer = e.organizer || existing.organizer;
        } else {
            if (fields.id !== undefined && !ID.test(fields.id)) throw new Error(`id ${fields.id} is not base32hex of 5-1024 characters`);
            e = newEvent(fake, c, fields, c.owner);
        }
        e.status = e.status || 'confirmed';
        if (e.status === 'cancelled') e._deleted = true;
        else delete e._deleted;
        try {
            validateOrThrow(e, c);
        } catch (err) {
            throw new Error(`event ${e.id}: ${err.message}`);
        }
        out.push(publicFields(store(fake, c, c.events.get(e.id) || null, e)));
    }
    return { events: out };
}

/** Every stored event of a calendar, tombstones included, as the provider holds them. */
function controlList(fake, q) {
    const c = controlCalendarFor(fake, { calendar: q.get('calendar') });
    return { calendar: c.id, timeZone: c.timeZone, events: [...c.events.values()].map((e) => ({ ...publicFields(e), status: e._deleted ? 'cancelled' : e.status })) };
}

module.exports = { handleApi, handleToken, injected, primaryOf, controlCalendar, controlEvents, controlList, adapter };
