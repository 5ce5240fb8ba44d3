/*
 * Speech: the one short sentence a voice agent reads out as is with every tool
 * result (find_slots, hold_slot, book_appointment, find_bookings,
 * cancel_booking, reschedule_booking, list_services), in the organization's
 * language. Pure computation: no I/O, no clock (now is the caller's), zones
 * through slotd/tz.h only. Every function returns a NUL-terminated UTF-8
 * string the caller frees with free(); none returns NULL. Names given by the
 * caller (people, services) are copied as they are.
 *
 * All words live in one table per language in speech.c: a new language is a
 * new table and a new speech_language_t value.
 *
 * What is said, and why:
 *
 * - Languages: en, es, pl, de (speech_language: the code's first two letters,
 *   any case, alone or before '-' or '_': "de-AT", "es_MX"); anything else
 *   (or NULL) is en.
 * - Days: the day of an instant in the organization's zone. The local day of
 *   `now` is "today" (hoy, dzisiaj, heute), the day after it "tomorrow"
 *   (mañana, jutro, morgen); any other day is its weekday and date, never the
 *   year, with the day as a number the voice reads as the ordinal:
 *     en  "Tuesday 3 March"; in a US zone (below) "Tuesday, March 3"
 *     es  "el martes 3 de marzo" (the article is part of the day: "tengo
 *         disponible el martes...", "no hay nada libre el martes...")
 *     de  "am Dienstag, 3. März" (the preposition is part of the day: "ich habe
 *         am Dienstag, 3. März um 9:30 Uhr frei")
 *     pl  "wtorek 3 marca": months in the genitive, weekdays in the accusative
 *         ("środę", "sobotę", "niedzielę"), as every sentence uses the day as an
 *         object or after "na" ("mogę zaproponować środę 4 marca", "wizyta na
 *         środę 4 marca"); alone, the day takes w/we ("w środę 4 marca", "we
 *         wtorek 3 marca").
 *   A day said alone ("nothing is free on ...") is en "on Tuesday 3 March", es
 *   "el martes 3 de marzo", de "am Dienstag, 3. März", pl "we wtorek 3 marca";
 *   today and tomorrow take no preposition in any language.
 * - Times: hours without a leading zero. en in a US zone: the 12-hour clock,
 *   "9:30 AM", whole hours "9 AM", noon "12 PM", midnight "12 AM", the AM/PM
 *   said once for a run of times that share it ("at 9:30, 10 or 11:15 AM",
 *   "at 11:30 AM or 1 PM"). Everywhere else the 24-hour clock with minutes:
 *   "9:30", "14:00"; de says "Uhr" once after a day's times ("um 9:30, 10:00
 *   oder 11:15 Uhr"); es "a las 9:30", "a la 1:15" when the first time is in
 *   the one o'clock hour; pl "o 9:30".
 *   A US zone: US/... and the America/ and Pacific/ zones (with their old link
 *   names) of the states and territories (us_zones in speech.c). Other
 *   languages keep the 24-hour clock and their own dates in a US zone.
 * - Lists of times: at most three times in a sentence (the first three given,
 *   said in chronological order), grouped by day: "tomorrow at 9:30, 10:00 or
 *   11:15"; "Tuesday 3 March at 9:30 or 10:00, and Wednesday 4 March at 9:00".
 *   Between a day's times "or" (offers) or "and" (bookings found); between days
 *   en ", and", es ", y", de " und", pl " oraz".
 * - Lists of names: at most three; "A, B or C" (es "o", "u" before an o sound:
 *   "u Olga", "u 8:00", "u 11:15"; and "y", "e" before an i sound: "e Imagen";
 *   pl asks "czy"). Services beyond three are one more item: "and 4 more" (es
 *   "y 4 más", de "und 4 weitere", pl "i 4 inne" / "i 5 innych" / "i jeszcze
 *   jedna").
 * - Polish sentences avoid the speaker's gender (no first-person past tense:
 *   "znaleziono", "mogę zaproponować") and address the caller as "Państwo";
 *   es addresses the caller as usted; de as Sie.
 * - No template starts with a day or a name, so nothing needs capitalizing.
 */
#ifndef SLOTD_AGENT_SPEECH_H
#define SLOTD_AGENT_SPEECH_H

#include <stddef.h>
#include <stdint.h>

#include "slotd/tz.h"

typedef enum { SPEECH_EN, SPEECH_ES, SPEECH_PL, SPEECH_DE } speech_language_t;

/** The language of a code ("en", "es", "pl", "de", also "de-AT", "es_MX"); unknown or NULL ->
 *  SPEECH_EN. */
speech_language_t speech_language(const char *code);

/** Who speaks where and when: the organization's language and zone, and the current instant (for
 *  today and tomorrow). */
typedef struct {
    speech_language_t language;
    tz_zone_t *zone;
    int64_t now;
} speech_context_t;

/** Slots offered: "I have tomorrow at 9:30, 10:00 or 11:15." The first three starts are said;
 *  none gives speech_nothing_free. */
char *speech_slots(const speech_context_t *context, const int64_t *starts, size_t count);

/** Nothing free on the day asked (a day number in the organization's zone, as tz_parse_date
 *  gives), the nearest days' slots offered instead: "Nothing is free on Tuesday 3 March, but I
 *  have Wednesday 4 March at 9:00." With none: "Nothing is free on Tuesday 3 March." */
char *speech_no_slots_on_day(const speech_context_t *context, int32_t day, const int64_t *nearest,
                             size_t count);

/** Nothing free at all: "I'm sorry, there are no free times." */
char *speech_nothing_free(const speech_context_t *context);

/** A hold made: "I'm holding tomorrow at 9:30 for you." */
char *speech_held(const speech_context_t *context, int64_t start);

/** Booked: "You're booked for tomorrow at 9:30." */
char *speech_booked(const speech_context_t *context, int64_t start);

/** The slot was taken meanwhile, alternatives offered (up to three): "I'm sorry, that time was
 *  just taken, but I have 10:00 ...". With none: "I'm sorry, that time was just taken." */
char *speech_taken(const speech_context_t *context, const int64_t *alternatives, size_t count);

/** Cancelled: "Your appointment for tomorrow at 9:30 is cancelled." */
char *speech_cancelled(const speech_context_t *context, int64_t start);

/** Rescheduled, with the new start: "Your appointment has been moved to tomorrow at 9:30." */
char *speech_rescheduled(const speech_context_t *context, int64_t start);

/** Bookings found (their starts; the first three are said): "I found your appointments for
 *  tomorrow at 9:30 and 11:00." None gives speech_no_bookings. */
char *speech_bookings(const speech_context_t *context, const int64_t *starts, size_t count);

/** No bookings found: "I couldn't find any appointments." */
char *speech_no_bookings(const speech_context_t *context);

/** A name that matches several (the first three are said): "Did you mean Anna Kowalska or Anna
 *  Nowak?" None gives speech_not_found(context, NULL). */
char *speech_ambiguous(const speech_context_t *context, const char *const *names, size_t count);

/** A name that matches nothing: "I couldn't find anything called Anna Kowalsky." NULL or "": "I
 *  couldn't find a match." */
char *speech_not_found(const speech_context_t *context, const char *name);

/** The services (the first three are said, then how many more): "We offer Haircut, Colouring,
 *  Styling and 4 more." None: "There are no services to book." */
char *speech_services(const speech_context_t *context, const char *const *names, size_t count);

#endif
