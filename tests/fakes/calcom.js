'use strict';
/*
 * Cal.com API v2, bookings version 2024-08-13 (list, get, create, reschedule,
 * cancel), user webhooks (/v2/webhooks) and /v2/me; served under /calcom/v2.
 * Webhook deliveries are signed as Cal.com signs them: X-Cal-Signature-256 is
 * the hex HMAC-SHA256 of the raw body with the webhook's secret, or the literal
 * "no-secret-provided" without one.
 *
 * The fake serves only the 2024-08-13 shapes: a bookings request without
 * `cal-api-version: 2024-08-13` is refused with 400 (the real service would
 * answer an older version's shapes). A webhook's payloadTemplate is stored but
 * not rendered: deliveries always carry the default body.
 */
const crypto = require('crypto');
const time = require('./time.js');
const { randomToken } = require('./core.js');

const VERSION = '2024-08-13';

function error(req, status, code, message, details) {
    const err = { code, message };
    if (details) err.details = details;
    return { status, headers: { 'X-Request-Id': crypto.randomUUID() }, body: { status: 'error', timestamp: new Date().toISOString(), path: `/v2${req.path}`, error: err } };
}

function injected(req, status, reason) {
    const usual = {
        400: 'BadRequestException', 401: 'UnauthorizedException', 403: 'ForbiddenException', 404: 'NotFoundException',
        409: 'ConflictException', 429: 'ThrottlerException', 500: 'InternalServerErrorException', 503: 'ServiceUnavailableException',
    };
    const code = reason || usual[status] || 'InternalServerErrorException';
    return error(req, status, code, status === 429 ? 'ThrottlerException: Too Many Requests' : code);
}

function ok(status, data, extra = {}) {
    return { status, body: { status: 'success', data, ...extra } };
}

const state = (fake) => fake.state.calcom;

function userBy(fake, ref) {
    const s = state(fake);
    return s.users.find((u) => u.id === ref || u.username === ref || u.email === ref || u.api_key === ref) || null;
}

function publicBooking(b) {
    const out = {};
    for (const [k, v] of Object.entries(b)) if (k[0] !== '_') out[k] = v;
    return out;
}

function hostOf(u) {
    return { id: u.id, name: u.name, email: u.email, username: u.username, timeZone: u.timeZone };
}

function overlapping(fake, hostId, startMs, endMs, exceptUid) {
    return state(fake).bookings.find((b) => b._host === hostId && b.uid !== exceptUid && ['accepted', 'pending'].includes(b.status) &&
        Date.parse(b.start) < endMs && Date.parse(b.end) > startMs) || null;
}

/** Makes a booking object (not stored). Throws {status, code, message} on bad input. */
function makeBooking(fake, fields, { checkTimes }) {
    const fail = (status, code, message) => Object.assign(new Error(message), { status, code });
    const s = state(fake);
    let et = null;
    if (fields.eventTypeId !== undefined) et = s.eventTypes.find((x) => x.id === fields.eventTypeId);
    else if (fields.eventTypeSlug && fields.username) {
        const u = userBy(fake, fields.username);
        et = u ? s.eventTypes.find((x) => x.slug === fields.eventTypeSlug && x.userId === u.id) : null;
    } else throw fail(400, 'BadRequestException', 'Either eventTypeId or eventTypeSlug + username must be provided');
    if (!et) throw fail(404, 'NotFoundException', `Event type with id=${fields.eventTypeId} not found`);
    const host = s.users.find((u) => u.id === et.userId);
    const startMs = typeof fields.start === 'string' ? time.parseDateTime(fields.start, null) : null;
    if (startMs === null) throw fail(400, 'BadRequestException', 'start must be a valid ISO 8601 date string in UTC');
    const a = fields.attendee;
    if (!a || typeof a !== 'object' || typeof a.name !== 'string' || a.name === '') throw fail(400, 'BadRequestException', 'attendee.name must be a string');
    if (!time.validZone(a.timeZone)) throw fail(400, 'BadRequestException', 'attendee.timeZone must be a valid IANA time zone');
    let length = et.length;
    if (fields.lengthInMinutes !== undefined) {
        if (!(et.lengths || [et.length]).includes(fields.lengthInMinutes)) throw fail(400, 'BadRequestException', `lengthInMinutes must be one of ${(et.lengths || [et.length]).join(', ')}`);
        length = fields.lengthInMinutes;
    }
    const endMs = startMs + length * 60000;
    if (checkTimes) {
        if (startMs < fake.now()) throw fail(400, 'BadRequestException', 'Attempting to book a meeting in the past.');
        if (overlapping(fake, host.id, startMs, endMs, fields._exceptUid)) throw fail(400, 'BadRequestException', 'User either already has booking at this time or is not available');
    }
    if (fields.metadata !== undefined) {
        const m = fields.metadata;
        if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.keys(m).length > 50 ||
            Object.entries(m).some(([k, v]) => k.length > 40 || typeof v !== 'string' || v.length > 500)) {
            throw fail(400, 'BadRequestException', 'metadata: at most 50 keys of at most 40 characters, string values of at most 500');
        }
    }
    const now = time.isoMs(fake.now());
    const id = s.nextId++;
    const attendee = { name: a.name, email: a.email || '', timeZone: a.timeZone, language: a.language || 'en', absent: false };
    if (a.phoneNumber) attendee.phoneNumber = a.phoneNumber;
    return {
        id, uid: randomToken('', 16), title: `${et.title} between ${host.name} and ${a.name}`, description: fields.description || '',
        hosts: [hostOf(host)], status: fields.status || 'accepted', start: time.isoMs(startMs), end: time.isoMs(endMs), duration: length,
        eventTypeId: et.id, eventType: { id: et.id, slug: et.slug }, meetingUrl: null, location: fields.location && fields.location.type === 'address' ? et.address || '' : '',
        absentHost: false, createdAt: now, updatedAt: now, metadata: fields.metadata || {}, icsUid: `${randomToken('', 12)}@Cal.com`,
        attendees: [attendee], guests: fields.guests || [], bookingFieldsResponses: { name: a.name, email: a.email || '', ...(fields.bookingFieldsResponses || {}) },
        _host: host.id,
    };
}

/* ---- webhooks out ---- */

function utcOffset(zone, ms) {
    const f = time.utcToLocal(ms, zone);
    return Math.round((time.fieldsAsUtc(f) - Math.floor(ms / 1000) * 1000) / 60000);
}

function payloadOf(fake, b, extra) {
    const s = state(fake);
    const host = s.users.find((u) => u.id === b._host);
    const et = s.eventTypes.find((x) => x.id === b.eventTypeId);
    const startMs = Date.parse(b.start);
    return {
        type: et.slug, title: b.title, description: b.description, additionalNotes: '', customInputs: {},
        startTime: time.isoSeconds(startMs), endTime: time.isoSeconds(Date.parse(b.end)),
        organizer: { id: host.id, name: host.name, email: host.email, username: host.username, timeZone: host.timeZone, language: { locale: 'en' }, timeFormat: 'h:mma', utcOffset: utcOffset(host.timeZone, startMs) },
        responses: { name: { label: 'your_name', value: b.attendees[0].name }, email: { label: 'email_address', value: b.attendees[0].email } },
        userFieldsResponses: {},
        attendees: b.attendees.map((a) => ({ email: a.email, name: a.name, timeZone: a.timeZone, language: { locale: a.language }, utcOffset: utcOffset(a.timeZone, startMs) })),
        location: b.location, uid: b.uid, bookingId: b.id, eventTypeId: b.eventTypeId, length: b.duration, metadata: b.metadata,
        status: b.status.toUpperCase(), ...extra,
    };
}

function sendWebhooks(fake, hostId, trigger, payload) {
    for (const w of state(fake).webhooks) {
        if (w.userId !== hostId || !w.active || !w.triggers.includes(trigger)) continue;
        const body = JSON.stringify({ triggerEvent: trigger, createdAt: new Date(fake.now()).toISOString(), payload });
        const signature = w.secret ? crypto.createHmac('sha256', w.secret).update(body).digest('hex') : 'no-secret-provided';
        fake.deliver({ provider: 'calcom', kind: 'calcom-webhook', url: w.subscriberUrl, headers: { 'Content-Type': 'application/json', 'X-Cal-Signature-256': signature }, body });
    }
}

/* ---- booking changes, shared by the API and the control routes ---- */

function create(fake, fields, checkTimes) {
    const b = makeBooking(fake, fields, { checkTimes });
    b._rev = fake.nextRev();
    state(fake).bookings.push(b);
    sendWebhooks(fake, b._host, 'BOOKING_CREATED', payloadOf(fake, b, {}));
    return b;
}

function cancel(fake, b, fields) {
    b.status = 'cancelled';
    b.cancellationReason = fields.cancellationReason || null;
    if (fields.cancelledByEmail) b.cancelledByEmail = fields.cancelledByEmail;
    b.updatedAt = time.isoMs(fake.now());
    b._rev = fake.nextRev();
    sendWebhooks(fake, b._host, 'BOOKING_CANCELLED', payloadOf(fake, b, { cancellationReason: b.cancellationReason, cancelledBy: fields.cancelledByEmail || null }));
    return b;
}

function reschedule(fake, old, fields, checkTimes) {
    const next = makeBooking(fake, {
        eventTypeId: old.eventTypeId, start: fields.start, attendee: old.attendees[0], metadata: old.metadata,
        lengthInMinutes: old.duration, description: old.description, guests: old.guests, _exceptUid: old.uid,
    }, { checkTimes });
    next.rescheduledFromUid = old.uid;
    if (fields.reschedulingReason) next.reschedulingReason = fields.reschedulingReason;
    if (fields.rescheduledBy) next.rescheduledByEmail = fields.rescheduledBy;
    next._rev = fake.nextRev();
    old.status = 'cancelled';
    old.rescheduledToUid = next.uid;
    old.updatedAt = time.isoMs(fake.now());
    old._rev = next._rev;
    state(fake).bookings.push(next);
    sendWebhooks(fake, next._host, 'BOOKING_RESCHEDULED', payloadOf(fake, next, {
        rescheduleUid: old.uid, rescheduleId: old.id, rescheduleStartTime: time.isoSeconds(Date.parse(old.start)),
        rescheduleEndTime: time.isoSeconds(Date.parse(old.end)), rescheduledBy: fields.rescheduledBy || null,
    }));
    return next;
}

/* ---- the API ---- */

function auth(fake, req) {
    const h = req.headers.authorization;
    if (!h) return { missing: true };
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const u = m ? state(fake).users.find((x) => x.api_key === m[1]) : null;
    return u ? { user: u } : { invalid: true };
}

function listBookings(fake, req, user) {
    const q = req.query;
    const now = fake.now();
    const statuses = q.has('status') ? q.get('status').split(',') : null;
    const bad = statuses && statuses.find((x) => !['upcoming', 'recurring', 'past', 'cancelled', 'unconfirmed'].includes(x));
    if (bad) return error(req, 400, 'BadRequestException', `status must be one of upcoming, recurring, past, cancelled, unconfirmed (got ${bad})`);
    const dates = {};
    for (const name of ['afterStart', 'beforeEnd', 'afterCreatedAt', 'beforeCreatedAt', 'afterUpdatedAt', 'beforeUpdatedAt']) {
        if (!q.has(name)) continue;
        const v = q.get(name);
        const ms = time.parseDateTime(v, 'UTC') ?? (time.parseDate(v) ? time.fieldsAsUtc(time.parseDate(v)) : null);
        if (ms === null) return error(req, 400, 'BadRequestException', `${name} must be a valid ISO 8601 date string`);
        dates[name] = ms;
    }
    const take = q.has('take') ? Number(q.get('take')) : 100;
    const skip = q.has('skip') ? Number(q.get('skip')) : 0;
    if (!Number.isInteger(take) || take < 1 || take > 250) return error(req, 400, 'BadRequestException', 'take must be an integer from 1 to 250');
    if (!Number.isInteger(skip) || skip < 0) return error(req, 400, 'BadRequestException', 'skip must be a non-negative integer');
    const is = (b, st) => {
        const end = Date.parse(b.end);
        const live = !['cancelled', 'rejected'].includes(b.status);
        if (st === 'upcoming') return live && end >= now;
        if (st === 'recurring') return live && end >= now && !!b.recurringBookingUid;
        if (st === 'past') return live && end < now;
        if (st === 'cancelled') return !live;
        return b.status === 'pending' && end >= now;
    };
    const ids = (name) => (q.has(name) ? q.get(name).split(',').map(Number) : null);
    const eventTypeIds = ids('eventTypeIds') || ids('eventTypeId');
    let list = state(fake).bookings.filter((b) => b._host === user.id)
        .filter((b) => !statuses || statuses.some((st) => is(b, st)))
        .filter((b) => !q.has('bookingUid') || b.uid === q.get('bookingUid'))
        .filter((b) => !q.has('attendeeEmail') || b.attendees.some((a) => a.email === q.get('attendeeEmail')))
        .filter((b) => !q.has('attendeeName') || b.attendees.some((a) => a.name === q.get('attendeeName')))
        .filter((b) => !eventTypeIds || eventTypeIds.includes(b.eventTypeId))
        .filter((b) => dates.afterStart === undefined || Date.parse(b.start) >= dates.afterStart)
        .filter((b) => dates.beforeEnd === undefined || Date.parse(b.end) <= dates.beforeEnd)
        .filter((b) => dates.afterCreatedAt === undefined || Date.parse(b.createdAt) >= dates.afterCreatedAt)
        .filter((b) => dates.beforeCreatedAt === undefined || Date.parse(b.createdAt) <= dates.beforeCreatedAt)
        .filter((b) => dates.afterUpdatedAt === undefined || Date.parse(b.updatedAt) >= dates.afterUpdatedAt)
        .filter((b) => dates.beforeUpdatedAt === undefined || Date.parse(b.updatedAt) <= dates.beforeUpdatedAt);
    const sorts = [['sortStart', 'start'], ['sortEnd', 'end'], ['sortCreated', 'createdAt'], ['sortUpdatedAt', 'updatedAt']];
    const sort = sorts.find(([p]) => q.has(p)) || ['sortStart', 'start'];
    const dir = q.get(sort[0]) === 'desc' ? -1 : 1;
    list = list.slice().sort((a, b) => dir * (Date.parse(a[sort[1]]) - Date.parse(b[sort[1]])) || a.id - b.id);
    const size = Math.min(take, fake.config.calcom_page_size || take);
    const page = list.slice(skip, skip + size);
    const totalPages = Math.max(1, Math.ceil(list.length / size));
    const currentPage = Math.floor(skip / size) + 1;
    return ok(200, page.map(publicBooking), {
        pagination: {
            totalItems: list.length, remainingItems: Math.max(0, list.length - skip - page.length), returnedItems: page.length,
            itemsPerPage: size, currentPage, totalPages, hasNextPage: skip + page.length < list.length, hasPreviousPage: skip > 0,
        },
    });
}

function asError(req, e) {
    if (e && e.status) return error(req, e.status, e.code, e.message);
    throw e;
}

function bookings(fake, req, who, parts) {
    if (req.headers['cal-api-version'] !== VERSION) {
        return error(req, 400, 'BadRequestException', `this fake serves bookings in cal-api-version ${VERSION} only (got ${req.headers['cal-api-version'] || 'none'})`);
    }
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : null;
    if (parts.length === 1) {
        if (req.method === 'GET') {
            if (!who.user) return error(req, 401, 'UnauthorizedException', who.missing ? 'No authorization header provided' : 'Invalid API key');
            return listBookings(fake, req, who.user);
        }
        if (req.method === 'POST') {
            if (who.invalid) return error(req, 401, 'UnauthorizedException', 'Invalid API key');
            if (!body) return error(req, 400, 'BadRequestException', 'a JSON body is required');
            try {
                return ok(201, publicBooking(create(fake, body, true)));
            } catch (e) {
                return asError(req, e);
            }
        }
        return error(req, 404, 'NotFoundException', `Cannot ${req.method} /v2${req.path}`);
    }
    const b = state(fake).bookings.find((x) => x.uid === parts[1]);
    if (who.invalid) return error(req, 401, 'UnauthorizedException', 'Invalid API key');
    if (!b) return error(req, 404, 'NotFoundException', `Booking with uid=${parts[1]} was not found in the database`);
    if (who.user && b._host !== who.user.id) return error(req, 403, 'ForbiddenException', 'You are not allowed to access this booking');
    if (parts.length === 2 && req.method === 'GET') return ok(200, publicBooking(b));
    if (parts.length === 3 && req.method === 'POST' && parts[2] === 'cancel') {
        if (b.status === 'cancelled') return error(req, 400, 'BadRequestException', 'This booking has already been cancelled.');
        return ok(200, publicBooking(cancel(fake, b, body || {})));
    }
    if (parts.length === 3 && req.method === 'POST' && parts[2] === 'reschedule') {
        if (!body || typeof body.start !== 'string') return error(req, 400, 'BadRequestException', 'start must be a valid ISO 8601 date string in UTC');
        if (b.status === 'cancelled') return error(req, 400, 'BadRequestException', 'Cannot reschedule a cancelled booking.');
        try {
            return ok(201, publicBooking(reschedule(fake, b, body, true)));
        } catch (e) {
            return asError(req, e);
        }
    }
    return error(req, 404, 'NotFoundException', `Cannot ${req.method} /v2${req.path}`);
}

const TRIGGERS = ['BOOKING_CREATED', 'BOOKING_PAYMENT_INITIATED', 'BOOKING_PAID', 'BOOKING_RESCHEDULED', 'BOOKING_REQUESTED', 'BOOKING_CANCELLED',
    'BOOKING_REJECTED', 'BOOKING_NO_SHOW_UPDATED', 'FORM_SUBMITTED', 'MEETING_ENDED', 'MEETING_STARTED', 'RECORDING_READY', 'INSTANT_MEETING',
    'RECORDING_TRANSCRIPTION_GENERATED', 'OOO_CREATED', 'AFTER_HOSTS_CAL_VIDEO_NO_SHOW', 'AFTER_GUESTS_CAL_VIDEO_NO_SHOW', 'FORM_SUBMITTED_NO_EVENT'];

/** Adds a user webhook; throws an Error naming the bad field. */
function addWebhook(fake, user, b) {
    if (typeof b.subscriberUrl !== 'string' || !/^https?:\/\//.test(b.subscriberUrl)) throw new Error('subscriberUrl must be a URL');
    const triggers = b.triggers === undefined ? ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED'] : b.triggers;
    if (!Array.isArray(triggers) || triggers.some((t) => !TRIGGERS.includes(t))) throw new Error('triggers must be a list of webhook triggers');
    const w = {
        id: state(fake).nextId++, userId: user.id, subscriberUrl: b.subscriberUrl, triggers, active: b.active === undefined ? true : !!b.active,
        payloadTemplate: b.payloadTemplate || null, secret: b.secret || null,
    };
    state(fake).webhooks.push(w);
    fake.changed();
    return w;
}

function webhooks(fake, req, who, parts) {
    if (!who.user) return error(req, 401, 'UnauthorizedException', who.missing ? 'No authorization header provided' : 'Invalid API key');
    const mine = state(fake).webhooks.filter((w) => w.userId === who.user.id);
    if (parts.length === 1 && req.method === 'GET') return ok(200, mine);
    if (parts.length === 1 && req.method === 'POST') {
        const b = req.body || {};
        if (typeof b.active !== 'boolean') return error(req, 400, 'BadRequestException', 'active must be a boolean value');
        if (!Array.isArray(b.triggers)) return error(req, 400, 'BadRequestException', 'triggers must be an array');
        try {
            return ok(201, addWebhook(fake, who.user, b));
        } catch (e) {
            return error(req, 400, 'BadRequestException', e.message);
        }
    }
    const w = mine.find((x) => String(x.id) === parts[1]);
    if (!w) return error(req, 404, 'NotFoundException', `Webhook with id=${parts[1]} not found`);
    if (req.method === 'GET') return ok(200, w);
    if (req.method === 'PATCH') {
        const b = req.body || {};
        for (const k of ['subscriberUrl', 'triggers', 'active', 'payloadTemplate', 'secret']) if (b[k] !== undefined) w[k] = b[k];
        fake.changed();
        return ok(200, w);
    }
    if (req.method === 'DELETE') {
        state(fake).webhooks.splice(state(fake).webhooks.indexOf(w), 1);
        fake.changed();
        return ok(200, w);
    }
    return error(req, 404, 'NotFoundException', `Cannot ${req.method} /v2${req.path}`);
}

/** Serves a request under /calcom/v2 (`req.path` is the rest). */
function handleApi(fake, req) {
    const who = auth(fake, req);
    const parts = req.path.split('/').filter((s) => s !== '');
    if (parts[0] === 'bookings') return bookings(fake, req, who, parts);
    if (parts[0] === 'webhooks') return webhooks(fake, req, who, parts);
    if (parts[0] === 'me' && parts.length === 1 && req.method === 'GET') {
        if (!who.user) return error(req, 401, 'UnauthorizedException', who.missing ? 'No authorization header provided' : 'Invalid API key');
        const u = who.user;
        return ok(200, { id: u.id, username: u.username, email: u.email, name: u.name, timeZone: u.timeZone, weekStart: 'Monday', timeFormat: 12, defaultScheduleId: null, organizationId: null });
    }
    return error(req, 404, 'NotFoundException', `Cannot ${req.method} /v2${req.path}`);
}

/* ---- control ---- */

function controlUser(fake, b) {
    const s = state(fake);
    const id = s.nextId++;
    if (b.timeZone !== undefined && !time.validZone(b.timeZone)) throw new Error(`timeZone ${b.timeZone} is not a known zone`);
    const u = {
        id, username: b.username || `user${id}`, email: b.email || `user${id}@cal.test`, name: b.name || `User ${id}`,
        timeZone: b.timeZone || 'UTC', api_key: b.api_key || randomToken('cal_test_', 18),
    };
    if (s.users.some((x) => x.api_key === u.api_key || x.username === u.username)) throw new Error('api_key and username must be unique');
    s.users.push(u);
    fake.changed();
    return u;
}

function controlUserOf(fake, ref) {
    const u = userBy(fake, ref);
    if (!u) throw new Error(`user ${ref} does not exist (POST /_fake/calcom/users)`);
    return u;
}

function controlEventType(fake, b) {
    const u = controlUserOf(fake, b.user);
    const s = state(fake);
    const length = b.length === undefined ? 30 : b.length;
    if (!Number.isInteger(length) || length < 1) throw new Error('length must be whole minutes');
    const et = { id: b.id || s.nextId++, userId: u.id, slug: b.slug || `${length}min`, title: b.title || `${length} Min Meeting`, length, lengths: b.lengths || [length], address: b.address || '' };
    if (s.eventTypes.some((x) => x.id === et.id)) throw new Error(`event type ${et.id} exists`);
    s.eventTypes.push(et);
    fake.changed();
    return et;
}

/**
 * Changes bookings as people would on Cal.com: {bookings:[...]}, each
 * {op:"create", eventTypeId, start, attendee, metadata?, status?} |
 * {op:"cancel", uid, cancellationReason?} | {op:"reschedule", uid, start}.
 * No past or overlap check (that is the booker's page); webhooks are sent.
 */
function controlBookings(fake, b) {
    const list = Array.isArray(b.bookings) ? b.bookings : [b];
    const out = [];
    for (const item of list) {
        const op = item.op || 'create';
        if (!['create', 'cancel', 'reschedule'].includes(op)) throw new Error(`op ${op} is not create, cancel or reschedule`);
        if (op === 'create') {
            out.push(publicBooking(create(fake, { attendee: { name: 'Walk-in', timeZone: 'UTC' }, ...item }, false)));
            continue;
        }
        const found = state(fake).bookings.find((x) => x.uid === item.uid);
        if (!found) throw new Error(`booking ${item.uid} does not exist`);
        out.push(publicBooking(op === 'cancel' ? cancel(fake, found, item) : reschedule(fake, found, item, false)));
    }
    return { bookings: out };
}

function controlList(fake, q) {
    const u = q.has('user') ? controlUserOf(fake, q.get('user')) : null;
    return { bookings: state(fake).bookings.filter((b) => !u || b._host === u.id).map(publicBooking) };
}

function controlWebhook(fake, b) {
    return addWebhook(fake, controlUserOf(fake, b.user), b);
}

module.exports = { handleApi, injected, controlUser, controlEventType, controlBookings, controlList, controlWebhook };
