'use strict';
/*
 * Microsoft Graph v1.0 (calendarView, calendarView/delta, events, subscriptions)
 * and the Microsoft identity platform's token endpoint; served under
 * /microsoft/v1.0 and /microsoft-login/{tenant}/oauth2/v2.0/token.
 *
 * `/me` is the user of the bearer token; `/users/{id}` must be that same user
 * (else 403 ErrorAccessDenied). Each user has a default calendar (made with the
 * grant) and may have more. Events keep Graph's fields; times are stored as the
 * client wrote them ({dateTime without offset, timeZone}) and returned in the
 * zone of `Prefer: outlook.timezone` (UTC without it) with seven fractional
 * digits. Recurring series (patternedRecurrence) appear in calendarView as
 * occurrences with `seriesMasterId`; a patched or deleted occurrence becomes an
 * exception or a cancelled occurrence.
 *
 * Delta rounds: the first GET (with startDateTime/endDateTime) returns every
 * event in the window, page by page through @odata.nextLink ($skiptoken), and
 * ends with an @odata.deltaLink ($deltatoken). GETting that link returns what
 * changed since: events in the window as they are now, and
 * {"id","@removed":{"reason":"deleted"}} for deleted ones and for changed ones
 * now outside the window (as Graph's docs describe).
 */
const crypto = require('crypto');
const time = require('./time.js');
const cal = require('./calendar.js');
const { Calendar } = cal;
const { randomToken } = require('./core.js');

/* Windows zone names a client may use, mapped to IANA (a subset of CLDR's windowsZones). */
const WINDOWS_ZONES = {
    UTC: 'UTC', 'GMT Standard Time': 'Europe/London', 'Greenwich Standard Time': 'Atlantic/Reykjavik',
    'W. Europe Standard Time': 'Europe/Berlin', 'Romance Standard Time': 'Europe/Paris',
    'Central Europe Standard Time': 'Europe/Budapest', 'Central European Standard Time': 'Europe/Warsaw',
    'E. Europe Standard Time': 'Europe/Chisinau', 'FLE Standard Time': 'Europe/Kiev', 'GTB Standard Time': 'Europe/Bucharest',
    'Russian Standard Time': 'Europe/Moscow', 'Eastern Standard Time': 'America/New_York', 'Central Standard Time': 'America/Chicago',
    'Mountain Standard Time': 'America/Denver', 'US Mountain Standard Time': 'America/Phoenix', 'Pacific Standard Time': 'America/Los_Angeles',
    'Alaskan Standard Time': 'America/Anchorage', 'Hawaiian Standard Time': 'Pacific/Honolulu', 'India Standard Time': 'Asia/Kolkata',
    'China Standard Time': 'Asia/Shanghai', 'Tokyo Standard Time': 'Asia/Tokyo', 'AUS Eastern Standard Time': 'Australia/Sydney',
    'New Zealand Standard Time': 'Pacific/Auckland', 'E. South America Standard Time': 'America/Sao_Paulo',
};
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEX = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

function zoneOf(name) {
    if (name === undefined || name === null || name === '') return 'UTC';
    if (WINDOWS_ZONES[name]) return WINDOWS_ZONES[name];
    return time.validZone(name) ? name : null;
}

function error(status, code, message, headers = {}) {
    return {
        status, headers,
        body: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } } },
    };
}

function injected(status, reason) {
    const usual = {
        400: ['BadRequest', 'Bad request.'], 401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
        403: ['ErrorAccessDenied', 'Access is denied. Check credentials and try again.'],
        404: ['ErrorItemNotFound', 'The specified object was not found in the store.'],
        409: ['ErrorIrresolvableConflict', 'Conflict.'], 410: ['resyncRequired', 'Resync required.'],
        429: ['TooManyRequests', 'Please retry again later.'], 500: ['generalException', 'General exception while processing.'],
        503: ['serviceNotAvailable', 'The service is temporarily unavailable.'], 504: ['UnknownError', 'Gateway timeout.'],
    };
    const [code, message] = usual[status] || ['generalException', 'General exception while processing.'];
    const r = error(status, reason || code, message);
    if (status === 429) r.body.error.innerError = { code: '429', date: new Date().toISOString().slice(0, 19), message: 'Please retry after', 'request-id': crypto.randomUUID(), status: '429' };
    return r;
}

class BadEvent extends Error {}

function patternRule(rec, startFields) {
    const p = rec.pattern || {};
    const r = rec.range || {};
    const interval = p.interval === undefined ? 1 : p.interval;
    if (!Number.isInteger(interval) || interval < 1) throw new BadEvent('recurrence.pattern.interval must be 1 or more');
    const days = () => {
        if (!Array.isArray(p.daysOfWeek) || p.daysOfWeek.length === 0) throw new BadEvent('recurrence.pattern.daysOfWeek is required');
        return p.daysOfWeek.map((d) => {
            const wd = WEEKDAYS.indexOf(String(d).toLowerCase());
            if (wd < 0) throw new BadEvent(`recurrence.pattern.daysOfWeek: ${d} is not a day`);
            return { n: 0, wd };
        });
    };
    const setpos = () => {
        const i = INDEX[p.index || 'first'];
        if (!i) throw new BadEvent(`recurrence.pattern.index: ${p.index} is not an index`);
        return [i];
    };
    const rule = { freq: null, interval, count: null, until: null, byday: null, bymonthday: null, bymonth: null, bysetpos: null, wkst: 0 };
    switch (p.type) {
    case 'daily': rule.freq = 'DAILY'; break;
    case 'weekly':
        rule.freq = 'WEEKLY';
        rule.byday = days();
        rule.wkst = WEEKDAYS.indexOf(String(p.firstDayOfWeek || 'sunday').toLowerCase());
        break;
    case 'absoluteMonthly': rule.freq = 'MONTHLY'; rule.bymonthday = [p.dayOfMonth || startFields.d]; break;
    case 'relativeMonthly': rule.freq = 'MONTHLY'; rule.byday = days(); rule.bysetpos = setpos(); break;
    case 'absoluteYearly': rule.freq = 'YEARLY'; rule.bymonth = [p.month || startFields.mo]; rule.bymonthday = [p.dayOfMonth || startFields.d]; break;
    case 'relativeYearly': rule.freq = 'YEARLY'; rule.bymonth = [p.month || startFields.mo]; rule.byday = days(); rule.bysetpos = setpos(); break;
    default: throw new BadEvent(`recurrence.pattern.type ${p.type} is not a pattern type`);
    }
    if (r.type === 'endDate') {
        const d = time.parseDate(r.endDate);
        if (!d) throw new BadEvent('recurrence.range.endDate is not a date');
        rule.until = { f: { ...d, h: 23, mi: 59, s: 59 }, utc: false, dateOnly: true };
    } else if (r.type === 'numbered') {
        if (!Number.isInteger(r.numberOfOccurrences) || r.numberOfOccurrences < 1) throw new BadEvent('recurrence.range.numberOfOccurrences must be 1 or more');
        rule.count = r.numberOfOccurrences;
    } else if (r.type !== 'noEnd') {
        throw new BadEvent(`recurrence.range.type ${r.type} is not a range type`);
    }
    return rule;
}

function readTime(v, name) {
    if (!v || typeof v !== 'object' || typeof v.dateTime !== 'string') throw new BadEvent(`${name} is required`);
    const zone = zoneOf(v.timeZone);
    if (!zone) throw new BadEvent(`${name}.timeZone ${v.timeZone} is not a supported time zone`);
    const text = v.dateTime.replace(/(\.\d{3})\d+$/, '$1').replace(/[Zz]$/, '');
    const ms = time.parseDateTime(text, zone);
    if (ms === null) throw new BadEvent(`${name}.dateTime ${v.dateTime} is not a date-time`);
    return { ms, zone };
}

function timing(e) {
    const a = readTime(e.start, 'start');
    const b = readTime(e.end, 'end');
    if (b.ms < a.ms) throw new BadEvent('The end of the event is before its start.');
    let t;
    if (e.isAllDay) {
        const fa = time.utcToLocal(a.ms, a.zone);
        const fb = time.utcToLocal(b.ms, b.zone);
        if (fa.h || fa.mi || fa.s || fb.h || fb.mi || fb.s) throw new BadEvent('An all-day event must start and end at midnight.');
        const days = Math.round((time.fieldsAsUtc(fb) - time.fieldsAsUtc(fa)) / time.DAY_MS);
        if (days < 1) throw new BadEvent('An all-day event lasts at least one day.');
        t = { allDay: true, start: fa, zone: a.zone, days, startMs: a.ms, endMs: time.localToUtc(time.addDays(fa, days), a.zone) };
    } else {
        t = { allDay: false, start: time.utcToLocal(a.ms, a.zone), zone: a.zone, duration: b.ms - a.ms, startMs: a.ms, endMs: b.ms };
    }
    t.rule = e.recurrence && e.type === 'seriesMaster' ? patternRule(e.recurrence, t.start) : null;
    t.exdates = new Set();
    t.rdates = new Set();
    return t;
}

const adapter = {
    timing: (e) => timing(e),
    masterOf: (e) => (e.type === 'exception' || e.type === 'occurrence' ? e.seriesMasterId : null),
    instanceId: (masterId, key) => `${masterId}_${key}`,
};

const horizon = (fake) => cal.horizon(fake);

/* ---- rendering ---- */

function responseZone(req) {
    const prefer = req.headers.prefer || '';
    const m = /outlook\.timezone\s*=\s*"([^"]*)"/i.exec(prefer);
    if (!m) return { label: 'UTC', zone: 'UTC' };
    const zone = zoneOf(m[1]);
    return zone ? { label: m[1], zone } : { label: 'UTC', zone: 'UTC' };
}

function graphTime(ms, rz) {
    return { dateTime: `${time.wallString(time.utcToLocal(ms, rz.zone))}.0000000`, timeZone: rz.label };
}

function allDayTime(fields, rz) {
    return { dateTime: `${time.dateString(fields)}T00:00:00.0000000`, timeZone: rz.label };
}

function publicFields(e, expand) {
    const out = { '@odata.etag': e['@odata.etag'] };
    for (const [k, v] of Object.entries(e)) if (k[0] !== '_' && k !== 'singleValueExtendedProperties') out[k] = v;
    if (expand && e.singleValueExtendedProperties) out.singleValueExtendedProperties = e.singleValueExtendedProperties;
    return out;
}

function render(c, view, rz, expand) {
    if (view.deleted || view.outside) return { '@odata.type': '#microsoft.graph.event', id: view.event.id, '@removed': { reason: 'deleted' } };
    const base = view.instance ? view.master : view.event;
    const out = publicFields(base, expand);
    const t = cal.timingOf(adapter, c, base);
    if (view.instance) {
        const i = view.instance;
        out.id = i.id;
        out.type = 'occurrence';
        out.seriesMasterId = base.id;
        out.recurrence = null;
        out.originalStart = time.isoSeconds(i.startMs);
        out.iCalUId = `${base.iCalUId}-${i.key}`;
        out.start = t.allDay ? allDayTime(i.local, rz) : graphTime(i.startMs, rz);
        out.end = t.allDay ? allDayTime(time.addDays(i.local, t.days), rz) : graphTime(i.endMs, rz);
    } else if (t) {
        out.start = t.allDay ? allDayTime(t.start, rz) : graphTime(t.startMs, rz);
        out.end = t.allDay ? allDayTime(time.addDays(t.start, t.days), rz) : graphTime(t.endMs, rz);
    }
    return out;
}

/* ---- calendars and events ---- */

function defaultCalendar(fake, user) {
    for (const c of fake.state.microsoft.calendars.values()) if (c.owner === user && c.isDefault) return c;
    const c = new Calendar({ id: randomToken('AAMkAGI2TG93AAA', 12), owner: user, name: 'Calendar', isDefault: true });
    fake.state.microsoft.calendars.set(c.id, c);
    fake.changed();
    return c;
}

function calendarsOf(fake, user) {
    return [...fake.state.microsoft.calendars.values()].filter((c) => c.owner === user);
}

function findEvent(fake, user, id, onlyCal) {
    for (const c of onlyCal ? [onlyCal] : calendarsOf(fake, user)) {
        const e = c.events.get(id);
        if (e) return { c, e };
        const m = /^(.+)_(\d{8}(?:T\d{6}Z)?)$/.exec(id);
        if (!m) continue;
        const master = c.events.get(m[1]);
        if (!master || master._deleted || master.type !== 'seriesMaster') continue;
        const inst = cal.instancesOf(adapter, c, master, null, null, horizon(fake), 100000).find((i) => i.id === id);
        if (!inst) continue;
        const view = render(c, { event: master, instance: inst, master }, { zone: cal.timingOf(adapter, c, master).zone, label: master.start.timeZone || 'UTC' }, true);
        delete view['@odata.etag'];
        view.type = 'exception';
        return { c, e: view, virtual: true };
    }
    return null;
}

function stamp(fake, e, rev) {
    const now = fake.now();
    e.lastModifiedDateTime = time.isoMs(now).replace('Z', '0000Z');
    e.changeKey = crypto.createHash('sha1').update(`${e.id}:${rev}`).digest('base64').slice(0, 24);
    e['@odata.etag'] = `W/"${e.changeKey}"`;
    e._rev = rev;
}

function store(fake, c, before, e) {
    const rev = fake.nextRev();
    stamp(fake, e, rev);
    e._createdRev = before ? before._createdRev || rev : rev;
    c.events.set(e.id, e);
    if ((before && before.type === 'seriesMaster') || e.type === 'seriesMaster') cal.recordSeriesChange(adapter, c, before, e, rev, horizon(fake));
    fake.coalesce(`microsoft:${c.id}`, () => notifySubscriptions(fake, c));
    return e;
}

function newEvent(fake, c, body) {
    const id = randomToken('AAMkAGI2TG93AAABAAA', 24);
    const now = time.isoMs(fake.now()).replace('Z', '0000Z');
    const e = {
        id, createdDateTime: now, lastModifiedDateTime: now, changeKey: '', categories: [], transactionId: null,
        originalStartTimeZone: (body.start && body.start.timeZone) || 'UTC', originalEndTimeZone: (body.end && body.end.timeZone) || 'UTC',
        iCalUId: `040000008200E00074C5B7101A82E008${crypto.randomBytes(16).toString('hex').toUpperCase()}`,
        reminderMinutesBeforeStart: 15, isReminderOn: true, hasAttachments: false, subject: '', bodyPreview: '',
        importance: 'normal', sensitivity: 'normal', isAllDay: false, isCancelled: false, isOrganizer: true,
        responseRequested: true, seriesMasterId: null, showAs: 'busy', type: 'singleInstance',
        webLink: `https://outlook.office365.com/owa/?itemid=${id}`, onlineMeetingUrl: null, isOnlineMeeting: false,
        responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
        body: { contentType: 'html', content: '' }, location: { displayName: '', locationType: 'default', uniqueIdType: 'unknown' },
        locations: [], recurrence: null, attendees: [], organizer: { emailAddress: { name: c.owner, address: c.owner } },
    };
    Object.assign(e, withoutReadOnly(body));
    if (e.recurrence) e.type = 'seriesMaster';
    if (body.body && body.body.content !== undefined) e.bodyPreview = String(body.body.content).replace(/<[^>]*>/g, '').slice(0, 255);
    return e;
}

function withoutReadOnly(body) {
    const out = {};
    for (const [k, v] of Object.entries(body)) {
        if (['id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'type', 'seriesMasterId', '@odata.etag', '@odata.type', '@odata.context'].includes(k)) continue;
        if (k[0] === '_') continue;
        out[k] = v;
    }
    return out;
}

function checked(e) {
    try {
        timing(e);
        return null;
    } catch (err) {
        if (err instanceof BadEvent) return error(400, 'ErrorInvalidRequest', err.message);
        throw err;
    }
}

/* ---- routes ---- */

/** Splits a Graph path into the calendar it names (null: the user's mailbox) and the rest. */
function resolve(fake, user, parts) {
    let i = 0;
    if (parts[0] === 'me') i = 1;
    else if (parts[0] === 'users' && parts.length > 1) {
        if (decodeURIComponent(parts[1]).toLowerCase() !== user.toLowerCase()) return { denied: true };
        i = 2;
    } else return null;
    let c = null;
    let prefix = parts.slice(0, i);
    if (parts[i] === 'calendar') {
        c = defaultCalendar(fake, user);
        prefix = parts.slice(0, i + 1);
        i += 1;
    } else if (parts[i] === 'calendars' && parts.length > i + 1) {
        c = fake.state.microsoft.calendars.get(decodeURIComponent(parts[i + 1]));
        if (!c || c.owner !== user) return { missing: true };
        prefix = parts.slice(0, i + 2);
        i += 2;
    }
    return { c, rest: parts.slice(i), prefix: `/${prefix.join('/')}` };
}

function pageSize(fake, req, fallback) {
    const m = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(req.headers.prefer || '');
    let n = m ? Math.max(1, Math.min(+m[1], 1000)) : fallback;
    if (fake.config.microsoft_page_size) n = Math.min(n, fake.config.microsoft_page_size);
    return { n, applied: m ? `odata.maxpagesize=${n}` : null };
}

function windowOf(q) {
    const s = q.get('startDateTime') || q.get('StartDateTime');
    const e = q.get('endDateTime') || q.get('EndDateTime');
    if (!s || !e) return { error: error(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.') };
    const parse = (v) => time.parseDateTime(v.replace(/(\.\d{3})\d+/, '$1'), 'UTC');
    const from = parse(s);
    const to = parse(e);
    if (from === null || to === null) return { error: error(400, 'ErrorInvalidParameter', 'The value of StartDateTime or EndDateTime is not a valid date-time.') };
    return { from, to };
}

function collection(req, items, link) {
    const body = { '@odata.context': `${req.base}/microsoft/v1.0/$metadata#Collection(event)` };
    Object.assign(body, link);
    body.value = items;
    return body;
}

function calendarView(fake, req, c, r) {
    const q = req.query;
    let snapshot;
    if (q.has('$skiptoken')) {
        snapshot = fake.pages.get(q.get('$skiptoken'));
        if (!snapshot || snapshot.provider !== 'microsoft-view' || snapshot.calendar !== c.id) return error(400, 'BadRequest', 'The $skiptoken is not valid.');
    } else {
        const w = windowOf(q);
        if (w.error) return w.error;
        const rz = responseZone(req);
        const expand = /singleValueExtendedProperties/.test(q.get('$expand') || '');
        const views = cal.visible(adapter, c, { from: w.from, to: w.to, expand: true, includeDeleted: false, horizonMs: w.to });
        const items = views.map((v) => render(c, v, rz, expand)).sort((a, b) => (a.start.dateTime < b.start.dateTime ? -1 : 1));
        snapshot = { provider: 'microsoft-view', calendar: c.id, items, offset: 0, size: q.has('$top') ? Math.max(1, +q.get('$top') || 10) : 10 };
    }
    const size = pageSize(fake, req, snapshot.size);
    snapshot.size = size.n;
    const page = snapshot.items.slice(snapshot.offset, snapshot.offset + size.n);
    const rest = snapshot.offset + size.n;
    const link = {};
    if (rest < snapshot.items.length) link['@odata.nextLink'] = `${req.base}/microsoft/v1.0${r.prefix}/calendarView?$skiptoken=${fake.keepPage({ ...snapshot, offset: rest })}`;
    const headers = size.applied ? { 'Preference-Applied': size.applied } : {};
    return { status: 200, headers, body: collection(req, page, link) };
}

function deltaExpired(fake, req, r, mode) {
    if ((mode || fake.config.microsoft_delta_expiry) === 'syncStateNotFound') {
        return error(400, 'syncStateNotFound', 'The sync state generation is not found; a full sync is required.');
    }
    const location = `${req.base}/microsoft/v1.0${r.prefix}/calendarView/delta?$deltatoken=`;
    return error(410, 'resyncRequired', 'Resync required. Replace any local cached copies of the collection with the results of a new delta query.', { Location: location });
}

function delta(fake, req, c, r) {
    const q = req.query;
    const rz = responseZone(req);
    let snapshot;
    if (q.has('$skiptoken')) {
        snapshot = fake.pages.get(q.get('$skiptoken'));
        if (!snapshot || snapshot.provider !== 'microsoft-delta' || snapshot.calendar !== c.id) return error(400, 'syncStateNotFound', 'The sync state generation is not found.');
    } else if (q.has('$deltatoken') || q.has('$deltaToken')) {
        const tokText = q.get('$deltatoken') || q.get('$deltaToken');
        const tok = fake.state.microsoft.deltaTokens.get(tokText);
        if (!tok || tok.expired || tok.calendar !== c.id) return deltaExpired(fake, req, r, tok && tok.mode);
        const views = cal.changedSince(adapter, c, tok.rev, { expand: true, from: tok.from, to: tok.to, horizonMs: tok.to });
        const items = views.map((v) => render(c, v, rz, false));
        snapshot = { provider: 'microsoft-delta', calendar: c.id, items, offset: 0, rev: fake.state.rev, from: tok.from, to: tok.to };
    } else {
        const w = windowOf(q);
        if (w.error) return w.error;
        const views = cal.visible(adapter, c, { from: w.from, to: w.to, expand: true, includeDeleted: false, horizonMs: w.to });
        const items = views.map((v) => render(c, v, rz, false));
        snapshot = { provider: 'microsoft-delta', calendar: c.id, items, offset: 0, rev: fake.state.rev, from: w.from, to: w.to };
    }
    const size = pageSize(fake, req, snapshot.size || 10);
    snapshot.size = size.n;
    const page = snapshot.items.slice(snapshot.offset, snapshot.offset + size.n).map((i) => ('@removed' in i ? i : { '@odata.type': '#microsoft.graph.event', ...i }));
    const rest = snapshot.offset + size.n;
    const link = {};
    const base = `${req.base}/microsoft/v1.0${r.prefix}/calendarView/delta`;
    if (rest < snapshot.items.length) {
        link['@odata.nextLink'] = `${base}?$skiptoken=${fake.keepPage({ ...snapshot, offset: rest })}`;
    } else {
        const token = randomToken('R0usmcMDNGg0J1E', 15);
        fake.state.microsoft.deltaTokens.set(token, { calendar: c.id, rev: snapshot.rev, from: snapshot.from, to: snapshot.to, expired: false, mode: null });
        fake.changed();
        link['@odata.deltaLink'] = `${base}?$deltatoken=${token}`;
    }
    const headers = size.applied ? { 'Preference-Applied': size.applied } : {};
    return { status: 200, headers, body: collection(req, page, link) };
}

function createEvent(fake, req, c) {
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return error(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    if (b.transactionId) {
        for (const e of c.events.values()) {
            if (e.transactionId === b.transactionId && !e._deleted) return { status: 201, body: { '@odata.context': `${req.base}/microsoft/v1.0/$metadata#users('${c.owner}')/events/$entity`, ...render(c, { event: e }, responseZone(req), true) } };
        }
    }
    const e = newEvent(fake, c, b);
    const bad = checked(e);
    if (bad) return bad;
    store(fake, c, null, e);
    return { status: 201, body: { '@odata.context': `${req.base}/microsoft/v1.0/$metadata#users('${c.owner}')/events/$entity`, ...render(c, { event: e }, responseZone(req), true) } };
}

function patchEvent(fake, req, found) {
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return error(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    const { c, e: existing } = found;
    const want = req.headers['if-match'];
    if (want && want !== '*' && want !== existing['@odata.etag']) {
        return error(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
    }
    const before = found.virtual ? null : existing;
    const e = { ...JSON.parse(JSON.stringify(existing)), ...withoutReadOnly(b) };
    if (e.type === 'singleInstance' && e.recurrence) e.type = 'seriesMaster';
    const bad = checked(e);
    if (bad) return bad;
    store(fake, c, before, e);
    return { status: 200, body: render(c, { event: e }, responseZone(req), true) };
}

function deleteEvent(fake, found) {
    const { c, e: existing } = found;
    store(fake, c, found.virtual ? null : existing, { ...existing, _deleted: true });
    return { status: 204, body: null };
}

function events(fake, req, user, r) {
    const rest = r.rest;
    if (rest.length === 1) {
        const c = r.c || defaultCalendar(fake, user);
        if (req.method === 'POST') return createEvent(fake, req, c);
        if (req.method === 'GET') {
            const rz = responseZone(req);
            const items = [...c.events.values()].filter((e) => !e._deleted).map((e) => render(c, { event: e }, rz, false));
            return { status: 200, body: collection(req, items, {}) };
        }
        return error(405, 'BadRequest', 'The method is not allowed.');
    }
    const found = findEvent(fake, user, decodeURIComponent(rest[1]), r.c);
    if (!found || found.e._deleted) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    if (rest.length !== 2) return error(400, 'BadRequest', `Resource not found for the segment '${rest[2]}'.`);
    if (req.method === 'GET') {
        return { status: 200, body: render(found.c, { event: found.e }, responseZone(req), /singleValueExtendedProperties/.test(req.query.get('$expand') || '')) };
    }
    if (req.method === 'PATCH') return patchEvent(fake, req, found);
    if (req.method === 'DELETE') return deleteEvent(fake, found);
    return error(405, 'BadRequest', 'The method is not allowed.');
}

/* ---- subscriptions ---- */

const MAX_SUBSCRIPTION_MINUTES = 10080;

function subscriptionBody(req, s) {
    return {
        '@odata.context': `${req.base}/microsoft/v1.0/$metadata#subscriptions/$entity`,
        id: s.id, resource: s.resource, applicationId: s.applicationId, changeType: s.changeType, clientState: s.clientState,
        notificationUrl: s.notificationUrl, lifecycleNotificationUrl: s.lifecycleNotificationUrl,
        expirationDateTime: time.isoMs(s.expiration).replace('Z', '0000Z'), creatorId: s.creatorId,
        includeResourceData: null, latestSupportedTlsVersion: 'v1_2', encryptionCertificate: null, encryptionCertificateId: null,
        notificationQueryOptions: null, notificationContentType: null,
    };
}

function readExpiration(fake, v) {
    const ms = typeof v === 'string' ? time.parseDateTime(v.replace(/(\.\d{3})\d+/, '$1'), 'UTC') : null;
    if (ms === null) return { error: error(400, 'InvalidRequest', 'expirationDateTime is required and must be a date-time.') };
    if (ms <= fake.now()) return { error: error(400, 'InvalidRequest', 'Subscription expiration must be in the future.') };
    if (ms > fake.now() + MAX_SUBSCRIPTION_MINUTES * 60000) return { error: error(400, 'InvalidRequest', `Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`) };
    return { ms };
}

/** The calendar a subscription's resource watches (null: every calendar of the user). */
function subscriptionTarget(fake, user, resource) {
    const parts = String(resource || '').split('/').filter((s) => s !== '');
    const r = resolve(fake, user, parts.map((p) => (p.toLowerCase() === 'me' ? 'me' : p)));
    if (!r || r.denied || r.missing || r.rest.length !== 1 || r.rest[0].toLowerCase() !== 'events') return undefined;
    return r.c ? r.c.id : null;
}

async function createSubscription(fake, req, user) {
    const b = req.body;
    if (!b || typeof b !== 'object') return error(400, 'InvalidRequest', 'Empty Payload. JSON content expected.');
    if (typeof b.changeType !== 'string' || !b.changeType.split(',').every((t) => ['created', 'updated', 'deleted'].includes(t))) {
        return error(400, 'InvalidRequest', 'changeType must be a comma-separated list of created, updated and deleted.');
    }
    if (typeof b.notificationUrl !== 'string' || !/^https?:\/\//.test(b.notificationUrl)) return error(400, 'InvalidRequest', 'notificationUrl is required.');
    const target = subscriptionTarget(fake, user, b.resource);
    if (target === undefined) return error(400, 'InvalidRequest', `Resource '${b.resource}' is not supported by this fake (use /me/events or /me/calendars/{id}/events).`);
    const exp = readExpiration(fake, b.expirationDateTime);
    if (exp.error) return exp.error;
    const token = randomToken('Validation: Testing client application reachability ', 12);
    const url = `${b.notificationUrl}${b.notificationUrl.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    const answer = await fake.deliver({ provider: 'microsoft', kind: 'graph-validation', url, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: '' });
    const type = String((answer.response_headers && answer.response_headers['content-type']) || '');
    if (answer.status !== 200 || answer.response_body !== token || (type && !/^text\/plain/i.test(type))) {
        return error(400, 'InvalidRequest', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    }
    const s = {
        id: crypto.randomUUID(), user, resource: b.resource, calendar: target, changeType: b.changeType, clientState: b.clientState === undefined ? null : b.clientState,
        notificationUrl: b.notificationUrl, lifecycleNotificationUrl: b.lifecycleNotificationUrl || null, expiration: exp.ms,
        applicationId: crypto.randomUUID(), creatorId: crypto.randomUUID(), notifiedRev: fake.state.rev,
    };
    fake.state.microsoft.subscriptions.push(s);
    fake.changed();
    return { status: 201, body: subscriptionBody(req, s) };
}

function subscriptions(fake, req, user, parts) {
    if (parts.length === 1) {
        if (req.method === 'POST') return createSubscription(fake, req, user);
        if (req.method === 'GET') {
            return { status: 200, body: { value: fake.state.microsoft.subscriptions.filter((s) => s.user === user).map((s) => subscriptionBody(req, s)) } };
        }
    }
    const s = fake.state.microsoft.subscriptions.find((x) => x.id === parts[1] && x.user === user);
    if (!s) return error(404, 'ResourceNotFound', `The object '${parts[1]}' was not found.`);
    if (req.method === 'GET') return { status: 200, body: subscriptionBody(req, s) };
    if (req.method === 'PATCH') {
        const exp = readExpiration(fake, (req.body || {}).expirationDateTime);
        if (exp.error) return exp.error;
        s.expiration = exp.ms;
        fake.changed();
        return { status: 200, body: subscriptionBody(req, s) };
    }
    if (req.method === 'DELETE') {
        fake.state.microsoft.subscriptions.splice(fake.state.microsoft.subscriptions.indexOf(s), 1);
        fake.changed();
        return { status: 204, body: null };
    }
    return error(405, 'BadRequest', 'The method is not allowed.');
}

/** Sends change notifications for the events of `c` changed since each subscription last heard. */
function notifySubscriptions(fake, c) {
    for (const s of fake.state.microsoft.subscriptions) {
        if (s.user !== c.owner || s.expiration <= fake.now() || (s.calendar !== null && s.calendar !== c.id)) continue;
        const since = s.notifiedRev || 0;
        const value = [];
        for (const e of c.events.values()) {
            if (e._rev <= since) continue;
            const changeType = e._deleted ? 'deleted' : e._createdRev === e._rev ? 'created' : 'updated';
            if (!s.changeType.split(',').includes(changeType)) continue;
            value.push({
                subscriptionId: s.id, subscriptionExpirationDateTime: time.isoMs(s.expiration).replace('Z', '0000Z'),
                changeType, resource: `Users/${c.owner}/Events/${e.id}`, tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
                clientState: s.clientState,
                resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/${c.owner}/Events/${e.id}`, '@odata.etag': e['@odata.etag'], id: e.id },
            });
        }
        s.notifiedRev = fake.state.rev;
        fake.changed();
        if (value.length === 0) continue;
        fake.deliver({ provider: 'microsoft', kind: 'graph-notification', url: s.notificationUrl, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value }) });
    }
    fake.save();
}

function authFailure(who) {
    const www = { 'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"' };
    const message = who.error === 'missing' ? 'Access token is empty.' : who.error === 'expired' ? 'Lifetime validation failed, the token is expired.' : 'IDX14100: JWT is not well formed, there are no dots (.).';
    return error(401, 'InvalidAuthenticationToken', message, www);
}

/** Serves a request under /microsoft/v1.0 (`req.path` is the rest). */
function handleApi(fake, req) {
    const who = fake.bearer('microsoft', req.headers);
    if (who.error) return authFailure(who);
    const parts = req.path.split('/').filter((s) => s !== '');
    if (parts[0] === 'subscriptions') return subscriptions(fake, req, who.user, parts);
    const r = resolve(fake, who.user, parts);
    if (!r) return error(400, 'BadRequest', `Resource not found for the segment '${parts[0] || ''}'.`);
    if (r.denied) return error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    if (r.missing) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const head = (r.rest[0] || '').toLowerCase();
    if (head === 'calendarview') {
        if (req.method !== 'GET') return error(405, 'BadRequest', 'The method is not allowed.');
        const c = r.c || defaultCalendar(fake, who.user);
        if (r.rest.length === 1) return calendarView(fake, req, c, r);
        if (r.rest.length === 2 && r.rest[1] === 'delta') return delta(fake, req, c, r);
    }
    if (head === 'events') return events(fake, req, who.user, r);
    return error(400, 'BadRequest', `Resource not found for the segment '${r.rest[0] || ''}'.`);
}

/* ---- the token endpoint ---- */

function aad(status, err, code, description) {
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
    const trace = crypto.randomUUID();
    const corr = crypto.randomUUID();
    return {
        status,
        body: {
            error: err, error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${now}`,
            error_codes: [code], timestamp: now, trace_id: trace, correlation_id: corr,
        },
    };
}

/** POST /microsoft-login/{tenant}/oauth2/v2.0/token (`req.path` is the rest). */
function handleToken(fake, req) {
    const parts = req.path.split('/').filter((s) => s !== '');
    if (parts.length !== 4 || parts[1] !== 'oauth2' || parts[2] !== 'v2.0' || parts[3] !== 'token') return aad(404, 'invalid_request', 90002, 'Tenant or endpoint not found.');
    if (req.method !== 'POST') return aad(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    const f = req.form || new URLSearchParams();
    const grantType = f.get('grant_type');
    if (!grantType) return aad(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grantType !== 'refresh_token') return aad(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    const refresh = f.get('refresh_token');
    if (!refresh) return aad(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'refresh_token'.");
    if (!f.get('client_id')) return aad(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const g = fake.grant('microsoft', refresh);
    if (g && g.client_id && f.get('client_id') !== g.client_id) return aad(400, 'unauthorized_client', 700016, `Application with identifier '${f.get('client_id')}' was not found in the directory.`);
    if (g && g.client_secret && f.get('client_secret') !== g.client_secret) return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    if (!g || fake.familyRevoked(g.family)) return aad(400, 'invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed.');
    if (g.rotated && !fake.config.microsoft_old_refresh_token_valid) return aad(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.');
    const ttl = fake.config.microsoft_access_token_ttl_seconds;
    const token = fake.issueAccessToken(g, ttl);
    const next = { ...g, refresh_token: randomToken('M.fake-', 24), rotated: false };
    g.rotated = true;
    fake.state.grants.push(next);
    fake.changed();
    return {
        status: 200,
        body: {
            token_type: 'Bearer', scope: f.get('scope') || g.scope || 'https://graph.microsoft.com/Calendars.ReadWrite offline_access',
            expires_in: ttl, ext_expires_in: ttl, access_token: token, refresh_token: next.refresh_token,
        },
    };
}

/* ---- control ---- */

function controlCalendar(fake, b) {
    if (!b.user) throw new Error('user is required');
    if (!b.id) return { id: defaultCalendar(fake, b.user).id, user: b.user, isDefault: true };
    let c = fake.state.microsoft.calendars.get(b.id);
    if (c && c.owner !== b.user) throw new Error(`calendar ${b.id} belongs to ${c.owner}`);
    if (!c) {
        c = new Calendar({ id: b.id, owner: b.user, name: b.name || b.id, isDefault: false });
        fake.state.microsoft.calendars.set(c.id, c);
        fake.changed();
    }
    return { id: c.id, user: c.owner, isDefault: c.isDefault };
}

function controlCalendarFor(fake, b) {
    if (b.calendar) {
        const c = fake.state.microsoft.calendars.get(b.calendar);
        if (!c) throw new Error(`calendar ${b.calendar} does not exist`);
        return c;
    }
    if (!b.user) throw new Error('user or calendar is required');
    return defaultCalendar(fake, b.user);
}

/**
 * Changes events as the user would in Outlook: {user | calendar, events:[...]},
 * each {op:"put"|"patch"|"delete", id?, ...Graph event fields}.
 */
function controlEvents(fake, b) {
    const c = controlCalendarFor(fake, b);
    const list = Array.isArray(b.events) ? b.events : [b.event || b];
    const out = [];
    const utc = { zone: 'UTC', label: 'UTC' };
    for (const item of list) {
        const op = item.op || 'put';
        if (!['put', 'patch', 'delete'].includes(op)) throw new Error(`op ${op} is not put, patch or delete`);
        const fields = { ...item };
        delete fields.op;
        delete fields.user;
        delete fields.calendar;
        const found = fields.id ? findEvent(fake, c.owner, fields.id, c) : null;
        if (op === 'delete') {
            if (!found || found.e._deleted) throw new Error(`event ${fields.id} does not exist`);
            deleteEvent(fake, found);
            out.push({ id: fields.id, '@removed': { reason: 'deleted' } });
            continue;
        }
        let e;
        if (found && !found.e._deleted) {
            e = op === 'patch' ? { ...JSON.parse(JSON.stringify(found.e)), ...withoutReadOnly(fields) } : { ...newEvent(fake, c, fields), id: found.e.id, createdDateTime: found.e.createdDateTime, type: found.e.type, seriesMasterId: found.e.seriesMasterId, originalStart: found.e.originalStart };
            if (e.type === 'singleInstance' && e.recurrence) e.type = 'seriesMaster';
        } else {
            if (op === 'patch') throw new Error(`event ${fields.id} does not exist`);
            e = newEvent(fake, c, fields);
            if (fields.id) e.id = fields.id;
        }
        const bad = checked(e);
        if (bad) throw new Error(`event ${e.id}: ${bad.body.error.message}`);
        store(fake, c, found && !found.virtual ? found.e : null, e);
        out.push(render(c, { event: e }, utc, true));
    }
    return { calendar: c.id, events: out };
}

function controlList(fake, q) {
    const c = controlCalendarFor(fake, { calendar: q.get('calendar'), user: q.get('user') });
    const utc = { zone: 'UTC', label: 'UTC' };
    return {
        calendar: c.id, user: c.owner,
        events: [...c.events.values()].map((e) => (e._deleted ? { id: e.id, deleted: true, transactionId: e.transactionId || null, subject: e.subject } : render(c, { event: e }, utc, true))),
    };
}

module.exports = { handleApi, handleToken, injected, defaultCalendar, controlCalendar, controlEvents, controlList };
