'use strict';
/*
 * Time for the fake providers: instants as UTC milliseconds inside, RFC 3339 and
 * wall-clock strings at the edges, IANA zones through Intl (the system's tzdata),
 * and a recurrence expander for the subset of RFC 5545 rules a calendar app
 * writes (FREQ DAILY/WEEKLY/MONTHLY/YEARLY with INTERVAL, COUNT, UNTIL, BYDAY
 * (with ordinals in monthly and yearly rules), BYMONTHDAY, BYMONTH, BYSETPOS,
 * WKST; EXDATE and RDATE). Anything else in a rule is refused, so a test never
 * silently gets an expansion the real provider would not make.
 *
 * A local time that does not exist (a spring-forward gap) is read with the
 * offset before the gap, an ambiguous one (fall back) as its first occurrence,
 * as RFC 5545 section 3.3.5 says.
 */

const DAY_MS = 86400000;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

const formatters = new Map();
function formatter(zone) {
    let f = formatters.get(zone);
    if (!f) {
        f = new Intl.DateTimeFormat('en-US', {
            timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
            hour: '2-digit', minute: '2-digit', second: '2-digit',
        });
        formatters.set(zone, f);
    }
    return f;
}

/** True when `zone` is an IANA zone name the system knows. */
function validZone(zone) {
    if (typeof zone !== 'string' || zone === '') return false;
    try {
        formatter(zone);
        return true;
    } catch (e) {
        return false;
    }
}

/** The wall-clock fields {y, mo, d, h, mi, s} of instant `ms` in `zone` (mo 1-12). */
function utcToLocal(ms, zone) {
    const sec = Math.floor(ms / 1000) * 1000;
    const parts = {};
    for (const p of formatter(zone).formatToParts(new Date(sec))) parts[p.type] = p.value;
    return { y: +parts.year, mo: +parts.month, d: +parts.day, h: +parts.hour, mi: +parts.minute, s: +parts.second };
}

function fieldsAsUtc(f) {
    return Date.UTC(f.y, f.mo - 1, f.d, f.h || 0, f.mi || 0, f.s || 0);
}

function offsetAt(ms, zone) {
    return fieldsAsUtc(utcToLocal(ms, zone)) - Math.floor(ms / 1000) * 1000;
}

/** The instant of wall-clock fields `f` in `zone` (RFC 5545 3.3.5 for gaps and overlaps). */
function localToUtc(f, zone) {
    const guess = fieldsAsUtc(f);
    /* The offsets in force a day either side cover every transition near the time. */
    const before = offsetAt(guess - DAY_MS, zone);
    const after = offsetAt(guess + DAY_MS, zone);
    const candidates = [guess - before, guess - after].sort((a, b) => a - b);
    for (const t of candidates) if (fieldsAsUtc(utcToLocal(t, zone)) === guess) return t;
    return guess - before; /* in a gap: the offset before it */
}

function pad(n, w = 2) {
    return String(n).padStart(w, '0');
}

/** "YYYY-MM-DD" of fields. */
function dateString(f) {
    return `${pad(f.y, 4)}-${pad(f.mo)}-${pad(f.d)}`;
}

/** "YYYY-MM-DDTHH:MM:SS" of fields (no offset). */
function wallString(f) {
    return `${dateString(f)}T${pad(f.h)}:${pad(f.mi)}:${pad(f.s)}`;
}

/** An instant as RFC 3339 UTC with milliseconds ("2026-03-01T12:00:01.123Z"). */
function isoMs(ms) {
    return new Date(ms).toISOString();
}

/** An instant as RFC 3339 UTC without fractions ("2026-03-01T12:00:01Z"). */
function isoSeconds(ms) {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** An instant as RFC 3339 with the offset of `zone` ("2026-03-10T10:00:00+01:00"). */
function isoInZone(ms, zone) {
    const f = utcToLocal(ms, zone);
    const off = Math.round(offsetAt(ms, zone) / 60000);
    if (off === 0 && zone === 'UTC') return `${wallString(f)}Z`;
    const sign = off < 0 ? '-' : '+';
    const a = Math.abs(off);
    return `${wallString(f)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function validFields(f) {
    if (f.mo < 1 || f.mo > 12 || f.d < 1 || f.h > 23 || f.mi > 59 || f.s > 60) return false;
    const back = new Date(Date.UTC(f.y, f.mo - 1, f.d));
    return back.getUTCFullYear() === f.y && back.getUTCMonth() === f.mo - 1 && back.getUTCDate() === f.d;
}

/**
 * Reads a date-time. With an offset (or Z) it is an instant; without one it is
 * wall-clock time in `zone` (null when no zone is given). Fractions are kept to
 * the millisecond. Returns null when the text is not a valid date-time.
 */
function parseDateTime(text, zone) {
    if (typeof text !== 'string') return null;
    const m = RFC3339.exec(text);
    if (!m) return null;
    const f = { y: +m[1], mo: +m[2], d: +m[3], h: +m[4], mi: +m[5], s: Math.min(+m[6], 59) };
    if (!validFields(f)) return null;
    const frac = m[7] ? Math.floor(Number('0' + m[7]) * 1000) : 0;
    if (m[8]) {
        let off = 0;
        if (m[8] !== 'Z' && m[8] !== 'z') {
            const sign = m[8][0] === '-' ? -1 : 1;
            off = sign * (+m[8].slice(1, 3) * 60 + +m[8].slice(4, 6)) * 60000;
        }
        return fieldsAsUtc(f) - off + frac;
    }
    if (!zone || !validZone(zone)) return null;
    return localToUtc(f, zone) + frac;
}

/** Reads "YYYY-MM-DD" into fields at midnight, or null. */
function parseDate(text) {
    if (typeof text !== 'string') return null;
    const m = DATE_ONLY.exec(text);
    if (!m) return null;
    const f = { y: +m[1], mo: +m[2], d: +m[3], h: 0, mi: 0, s: 0 };
    return validFields(f) ? f : null;
}

/** Fields `days` calendar days after `f` (time of day kept). */
function addDays(f, days) {
    const t = new Date(Date.UTC(f.y, f.mo - 1, f.d + days));
    return { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), h: f.h, mi: f.mi, s: f.s };
}

function weekday(f) {
    return new Date(Date.UTC(f.y, f.mo - 1, f.d)).getUTCDay();
}

function daysInMonth(y, mo) {
    return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/* ---- recurrence ---- */

/**
 * Parses an RRULE value ("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260630T215959Z", with or
 * without the "RRULE:" prefix). Throws an Error naming the part it cannot take.
 */
function parseRule(text) {
    const body = String(text).replace(/^RRULE:/i, '');
    const rule = { freq: null, interval: 1, count: null, until: null, byday: null, bymonthday: null, bymonth: null, bysetpos: null, wkst: 1 };
    for (const part of body.split(';')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        if (eq < 0) throw new Error(`recurrence rule part "${part}" has no value`);
        const key = part.slice(0, eq).toUpperCase();
        const value = part.slice(eq + 1);
        const ints = () => value.split(',').map((v) => {
            if (!/^[+-]?\d+$/.test(v)) throw new Error(`${key} value "${v}" is not a number`);
            return parseInt(v, 10);
        });
        switch (key) {
        case 'FREQ':
            if (!['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(value.toUpperCase())) throw new Error(`FREQ=${value} is not supported`);
            rule.freq = value.toUpperCase();
            break;
        case 'INTERVAL':
            rule.interval = ints()[0];
            if (!(rule.interval >= 1)) throw new Error('INTERVAL must be 1 or more');
            break;
        case 'COUNT':
            rule.count = ints()[0];
            if (!(rule.count >= 1)) throw new Error('COUNT must be 1 or more');
            break;
        case 'UNTIL': {
            const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(value);
            if (!m) throw new Error(`UNTIL=${value} is not a date or date-time`);
            rule.until = { f: { y: +m[1], mo: +m[2], d: +m[3], h: m[4] ? +m[4] : 23, mi: m[5] ? +m[5] : 59, s: m[6] ? +m[6] : 59 }, utc: m[7] === 'Z', dateOnly: !m[4] };
            break;
        }
        case 'BYDAY':
            rule.byday = value.split(',').map((v) => {
                const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/i.exec(v);
                if (!m) throw new Error(`BYDAY value "${v}" is not a weekday`);
                return { n: m[1] ? parseInt(m[1], 10) : 0, wd: WEEKDAYS.indexOf(m[2].toUpperCase()) };
            });
            break;
        case 'BYMONTHDAY':
            rule.bymonthday = ints();
            break;
        case 'BYMONTH':
            rule.bymonth = ints();
            break;
        case 'BYSETPOS':
            rule.bysetpos = ints();
            break;
        case 'WKST':
            rule.wkst = WEEKDAYS.indexOf(value.toUpperCase());
            if (rule.wkst < 0) throw new Error(`WKST=${value} is not a weekday`);
            break;
        default:
            throw new Error(`${key} is not supported in a recurrence rule`);
        }
    }
    if (!rule.freq) throw new Error('a recurrence rule needs FREQ');
    if (rule.count && rule.until) throw new Error('COUNT and UNTIL cannot both be set');
    if (rule.freq === 'YEARLY' && rule.byday && !rule.bymonth) throw new Error('a yearly BYDAY rule needs BYMONTH here');
    return rule;
}

function monthCandidates(rule, y, mo, start) {
    const n = daysInMonth(y, mo);
    let days = null;
    if (rule.bymonthday) {
        days = rule.bymonthday.map((d) => (d < 0 ? n + 1 + d : d)).filter((d) => d >= 1 && d <= n);
    }
    if (rule.byday) {
        const fromDay = [];
        for (const { n: ord, wd } of rule.byday) {
            const all = [];
            for (let d = 1; d <= n; d++) if (weekday({ y, mo, d }) === wd) all.push(d);
            if (ord === 0) fromDay.push(...all);
            else {
                const pick = ord > 0 ? all[ord - 1] : all[all.length + ord];
                if (pick) fromDay.push(pick);
            }
        }
        days = days ? days.filter((d) => fromDay.includes(d)) : fromDay;
    }
    if (!days) days = start.d <= n ? [start.d] : [];
    return [...new Set(days)].sort((a, b) => a - b).map((d) => ({ y, mo, d, h: start.h, mi: start.mi, s: start.s }));
}

function periodCandidates(rule, start, index) {
    const step = index * rule.interval;
    let list;
    switch (rule.freq) {
    case 'DAILY': {
        const f = addDays(start, step);
        list = [f];
        if (rule.byday && !rule.byday.some((b) => b.wd === weekday(f))) list = [];
        if (rule.bymonthday) {
            const n = daysInMonth(f.y, f.mo);
            if (!rule.bymonthday.some((d) => (d < 0 ? n + 1 + d : d) === f.d)) list = [];
        }
        break;
    }
    case 'WEEKLY': {
        const back = (weekday(start) - rule.wkst + 7) % 7;
        const weekStart = addDays(start, -back + 7 * step);
        const wds = rule.byday ? rule.byday.map((b) => b.wd) : [weekday(start)];
        list = [];
        for (let i = 0; i < 7; i++) {
            const f = addDays(weekStart, i);
            if (wds.includes(weekday(f))) list.push(f);
        }
        break;
    }
    case 'MONTHLY': {
        const m0 = start.y * 12 + (start.mo - 1) + step;
        list = monthCandidates(rule, Math.floor(m0 / 12), (m0 % 12) + 1, start);
        break;
    }
    case 'YEARLY': {
        const y = start.y + step;
        const months = rule.bymonth || [start.mo];
        list = [];
        for (const mo of months) {
            const r = rule.bymonthday || rule.byday ? rule : { ...rule, bymonthday: [start.d] };
            list.push(...monthCandidates(r, y, mo, start));
        }
        break;
    }
    }
    if (rule.bymonth && rule.freq !== 'YEARLY') list = list.filter((f) => rule.bymonth.includes(f.mo));
    if (rule.bysetpos) {
        const picked = [];
        for (const p of rule.bysetpos) {
            const f = p > 0 ? list[p - 1] : list[list.length + p];
            if (f && !picked.includes(f)) picked.push(f);
        }
        list = picked.sort((a, b) => fieldsAsUtc(a) - fieldsAsUtc(b));
    }
    return list;
}

/**
 * Expands a series: `start` wall-clock fields of the first instance in `zone`,
 * `duration` in ms (timed) or `allDay` with `days`, `rule` from parseRule (or null:
 * the start and the rdates only), `exdates`/`rdates` as sets of keys (see
 * instanceKey). Calls back instances in order, {startMs, endMs, local, key},
 * that overlap [from, to) (either bound may be null), and stops at `to`, at the
 * rule's end or after `limit` instances. Returns the list.
 */
function expandSeries({ start, zone, duration, allDay, days, rule, exdates, rdates, from, to, limit }) {
    const out = [];
    const max = limit || 2500;
    const instantOf = (f) => (allDay ? fieldsAsUtc(f) : localToUtc(f, zone));
    const endOf = (f, s) => (allDay ? fieldsAsUtc(addDays(f, days)) : s + duration);
    let untilMs = null;
    if (rule && rule.until) {
        const u = rule.until;
        untilMs = u.utc || allDay ? fieldsAsUtc(u.f) : localToUtc(u.f, zone);
    }
    const emitted = new Set();
    const extra = [...(rdates || [])].map((k) => keyToFields(k, allDay, zone)).filter(Boolean);
    const emit = (f) => {
        const s = instantOf(f);
        const key = instanceKey(s, allDay, f);
        if (emitted.has(key)) return true;
        emitted.add(key);
        if (exdates && exdates.has(key)) return true;
        const e = endOf(f, s);
        if ((from === null || from === undefined || e > from) && (to === null || to === undefined || s < to)) {
            out.push({ startMs: s, endMs: e, local: f, key });
        }
        return out.length < max;
    };
    const startMs = instantOf(start);
    const pending = extra.filter((f) => instantOf(f) > startMs).sort((a, b) => instantOf(a) - instantOf(b));
    const flushBefore = (limitMs) => {
        while (pending.length && instantOf(pending[0]) <= limitMs) if (!emit(pending.shift())) return false;
        return true;
    };
    if (!emit(start)) return out;
    let count = 1;
    if (rule) {
        const horizon = to === null || to === undefined ? Infinity : to;
        for (let i = 0, empty = 0; i < 200000 && empty < 5000; i++) {
            const list = periodCandidates(rule, start, i);
            empty = list.length ? 0 : empty + 1;
            let stop = false;
            for (const f of list) {
                const s = instantOf(f);
                if (s <= startMs) continue;
                if (rule.count && count >= rule.count) { stop = true; break; }
                if (untilMs !== null && s > untilMs) { stop = true; break; }
                if (s >= horizon) { stop = true; break; }
                if (!flushBefore(s)) return out;
                count++;
                if (!emit(f)) return out;
            }
            if (stop) break;
        }
    }
    flushBefore(to === null || to === undefined ? Infinity : to - 1);
    return out.sort((a, b) => a.startMs - b.startMs);
}

/** The key that names an instance by its original start: "20260310T090000Z" (timed) or "20260310" (all-day). */
function instanceKey(ms, allDay, f) {
    if (allDay) return `${pad(f.y, 4)}${pad(f.mo)}${pad(f.d)}`;
    return isoSeconds(ms).replace(/[-:]/g, '');
}

function keyToFields(key, allDay, zone) {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(key);
    if (!m) return null;
    if (allDay || !m[4]) return { y: +m[1], mo: +m[2], d: +m[3], h: 0, mi: 0, s: 0 };
    return utcToLocal(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]), zone);
}

/**
 * Reads EXDATE/RDATE lines ("EXDATE;TZID=Europe/Berlin:20260317T100000",
 * "EXDATE:20260317T090000Z,20260324T090000Z", "EXDATE;VALUE=DATE:20260317") into
 * instance keys. Throws on a value it cannot read.
 */
function parseDateList(line, allDay, defaultZone) {
    const colon = line.indexOf(':');
    const head = line.slice(0, colon).split(';');
    let zone = defaultZone;
    for (const p of head.slice(1)) if (/^TZID=/i.test(p)) zone = p.slice(5);
    if (!validZone(zone)) throw new Error(`${head[0]} names an unknown zone "${zone}"`);
    return line.slice(colon + 1).split(',').map((v) => {
        const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(v.trim());
        if (!m) throw new Error(`${head[0]} value "${v}" is not a date or date-time`);
        const f = { y: +m[1], mo: +m[2], d: +m[3], h: m[4] ? +m[4] : 0, mi: m[5] ? +m[5] : 0, s: m[6] ? +m[6] : 0 };
        if (allDay || !m[4]) return instanceKey(0, true, f);
        const ms = m[7] ? fieldsAsUtc(f) : localToUtc(f, zone);
        return instanceKey(ms, false, f);
    });
}

module.exports = {
    DAY_MS, WEEKDAYS, validZone, utcToLocal, localToUtc, fieldsAsUtc, dateString, wallString,
    isoMs, isoSeconds, isoInZone, parseDateTime, parseDate, addDays, parseRule, expandSeries,
    instanceKey, parseDateList, pad,
};
