'use strict';
/*
 * One calendar of the fake, shared by the Google and the Graph faces: events by
 * id (in insertion order), each with the revision of its last change, deleted
 * ones kept as tombstones, and the instances of recurring series computed from
 * their master on demand.
 *
 * Revisions come from one counter of the whole fake (state.rev): a sync token or
 * a delta link remembers the revision it was issued at, and a later round
 * returns exactly the events (and instances) whose revision is newer. When a
 * series changes, the instances it no longer produces are recorded as instance
 * tombstones at the new revision, so an incremental round with expanded
 * instances reports them as deleted.
 *
 * Each face supplies an adapter: timing(event) gives the event's time
 * ({startMs, endMs, allDay, start fields, zone, days, duration, rule, exdates,
 * rdates}, computed once per stored object), masterOf(event) names the series
 * an exception belongs to, and instanceId(masterId, key) names an instance.
 */
const time = require('./time.js');

class Calendar {
    constructor(fields) {
        this.id = fields.id;
        this.owner = fields.owner;
        this.timeZone = fields.timeZone || 'UTC';
        this.name = fields.name || fields.id;
        this.isDefault = !!fields.isDefault;
        this.updated = fields.updated || Date.now();
        this.events = new Map((fields.events || []).map((e) => [e.id, e]));
        this.instanceTombstones = fields.instanceTombstones || [];
    }

    toJSON() {
        return {
            id: this.id, owner: this.owner, timeZone: this.timeZone, name: this.name, isDefault: this.isDefault,
            updated: this.updated, events: [...this.events.values()], instanceTombstones: this.instanceTombstones,
        };
    }
}

const timings = new WeakMap();

/** The adapter's timing of a stored event, computed once per object (null when it has none). */
function timingOf(adapter, cal, event) {
    if (!timings.has(event)) {
        let t = null;
        try {
            t = adapter.timing(event, cal);
        } catch (e) {
            t = null;
        }
        timings.set(event, t);
    }
    return timings.get(event);
}

function overlaps(t, from, to) {
    return (from === null || t.endMs > from) && (to === null || t.startMs < to);
}

/** The instances of master `m` overlapping [from, to) (null bounds: open; `to` null uses the horizon). */
function instancesOf(adapter, cal, m, from, to, horizonMs, limit) {
    const t = timingOf(adapter, cal, m);
    if (!t || !t.rule) return [];
    return time.expandSeries({ ...t, from, to: to === null ? horizonMs : to, limit: limit || 2500 })
        .map((i) => ({ ...i, id: adapter.instanceId(m.id, i.key) }));
}

/**
 * What a list shows, as views {event, instance?, master?, deleted}:
 * `expand` gives instances instead of masters (exceptions replace theirs),
 * `includeDeleted` adds tombstones (deleted events, cancelled instances),
 * `cancelledExceptions` adds cancelled exceptions even without includeDeleted
 * (Google's singleEvents=false rule).
 */
function visible(adapter, cal, { from, to, expand, includeDeleted, cancelledExceptions, horizonMs }) {
    const out = [];
    for (const e of cal.events.values()) {
        const masterId = adapter.masterOf(e);
        const master = masterId ? cal.events.get(masterId) : null;
        if (masterId && master && !master._deleted) {
            if (e._deleted) {
                if (includeDeleted || (!expand && cancelledExceptions)) out.push({ event: e, deleted: true });
                continue;
            }
            const t = timingOf(adapter, cal, e);
            if (t && overlaps(t, from, to)) out.push({ event: e, deleted: false });
            continue;
        }
        if (masterId) continue; /* an exception of a deleted series */
        const t = timingOf(adapter, cal, e);
        if (e._deleted) {
            if (includeDeleted) out.push({ event: e, deleted: true });
            continue;
        }
        if (!t) continue;
        if (!t.rule) {
            if (overlaps(t, from, to)) out.push({ event: e, deleted: false });
            continue;
        }
        const instances = instancesOf(adapter, cal, e, from, to, horizonMs);
        if (!expand) {
            if (instances.length) out.push({ event: e, deleted: false });
            continue;
        }
        for (const i of instances) if (!cal.events.has(i.id)) out.push({ event: e, instance: i, master: e, deleted: false });
    }
    if (includeDeleted && expand) {
        for (const tomb of cal.instanceTombstones) out.push({ event: { id: tomb.id, _rev: tomb.rev }, tombstone: tomb, deleted: true });
    }
    return out;
}

/**
 * What changed since revision `rev`, as views: events (and, with `expand`, the
 * instances of changed series and the instance tombstones) newer than `rev`.
 * Views outside [from, to) are marked `outside` (Graph reports them removed).
 */
function changedSince(adapter, cal, rev, { expand, from, to, horizonMs }) {
    const out = [];
    for (const e of cal.events.values()) {
        const masterId = adapter.masterOf(e);
        const t = timingOf(adapter, cal, e);
        if (!expand || !t || !t.rule || masterId) {
            if (e._rev > rev) {
                const outside = !e._deleted && t ? !overlaps(t, from, to) : false;
                out.push({ event: e, deleted: !!e._deleted, outside });
            }
            continue;
        }
        if (e._rev <= rev || e._deleted) continue;
        for (const i of instancesOf(adapter, cal, e, from, to, horizonMs)) {
            if (!cal.events.has(i.id)) out.push({ event: e, instance: i, master: e, deleted: false, outside: false });
        }
    }
    if (expand) {
        for (const tomb of cal.instanceTombstones) {
            if (tomb.rev > rev) out.push({ event: { id: tomb.id, _rev: tomb.rev }, tombstone: tomb, deleted: true });
        }
    }
    return out;
}

/** Records the instances a series change removes (old master `before`, new `after` or null). */
function recordSeriesChange(adapter, cal, before, after, rev, horizonMs) {
    const ids = (m) => {
        if (!m || m._deleted) return new Set();
        return new Set(instancesOf(adapter, cal, m, null, null, horizonMs).map((i) => i.id));
    };
    const old = ids(before);
    const now = ids(after);
    cal.instanceTombstones = cal.instanceTombstones.filter((t) => !now.has(t.id) && !old.has(t.id));
    for (const id of old) if (!now.has(id)) cal.instanceTombstones.push({ id, rev, master: before.id });
}

/** How far an unbounded series expands when no window bounds it: recurrence_horizon_days from now. */
function horizon(fake) {
    return fake.now() + fake.config.recurrence_horizon_days * time.DAY_MS;
}

module.exports = { Calendar, horizon, timingOf, instancesOf, visible, changedSince, recordSeriesChange, overlaps };
