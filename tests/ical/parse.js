#!/usr/bin/env node
'use strict';
/*
 * Reads an iCalendar object on stdin with ical.js (Mozilla's parser, an
 * implementation independent of slotd's) and prints what a calendar app would
 * see as one JSON object:
 *
 *   {"method","prodid","version","calscale","timezones":[tzid...],
 *    "events":[{"uid","sequence","dtstamp","start","end","all_day","summary",
 *               "description","location","status","transp","organizer",
 *               "attendees":[{"value","cn","partstat","rsvp"}]}]}
 *
 * start/end are UTC instants "YYYY-MM-DDTHH:MM:SSZ" (dates "YYYY-MM-DD" for
 * all-day events). Exits 1 with the parser's message on stderr when the input
 * is not iCalendar ical.js accepts.
 */
const ICAL = require('ical.js');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
    let root;
    try {
        root = new ICAL.Component(ICAL.parse(input));
    } catch (error) {
        process.stderr.write(`not iCalendar: ${error.message}\n`);
        process.exit(1);
    }
    if (root.name !== 'vcalendar') {
        process.stderr.write(`not a VCALENDAR: ${root.name}\n`);
        process.exit(1);
    }
    for (const zone of root.getAllSubcomponents('vtimezone'))
        ICAL.TimezoneService.register(zone);
    const text = (component, name) => {
        const value = component.getFirstPropertyValue(name);
        return value === null || value === undefined ? null : String(value);
    };
    const instant = (time) =>
        time.isDate ? time.toString() : time.toJSDate().toISOString().replace('.000Z', 'Z');
    const events = root.getAllSubcomponents('vevent').map((vevent) => {
        const event = new ICAL.Event(vevent);
        const dtstamp = vevent.getFirstPropertyValue('dtstamp');
        const organizer = vevent.getFirstProperty('organizer');
        return {
            uid: event.uid,
            sequence: event.sequence,
            dtstamp: dtstamp ? instant(dtstamp) : null,
            start: event.startDate ? instant(event.startDate) : null,
            end: event.endDate ? instant(event.endDate) : null,
            all_day: event.startDate ? event.startDate.isDate : false,
            summary: text(vevent, 'summary'),
            description: text(vevent, 'description'),
            location: text(vevent, 'location'),
            status: text(vevent, 'status'),
            transp: text(vevent, 'transp'),
            organizer: organizer ? String(organizer.getFirstValue()) : null,
            attendees: vevent.getAllProperties('attendee').map((attendee) => ({
                value: String(attendee.getFirstValue()),
                cn: attendee.getParameter('cn') || null,
                partstat: attendee.getParameter('partstat') || null,
                rsvp: attendee.getParameter('rsvp') || null,
            })),
        };
    });
    process.stdout.write(
        JSON.stringify({
            method: text(root, 'method'),
            prodid: text(root, 'prodid'),
            version: text(root, 'version'),
            calscale: text(root, 'calscale'),
            timezones: root.getAllSubcomponents('vtimezone').map((zone) => text(zone, 'tzid')),
            events,
        }) + '\n'
    );
});
