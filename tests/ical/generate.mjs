#!/usr/bin/env node
/*
 * Makes an iCalendar feed with ical-generator (a generator independent of
 * slotd) from its calendar data as JSON on stdin, and prints it. The JSON is
 * ical-generator's own ICalCalendarData ({"name","timezone","events":[{"id",
 * "start","end","timezone","allDay","floating","summary","transparency",
 * "status","repeating":{"freq","count","interval","until","byDay",
 * "exclude"},"recurrenceId",...}]}); dates are ISO 8601 texts, taken as
 * ical-generator takes them.
 */
import ical from 'ical-generator';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
    const data = JSON.parse(input);
    process.stdout.write(ical(data).toString());
});
