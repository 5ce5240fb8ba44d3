#!/usr/bin/env node
'use strict';
/*
 * The feed of bench/ics_bench.sh: 20,000 VEVENTs of one resource's calendar,
 * about 5 MB, written by tests/ical/generate.mjs (ical-generator, a generator
 * independent of slotd) from calendar data this program makes, with the two
 * VTIMEZONEs its events name added before the first VEVENT (ical-generator
 * names TZIDs but writes no VTIMEZONE without a zone database).
 *
 *   node bench/ics_bench_feed.js [--changed] [--bytes N] [--now EPOCH_S] >FEED 2>COUNTS
 *
 * Half are one-off events: 80% in the next 60 days, the others in the two
 * years before; in turn UTC times, Europe/Warsaw and America/New_York local
 * times, and all-day dates (VALUE=DATE); one in 13 TRANSP:TRANSPARENT, one in
 * 17 STATUS:CANCELLED. The other half are series (RRULE) in Europe/Warsaw or
 * America/New_York time that began up to six years ago or begin in the next
 * 60 days: weekly (one to three days a week), daily (every one to three days),
 * monthly (a day of the month); ended by UNTIL (some already over), by COUNT,
 * or unbounded; one in five with one to three EXDATEs of instances in the next
 * 60 days; and 500 RECURRENCE-ID overrides of series instances in the next 60
 * days (moved two hours later, one in five cancelled). DESCRIPTION text pads
 * the feed to about --bytes (default 5,000,000).
 *
 * --changed: the same calendar a while later: 1,000 one-off events moved an
 * hour later, 500 replaced by 500 new ones (new UIDs), 212 series ending
 * sooner (UNTIL in 30 days); still 20,000 VEVENTs. Same --now, same feed:
 * the output depends only on the options (DTSTAMP is --now too).
 *
 * On stderr, one JSON line: the feed's bytes and its counts by kind.
 */
const { spawnSync } = require('child_process');
const path = require('path');

const GENERATOR = path.join(__dirname, '..', 'tests', 'ical', 'generate.mjs');
const ONE_OFF = 10000;
const SERIES = 9500;
const OVERRIDES = 500;
const DAY = 86400000;
const ZONES = ['Europe/Warsaw', 'America/New_York'];

const VTIMEZONES = {
    'Europe/Warsaw': ['BEGIN:VTIMEZONE', 'TZID:Europe/Warsaw',
        'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000',
        'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
        'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000',
        'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD', 'END:VTIMEZONE'],
    'America/New_York': ['BEGIN:VTIMEZONE', 'TZID:America/New_York',
        'BEGIN:DAYLIGHT', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'TZNAME:EDT', 'DTSTART:19700308T020000',
        'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU', 'END:DAYLIGHT',
        'BEGIN:STANDARD', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'TZNAME:EST', 'DTSTART:19701101T020000',
        'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU', 'END:STANDARD', 'END:VTIMEZONE'],
};

function parseArgs(argv) {
    const out = { changed: false, bytes: 5000000, now: Math.floor(Date.now() / 1000) };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--changed') out.changed = true;
        else if (argv[i] === '--bytes') out.bytes = Number(argv[++i]);
        else if (argv[i] === '--now') out.now = Number(argv[++i]);
        else throw new Error(`unknown argument ${argv[i]}`);
    }
    return out;
}

/* A small seeded generator (mulberry32): the same feed for the same options. */
function random(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const pad2 = (n) => String(n).padStart(2, '0');
/* Wall-clock times are kept as UTC Date values and written without a zone (local times). */
const local = (d) => `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:00`;
const utc = (d) => `${local(d)}Z`;
const dateOnly = (d) => local(d).slice(0, 10);
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

function calendar(opts, padding) {
    const rnd = random(5); /* the same for --changed: the same calendar, changed */
    const today = new Date(Math.floor(opts.now * 1000 / DAY) * DAY);
    const stamp = new Date(opts.now * 1000).toISOString();
    const text = (n) => (padding > 0 ? 'Notes: ' + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(padding / 27)).slice(0, padding) + ` #${n}` : undefined);
    const events = [];
    const counts = { vevents: 0, one_off: 0, utc: 0, warsaw: 0, new_york: 0, all_day: 0, transparent: 0, cancelled: 0, series: 0, weekly: 0, daily: 0, monthly: 0, until: 0, count: 0, unbounded: 0, with_exdate: 0, exdates: 0, overrides: 0, overrides_cancelled: 0, moved: 0, replaced: 0, ended_sooner: 0 };
    const changed = (i) => opts.changed && i % 10 === 3; /* 1,000 one-offs moved an hour */
    const replaced = (i) => opts.changed && i % 20 === 7; /* 500 one-offs replaced by new ones */

    for (let i = 0; i < ONE_OFF; i++) {
        const r = rnd();
        const dayOffset = r < 0.8 ? Math.floor(rnd() * 60) : -1 - Math.floor(rnd() * 730);
        const minutes = 7 * 60 + Math.floor(rnd() * 48) * 15 + (changed(i) ? 60 : 0);
        const length = [30, 45, 60, 90][Math.floor(rnd() * 4)];
        const start = new Date(today.getTime() + dayOffset * DAY + minutes * 60000);
        const end = new Date(start.getTime() + length * 60000);
        const e = { id: replaced(i) ? `new-${i}@bench.slotd` : `one-${i}@bench.slotd`, stamp, summary: `Appointment ${i}`, description: text(i) };
        const kind = i % 10;
        if (kind <= 4) {
            Object.assign(e, { start: utc(start), end: utc(end) });
            counts.utc++;
        } else if (kind <= 8) {
            const zone = kind <= 6 ? ZONES[0] : ZONES[1];
            Object.assign(e, { start: local(start), end: local(end), timezone: zone });
            counts[zone === ZONES[0] ? 'warsaw' : 'new_york']++;
        } else {
            Object.assign(e, { start: dateOnly(start), end: dateOnly(new Date(start.getTime() + DAY * (1 + (i % 3 === 0 ? 1 : 0)))), allDay: true });
            counts.all_day++;
        }
        if (i % 13 === 0) { e.transparency = 'TRANSPARENT'; counts.transparent++; }
        if (i % 17 === 0) { e.status = 'CANCELLED'; counts.cancelled++; }
        events.push(e);
        counts.one_off++;
        if (changed(i)) counts.moved++;
        if (replaced(i)) counts.replaced++;
    }

    const overridable = [];
    for (let i = 0; i < SERIES; i++) {
        const zone = ZONES[i % 2];
        const startDay = rnd() < 0.9 ? -Math.floor(rnd() * 6 * 365) : Math.floor(rnd() * 60);
        const minutes = 8 * 60 + Math.floor(rnd() * 36) * 15;
        const length = [30, 60, 60, 120][Math.floor(rnd() * 4)];
        let start = new Date(today.getTime() + startDay * DAY + minutes * 60000);
        const f = i % 4; /* 0, 1 weekly; 2 daily; 3 monthly */
        const repeating = {};
        let step; /* days between instances, for EXDATEs and overrides (weekly: DTSTART's weekday only) */
        if (f <= 1) {
            const days = [WEEKDAYS[start.getUTCDay()]];
            for (let k = 1; k <= i % 3; k++) days.push(WEEKDAYS[(start.getUTCDay() + 2 * k) % 7]);
            Object.assign(repeating, { freq: 'WEEKLY', byDay: days });
            step = 7;
            counts.weekly++;
        } else if (f === 2) {
            const interval = 1 + (i % 3);
            Object.assign(repeating, { freq: 'DAILY', interval });
            step = interval;
            counts.daily++;
        } else {
            start = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1 + (i % 28), start.getUTCHours(), start.getUTCMinutes()));
            Object.assign(repeating, { freq: 'MONTHLY', byMonthDay: [start.getUTCDate()] });
            step = null;
            counts.monthly++;
        }
        /* the first instances (by `step`) in the next 60 days, for EXDATE and RECURRENCE-ID */
        const ahead = [];
        if (step !== null) {
            let k = Math.max(0, Math.ceil((today.getTime() - start.getTime()) / (step * DAY)));
            for (; ahead.length < 4; k++) ahead.push({ k, at: new Date(start.getTime() + k * step * DAY) });
        } else {
            for (let m = 0; ahead.length < 3; m++) {
                const at = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + m, start.getUTCDate(), start.getUTCHours(), start.getUTCMinutes()));
                if (at >= start && at >= today) ahead.push({ k: null, at });
            }
        }
        const endKind = i % 3; /* 0 UNTIL, 1 COUNT, 2 unbounded */
        let reach = Infinity; /* the last instance time kept by the end rule */
        if (endKind === 0) {
            const r = rnd();
            const shortened = opts.changed && i % 45 === 0; /* 212 series end sooner */
            const untilDay = shortened ? 30 : (i % 6 === 0 ? -30 - Math.floor(r * 365) : 60 + Math.floor(r * 700));
            if (shortened) counts.ended_sooner++;
            const until = new Date(today.getTime() + untilDay * DAY);
            repeating.until = until.toISOString();
            reach = until.getTime() - 2 * DAY; /* the UNTIL is in UTC: a margin for the zone's offset */
            counts.until++;
        } else if (endKind === 1) {
            repeating.count = 5 + Math.floor(rnd() * 400);
            counts.count++;
        } else counts.unbounded++;
        /* only instances certainly within the rule: before UNTIL; with COUNT, a weekly or daily
           series' k-th by `step` is at most its (k * days a week)-th instance */
        const within = ahead.filter((a) => a.at.getTime() <= reach && (endKind !== 1 || (a.k !== null && (a.k + 1) * (repeating.byDay ? repeating.byDay.length : 1) <= repeating.count)) && a.at.getTime() < today.getTime() + 60 * DAY);
        const e = { id: `series-${i}@bench.slotd`, stamp, start: local(start), end: local(new Date(start.getTime() + length * 60000)), timezone: zone, summary: `Series ${i}`, description: text(ONE_OFF + i), repeating };
        if (i % 5 === 0 && within.length > 1) {
            const n = 1 + (i % 3);
            repeating.exclude = within.slice(0, n).map((a) => local(a.at));
            repeating.excludeTimezone = zone;
            counts.with_exdate++;
            counts.exdates += repeating.exclude.length;
        }
        if (i % 5 !== 0 && i % 45 !== 0 && within.length) overridable.push({ e, at: within.at(-1).at, length, zone, i });
        if (opts.changed && i % 45 === 0) e.summary += ' (ending)';
        events.push(e);
        counts.series++;
    }
    if (overridable.length < OVERRIDES) throw new Error(`only ${overridable.length} series can take an override`);
    const stride = Math.floor(overridable.length / OVERRIDES); /* spread over the series */
    for (const { e, at, length, zone, i } of overridable.filter((_, n) => n % stride === 0).slice(0, OVERRIDES)) {
        const moved = new Date(at.getTime() + 2 * 3600000);
        const o = { id: e.id, stamp, recurrenceId: local(at), timezone: zone, start: local(moved), end: local(new Date(moved.getTime() + length * 60000)), summary: `Series ${i}, moved`, description: text(i) };
        if (counts.overrides % 5 === 4) { o.status = 'CANCELLED'; counts.overrides_cancelled++; }
        events.push(o);
        counts.overrides++;
    }
    counts.vevents = events.length;
    return { data: { prodId: '//slotd//ics bench//EN', name: 'Bench resource', events }, counts };
}

function generate(data) {
    const r = spawnSync(process.execPath, [GENERATOR], { input: JSON.stringify(data), maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`generate.mjs failed: ${r.stderr}`);
    const feed = r.stdout.toString('utf8');
    const at = feed.indexOf('BEGIN:VEVENT');
    const zones = ZONES.map((z) => VTIMEZONES[z].join('\r\n')).join('\r\n') + '\r\n';
    return at < 0 ? feed : feed.slice(0, at) + zones + feed.slice(at);
}

function main() {
    const opts = parseArgs(process.argv.slice(2));
    /* once without padding, then with the DESCRIPTION text that makes up the rest
       (ical-generator folds lines at 75 octets: 3 more every 72 or so) */
    const bare = calendar(opts, 0);
    const bareBytes = Buffer.byteLength(generate(bare.data));
    const perEvent = Math.max(0, Math.floor(((opts.bytes - bareBytes) / bare.counts.vevents - 15) * 72 / 75));
    let { data, counts } = calendar(opts, perEvent);
    let feed = generate(data);
    const off = Math.round((opts.bytes - Buffer.byteLength(feed)) / counts.vevents * 72 / 75); /* a last correction */
    if (off !== 0) {
        ({ data, counts } = calendar(opts, Math.max(0, perEvent + off)));
        feed = generate(data);
    }
    const got = (feed.match(/^BEGIN:VEVENT\r?$/gm) || []).length;
    if (got !== counts.vevents) throw new Error(`the feed has ${got} VEVENTs, not ${counts.vevents}`);
    process.stdout.write(feed);
    process.stderr.write(`${JSON.stringify({ bytes: Buffer.byteLength(feed), ...counts })}\n`);
}

main();
