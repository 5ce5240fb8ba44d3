/*
 * Speech: the voice agent's sentences (see speech.h for what is said and why).
 * The words of each language are one language_t table below; the code only
 * puts the table's pieces together: a day, a day's times, lists, sentences.
 * Templates mark their arguments "{0}", "{1}"...
 */
#include "agent/speech.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

#define SPOKEN_MAX 3

typedef enum {
    S_SLOTS,
    S_NO_SLOTS_ON_DAY_BUT,
    S_NO_SLOTS_ON_DAY,
    S_NOTHING_FREE,
    S_HELD,
    S_BOOKED,
    S_TAKEN_BUT,
    S_TAKEN,
    S_CANCELLED,
    S_RESCHEDULED,
    S_BOOKING_FOUND,
    S_BOOKINGS_FOUND,
    S_NO_BOOKINGS,
    S_AMBIGUOUS,
    S_NOT_FOUND,
    S_NO_MATCH,
    S_SERVICES,
    S_NO_SERVICES,
    S_COUNT
} sentence_t;

/** How the last item of a list is joined: offers, things found, a question's choices, days. */
typedef enum { JOIN_OR, JOIN_AND, JOIN_CHOICE, JOIN_DAYS, JOIN_COUNT } join_t;

/** One plural form of "N more": one, few (Slavic 2..4), many. */
enum { MORE_ONE, MORE_FEW, MORE_MANY, MORE_COUNT };

typedef struct {
    const char *weekday[7];    /**< Monday first: a day in a list or as an object */
    const char *weekday_on[7]; /**< a day said alone ("on Tuesday") */
    const char *month[12];
    const char *date;    /**< {0} weekday, {1} day of the month, {2} month */
    const char *date_us; /**< the date in a US zone, with the 12-hour clock; NULL: no US variant */
    const char *today;
    const char *tomorrow;
    const char *at;          /**< before a day's times */
    const char *at_one;      /**< instead of `at` when the first time is 1:xx; NULL: `at` */
    const char *time_suffix; /**< after a day's last time (24-hour clock) */
    const char *join[JOIN_COUNT];
    const char *or_before_o;  /**< instead of JOIN_OR/JOIN_CHOICE before an o sound; NULL: none */
    const char *and_before_i; /**< instead of JOIN_AND before an i sound; NULL: none */
    const char *more[MORE_COUNT];
    bool slavic_plural; /**< "few" for 2..4, 22..24, ... (not 12..14) */
    const char *sentence[S_COUNT];
} language_t;

/* In the order of speech_language_t. */
static const language_t languages[] = {
    [SPEECH_EN] =
        {
            .weekday = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                        "Sunday"},
            .weekday_on = {"on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday",
                           "on Saturday", "on Sunday"},
            .month = {"January", "February", "March", "April", "May", "June", "July", "August",
                      "September", "October", "November", "December"},
            .date = "{0} {1} {2}",
            .date_us = "{0}, {2} {1}",
            .today = "today",
            .tomorrow = "tomorrow",
            .at = " at ",
            .time_suffix = "",
            .join = {" or ", " and ", " or ", ", and "},
            .more = {"{0} more", "{0} more", "{0} more"},
            .sentence =
                {
                    [S_SLOTS] = "I have {0}.",
                    [S_NO_SLOTS_ON_DAY_BUT] = "Nothing is free {0}, but I have {1}.",
                    [S_NO_SLOTS_ON_DAY] = "Nothing is free {0}.",
                    [S_NOTHING_FREE] = "I'm sorry, there are no free times.",
                    [S_HELD] = "I'm holding {0} for you.",
                    [S_BOOKED] = "You're booked for {0}.",
                    [S_TAKEN_BUT] = "I'm sorry, that time was just taken, but I have {0}.",
                    [S_TAKEN] = "I'm sorry, that time was just taken.",
                    [S_CANCELLED] = "Your appointment for {0} is cancelled.",
                    [S_RESCHEDULED] = "Your appointment has been moved to {0}.",
                    [S_BOOKING_FOUND] = "I found your appointment for {0}.",
                    [S_BOOKINGS_FOUND] = "I found your appointments for {0}.",
                    [S_NO_BOOKINGS] = "I couldn't find any appointments.",
                    [S_AMBIGUOUS] = "Did you mean {0}?",
                    [S_NOT_FOUND] = "I couldn't find anything called {0}.",
                    [S_NO_MATCH] = "I couldn't find a match.",
                    [S_SERVICES] = "We offer {0}.",
                    [S_NO_SERVICES] = "There are no services to book.",
                },
        },
    [SPEECH_ES] =
        {
            .weekday = {"el lunes", "el martes", "el miércoles", "el jueves", "el viernes",
                        "el sábado", "el domingo"},
            .weekday_on = {"el lunes", "el martes", "el miércoles", "el jueves", "el viernes",
                           "el sábado", "el domingo"},
            .month = {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                      "septiembre", "octubre", "noviembre", "diciembre"},
            .date = "{0} {1} de {2}",
            .today = "hoy",
            .tomorrow = "mañana",
            .at = " a las ",
            .at_one = " a la ",
            .time_suffix = "",
            .join = {" o ", " y ", " o ", ", y "},
            .or_before_o = " u ",
            .and_before_i = " e ",
            .more = {"{0} más", "{0} más", "{0} más"},
            .sentence =
                {
                    [S_SLOTS] = "Tengo disponible {0}.",
                    [S_NO_SLOTS_ON_DAY_BUT] = "No hay nada libre {0}, pero tengo disponible {1}.",
                    [S_NO_SLOTS_ON_DAY] = "No hay nada libre {0}.",
                    [S_NOTHING_FREE] = "Lo siento, no hay horas libres.",
                    [S_HELD] = "Le guardo la cita para {0}.",
                    [S_BOOKED] = "Su cita queda reservada para {0}.",
                    [S_TAKEN_BUT] = "Lo siento, alguien acaba de reservar esa hora, pero tengo "
                                    "disponible {0}.",
                    [S_TAKEN] = "Lo siento, alguien acaba de reservar esa hora.",
                    [S_CANCELLED] = "Su cita para {0} queda cancelada.",
                    [S_RESCHEDULED] = "Su nueva cita es {0}.",
                    [S_BOOKING_FOUND] = "Tiene una cita {0}.",
                    [S_BOOKINGS_FOUND] = "Tiene citas {0}.",
                    [S_NO_BOOKINGS] = "No encuentro ninguna cita.",
                    [S_AMBIGUOUS] = "¿Se refiere a {0}?",
                    [S_NOT_FOUND] = "No encuentro nada con el nombre {0}.",
                    [S_NO_MATCH] = "No encuentro ninguna coincidencia.",
                    [S_SERVICES] = "Ofrecemos {0}.",
                    [S_NO_SERVICES] = "No hay servicios para reservar.",
                },
        },
    [SPEECH_PL] =
        {
            .weekday = {"poniedziałek", "wtorek", "środę", "czwartek", "piątek", "sobotę",
                        "niedzielę"},
            .weekday_on = {"w poniedziałek", "we wtorek", "w środę", "w czwartek", "w piątek",
                           "w sobotę", "w niedzielę"},
            .month = {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
                      "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
            .date = "{0} {1} {2}",
            .today = "dzisiaj",
            .tomorrow = "jutro",
            .at = " o ",
            .time_suffix = "",
            .join = {" albo ", " i ", " czy ", " oraz "},
            .more = {"jeszcze jedna", "{0} inne", "{0} innych"},
            .slavic_plural = true,
            .sentence =
                {
                    [S_SLOTS] = "Mogę zaproponować {0}.",
                    [S_NO_SLOTS_ON_DAY_BUT] =
                        "Nie ma wolnych terminów {0}, ale mogę zaproponować {1}.",
                    [S_NO_SLOTS_ON_DAY] = "Nie ma wolnych terminów {0}.",
                    [S_NOTHING_FREE] = "Niestety nie ma wolnych terminów.",
                    [S_HELD] = "Trzymam dla Państwa termin na {0}.",
                    [S_BOOKED] = "Wizyta jest zarezerwowana na {0}.",
                    [S_TAKEN_BUT] =
                        "Niestety ten termin został właśnie zajęty, ale mogę zaproponować {0}.",
                    [S_TAKEN] = "Niestety ten termin został właśnie zajęty.",
                    [S_CANCELLED] = "Wizyta na {0} została odwołana.",
                    [S_RESCHEDULED] = "Wizyta została przeniesiona na {0}.",
                    [S_BOOKING_FOUND] = "Znaleziono wizytę na {0}.",
                    [S_BOOKINGS_FOUND] = "Znaleziono wizyty na {0}.",
                    [S_NO_BOOKINGS] = "Nie znaleziono żadnej wizyty.",
                    [S_AMBIGUOUS] = "Czy to {0}?",
                    [S_NOT_FOUND] = "Nie znaleziono: {0}.",
                    [S_NO_MATCH] = "Nie znaleziono pasującej pozycji.",
                    [S_SERVICES] = "Nasze usługi: {0}.",
                    [S_NO_SERVICES] = "Brak usług do rezerwacji.",
                },
        },
    [SPEECH_DE] =
        {
            .weekday = {"am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag", "am Freitag",
                        "am Samstag", "am Sonntag"},
            .weekday_on = {"am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag", "am Freitag",
                           "am Samstag", "am Sonntag"},
            .month = {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli",
                      "August", "September", "Oktober", "November", "Dezember"},
            .date = "{0}, {1}. {2}",
            .today = "heute",
            .tomorrow = "morgen",
            .at = " um ",
            .time_suffix = " Uhr",
            .join = {" oder ", " und ", " oder ", " und "},
            .more = {"{0} weitere", "{0} weitere", "{0} weitere"},
            .sentence =
                {
                    [S_SLOTS] = "Ich habe {0} frei.",
                    [S_NO_SLOTS_ON_DAY_BUT] = "Leider ist {0} nichts frei, aber ich habe {1} frei.",
                    [S_NO_SLOTS_ON_DAY] = "Leider ist {0} nichts frei.",
                    [S_NOTHING_FREE] = "Leider ist kein Termin frei.",
                    [S_HELD] = "Ich halte Ihnen den Termin {0} frei.",
                    [S_BOOKED] = "Ihr Termin {0} ist gebucht.",
                    [S_TAKEN_BUT] = "Leider wurde dieser Termin gerade vergeben, aber ich habe {0} "
                                    "frei.",
                    [S_TAKEN] = "Leider wurde dieser Termin gerade vergeben.",
                    [S_CANCELLED] = "Ihr Termin {0} ist storniert.",
                    [S_RESCHEDULED] = "Ihr neuer Termin ist {0}.",
                    [S_BOOKING_FOUND] = "Sie haben einen Termin {0}.",
                    [S_BOOKINGS_FOUND] = "Sie haben Termine {0}.",
                    [S_NO_BOOKINGS] = "Ich finde keinen Termin.",
                    [S_AMBIGUOUS] = "Meinen Sie {0}?",
                    [S_NOT_FOUND] = "Ich finde nichts unter dem Namen {0}.",
                    [S_NO_MATCH] = "Ich finde keinen passenden Eintrag.",
                    [S_SERVICES] = "Unser Angebot: {0}.",
                    [S_NO_SERVICES] = "Es gibt keine buchbaren Leistungen.",
                },
        },
};

/* The zones of the US states and territories, with their old link names; also every "US/..."
 * and the zones under these prefixes. */
static const char *const us_zones[] = {
    "America/New_York",
    "America/Detroit",
    "America/Chicago",
    "America/Menominee",
    "America/Denver",
    "America/Boise",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Juneau",
    "America/Sitka",
    "America/Metlakatla",
    "America/Yakutat",
    "America/Nome",
    "America/Adak",
    "America/Atka",
    "America/Indianapolis",
    "America/Fort_Wayne",
    "America/Knox_IN",
    "America/Louisville",
    "America/Shiprock",
    "America/Puerto_Rico",
    "America/St_Thomas",
    "America/Virgin",
    "Navajo",
    "Pacific/Honolulu",
    "Pacific/Johnston",
    "Pacific/Guam",
    "Pacific/Saipan",
    "Pacific/Pago_Pago",
    "Pacific/Samoa",
    "Pacific/Midway",
    "Pacific/Wake",
};
static const char *const us_zone_prefixes[] = {"US/", "America/Indiana/", "America/Kentucky/",
                                               "America/North_Dakota/"};

static bool us_zone(const char *name)
{
    for (size_t i = 0; i < sizeof(us_zones) / sizeof(us_zones[0]); i++)
        if (strcmp(name, us_zones[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(us_zone_prefixes) / sizeof(us_zone_prefixes[0]); i++)
        if (strncmp(name, us_zone_prefixes[i], strlen(us_zone_prefixes[i])) == 0)
            return true;
    return false;
}

speech_language_t speech_language(const char *code)
{
    static const char *const codes[] = {
        [SPEECH_EN] = "en", [SPEECH_ES] = "es", [SPEECH_PL] = "pl", [SPEECH_DE] = "de"};
    if (code == NULL || code[0] == 0 || code[1] == 0 ||
        (code[2] != 0 && code[2] != '-' && code[2] != '_'))
        return SPEECH_EN;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char a = code[0] | 0x20, b = code[1] | 0x20;
        if (a == codes[i][0] && b == codes[i][1])
            return (speech_language_t)i;
    }
    return SPEECH_EN;
}

/* ---- text: a growing NUL-terminated buffer ---- */

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} text_t;

/* A sentence is rarely longer: one allocation, not one per few words. */
#define TEXT_FIRST_CAPACITY 160

static void text_add(text_t *t, const char *s, size_t n)
{
    size_t need = t->length + n + 1;
    if (t->capacity == 0 && need < TEXT_FIRST_CAPACITY)
        need = TEXT_FIRST_CAPACITY; /* room for a sentence at once */
    t->data = slotd_grow(t->data, &t->capacity, need, 1);
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = 0;
}

static void text_puts(text_t *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/** The text, owned by the caller now ("" when nothing was added). */
static char *text_take(text_t *t)
{
    return t->data != NULL ? t->data : slotd_strdup("");
}

/** Appends a template with "{0}".."{9}" replaced by args (missing ones by nothing). */
static void expand(text_t *out, const char *template, const char *const *args, size_t count)
{
    const char *p = template;
    while (*p) {
        if (p[0] == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}') {
            size_t i = (size_t)(p[1] - '0');
            if (i < count)
                text_puts(out, args[i]);
            p += 3;
            continue;
        }
        const char *next = strchr(p + 1, '{');
        size_t n = next != NULL ? (size_t)(next - p) : strlen(p);
        text_add(out, p, n);
        p += n;
    }
}

/* ---- lists ---- */

static bool starts_with_any(const char *s, const char *const *prefixes, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/** Whether a word is said with an o sound first (es "u" instead of "o"): o, ho, 8 (ocho,
 *  ochenta), 11 (once). */
static bool o_sound(const char *s)
{
    static const char *const o[] = {"o", "O", "ó", "Ó", "ho", "Ho", "hó", "Hó", "8"};
    if (starts_with_any(s, o, sizeof(o) / sizeof(o[0])))
        return true;
    return s[0] == '1' && s[1] == '1' && !(s[2] >= '0' && s[2] <= '9');
}

/** Whether a word is said with an i sound first (es "e" instead of "y"): i, hi, but not hie or
 *  hia (hielo, hiato: a y sound). */
static bool i_sound(const char *s)
{
    static const char *const i[] = {"i", "I", "í", "Í"};
    static const char *const hi[] = {"hi", "Hi", "hí", "Hí"};
    if (starts_with_any(s, i, sizeof(i) / sizeof(i[0])))
        return true;
    if (!starts_with_any(s, hi, sizeof(hi) / sizeof(hi[0])))
        return false;
    const char *after = s + (s[1] == 'i' ? 2 : 3);
    return *after != 'a' && *after != 'e' && *after != 'o' && *after != 'u';
}

static const char *joiner(const language_t *l, join_t kind, const char *next)
{
    if ((kind == JOIN_OR || kind == JOIN_CHOICE) && l->or_before_o != NULL && o_sound(next))
        return l->or_before_o;
    if (kind == JOIN_AND && l->and_before_i != NULL && i_sound(next))
        return l->and_before_i;
    return l->join[kind];
}

/** "A", "A or B", "A, B or C". */
static void join_list(text_t *out, const language_t *l, join_t kind, const char *const *items,
                      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            text_puts(out, i == count - 1 ? joiner(l, kind, items[i]) : ", ");
        text_puts(out, items[i]);
    }
}

/* ---- days and times ---- */

typedef struct {
    const language_t *l;
    tz_zone_t *zone;
    int32_t today; /**< the local day of now */
    bool us;       /**< the language's US variant: its US date, the 12-hour clock */
} speaker_t;

static speaker_t speaker(const speech_context_t *context)
{
    speaker_t s;
    size_t language = (size_t)context->language;
    s.l = &languages[language < sizeof(languages) / sizeof(languages[0]) ? language : SPEECH_EN];
    s.zone = context->zone;
    s.today = tz_local_day(context->zone, context->now);
    s.us = s.l->date_us != NULL && us_zone(tz_zone_name(context->zone));
    return s;
}

/** "today", "tomorrow", or the weekday (in the form given) and date. */
static void say_day(text_t *out, const speaker_t *s, int32_t day, const char *const *weekdays)
{
    if (day == s->today) {
        text_puts(out, s->l->today);
        return;
    }
    if (day == s->today + 1) {
        text_puts(out, s->l->tomorrow);
        return;
    }
    tz_date_t date = tz_civil_from_days(day);
    char number[12];
    snprintf(number, sizeof(number), "%d", (int)date.day);
    const char *args[] = {weekdays[tz_weekday(day)], number, s->l->month[date.month - 1]};
    expand(out, s->us ? s->l->date_us : s->l->date, args, 3);
}

/** A time of day: its text ("9:30", "10") and what is said after it ("AM", "Uhr", nothing). */
typedef struct {
    int32_t day;
    int hour;
    char text[16];
    const char *suffix;
} moment_t;

static moment_t moment(const speaker_t *s, int64_t instant)
{
    moment_t m;
    int64_t wall = tz_to_wall(s->zone, instant);
    m.day = tz_day_of(wall);
    int64_t second = wall - (int64_t)m.day * TZ_SECONDS_PER_DAY;
    m.hour = (int)(second / 3600);
    int minute = (int)(second / 60 % 60);
    if (!s->us) {
        snprintf(m.text, sizeof(m.text), "%d:%02d", m.hour, minute);
        m.suffix = s->l->time_suffix;
        return m;
    }
    int hour12 = m.hour % 12 == 0 ? 12 : m.hour % 12;
    if (minute == 0)
        snprintf(m.text, sizeof(m.text), "%d", hour12);
    else
        snprintf(m.text, sizeof(m.text), "%d:%02d", hour12, minute);
    m.suffix = m.hour < 12 ? " AM" : " PM";
    return m;
}

/** One day's times: "tomorrow at 9:30, 10 or 11:15 AM". */
static void say_day_times(text_t *out, const speaker_t *s, const moment_t *m, size_t count,
                          join_t kind)
{
    say_day(out, s, m[0].day, s->l->weekday);
    text_puts(out, m[0].hour == 1 && s->l->at_one != NULL ? s->l->at_one : s->l->at);
    char items[SPOKEN_MAX][24];
    const char *item[SPOKEN_MAX];
    for (size_t i = 0; i < count; i++) {
        bool last_of_run = i + 1 == count || strcmp(m[i].suffix, m[i + 1].suffix) != 0;
        snprintf(items[i], sizeof(items[i]), "%s%s", m[i].text, last_of_run ? m[i].suffix : "");
        item[i] = items[i];
    }
    join_list(out, s->l, kind, item, count);
}

/** Up to three instants, said in chronological order, grouped by day: "Tuesday 3 March at 9:30 or
 *  10:00, and Wednesday 4 March at 9:00". */
static void say_when(text_t *out, const speaker_t *s, const int64_t *starts, size_t count,
                     join_t kind)
{
    int64_t sorted[SPOKEN_MAX];
    size_t n = count < SPOKEN_MAX ? count : SPOKEN_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && sorted[j - 1] > starts[i]; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = starts[i];
    }
    moment_t m[SPOKEN_MAX];
    for (size_t i = 0; i < n; i++)
        m[i] = moment(s, sorted[i]);
    text_t days[SPOKEN_MAX] = {{0}};
    const char *day[SPOKEN_MAX] = {0};
    size_t day_count = 0;
    for (size_t first = 0; first < n; day_count++) {
        size_t end = first + 1;
        while (end < n && m[end].day == m[first].day)
            end++;
        say_day_times(&days[day_count], s, m + first, end - first, kind);
        day[day_count] = days[day_count].data;
        first = end;
    }
    join_list(out, s->l, JOIN_DAYS, day, day_count);
    for (size_t i = 0; i < day_count; i++)
        free(days[i].data);
}

/* ---- sentences ---- */

static char *sentence(const speaker_t *s, sentence_t which, const char *const *args, size_t count)
{
    text_t out = {0};
    expand(&out, s->l->sentence[which], args, count);
    return text_take(&out);
}

/** A sentence about instants said as a list ({0}). */
static char *sentence_when(const speaker_t *s, sentence_t which, const int64_t *starts,
                           size_t count, join_t kind)
{
    text_t when = {0};
    say_when(&when, s, starts, count, kind);
    const char *args[] = {when.data};
    char *result = sentence(s, which, args, 1);
    free(when.data);
    return result;
}

char *speech_slots(const speech_context_t *context, const int64_t *starts, size_t count)
{
    if (count == 0)
        return speech_nothing_free(context);
    speaker_t s = speaker(context);
    return sentence_when(&s, S_SLOTS, starts, count, JOIN_OR);
}

char *speech_no_slots_on_day(const speech_context_t *context, int32_t day, const int64_t *nearest,
                             size_t count)
{
    speaker_t s = speaker(context);
    text_t asked = {0}, when = {0};
    say_day(&asked, &s, day, s.l->weekday_on);
    if (count > 0)
        say_when(&when, &s, nearest, count, JOIN_OR);
    const char *args[] = {asked.data, when.data};
    char *result = sentence(&s, count > 0 ? S_NO_SLOTS_ON_DAY_BUT : S_NO_SLOTS_ON_DAY, args, 2);
    free(asked.data);
    free(when.data);
    return result;
}

char *speech_nothing_free(const speech_context_t *context)
{
    speaker_t s = speaker(context);
    return sentence(&s, S_NOTHING_FREE, NULL, 0);
}

char *speech_held(const speech_context_t *context, int64_t start)
{
    speaker_t s = speaker(context);
    return sentence_when(&s, S_HELD, &start, 1, JOIN_OR);
}

char *speech_booked(const speech_context_t *context, int64_t start)
{
    speaker_t s = speaker(context);
    return sentence_when(&s, S_BOOKED, &start, 1, JOIN_OR);
}

char *speech_taken(const speech_context_t *context, const int64_t *alternatives, size_t count)
{
    speaker_t s = speaker(context);
    if (count == 0)
        return sentence(&s, S_TAKEN, NULL, 0);
    return sentence_when(&s, S_TAKEN_BUT, alternatives, count, JOIN_OR);
}

char *speech_cancelled(const speech_context_t *context, int64_t start)
{
    speaker_t s = speaker(context);
    return sentence_when(&s, S_CANCELLED, &start, 1, JOIN_OR);
}

char *speech_rescheduled(const speech_context_t *context, int64_t start)
{
    speaker_t s = speaker(context);
    return sentence_when(&s, S_RESCHEDULED, &start, 1, JOIN_OR);
}

char *speech_bookings(const speech_context_t *context, const int64_t *starts, size_t count)
{
    if (count == 0)
        return speech_no_bookings(context);
    speaker_t s = speaker(context);
    return sentence_when(&s, count == 1 ? S_BOOKING_FOUND : S_BOOKINGS_FOUND, starts, count,
                         JOIN_AND);
}

char *speech_no_bookings(const speech_context_t *context)
{
    speaker_t s = speaker(context);
    return sentence(&s, S_NO_BOOKINGS, NULL, 0);
}

/** A sentence about names said as a list ({0}), the first `count` of them. */
static char *sentence_names(const speaker_t *s, sentence_t which, const char *const *names,
                            size_t count, join_t kind)
{
    text_t list = {0};
    join_list(&list, s->l, kind, names, count);
    const char *args[] = {list.data};
    char *result = sentence(s, which, args, 1);
    free(list.data);
    return result;
}

char *speech_ambiguous(const speech_context_t *context, const char *const *names, size_t count)
{
    if (count == 0)
        return speech_not_found(context, NULL);
    speaker_t s = speaker(context);
    return sentence_names(&s, S_AMBIGUOUS, names, count < SPOKEN_MAX ? count : SPOKEN_MAX,
                          JOIN_CHOICE);
}

char *speech_not_found(const speech_context_t *context, const char *name)
{
    speaker_t s = speaker(context);
    if (name == NULL || name[0] == 0)
        return sentence(&s, S_NO_MATCH, NULL, 0);
    const char *args[] = {name};
    return sentence(&s, S_NOT_FOUND, args, 1);
}

/** "4 more" in the language's plural form. */
static void say_more(text_t *out, const language_t *l, size_t n)
{
    int form = MORE_MANY;
    if (n == 1)
        form = MORE_ONE;
    else if (l->slavic_plural && n % 10 >= 2 && n % 10 <= 4 && !(n % 100 >= 12 && n % 100 <= 14))
        form = MORE_FEW;
    char number[24];
    snprintf(number, sizeof(number), "%zu", n);
    const char *args[] = {number};
    expand(out, l->more[form], args, 1);
}

char *speech_services(const speech_context_t *context, const char *const *names, size_t count)
{
    speaker_t s = speaker(context);
    if (count == 0)
        return sentence(&s, S_NO_SERVICES, NULL, 0);
    if (count <= SPOKEN_MAX)
        return sentence_names(&s, S_SERVICES, names, count, JOIN_AND);
    text_t more = {0};
    say_more(&more, s.l, count - SPOKEN_MAX);
    const char *items[SPOKEN_MAX + 1];
    for (size_t i = 0; i < SPOKEN_MAX; i++)
        items[i] = names[i];
    items[SPOKEN_MAX] = more.data;
    char *result = sentence_names(&s, S_SERVICES, items, SPOKEN_MAX + 1, JOIN_AND);
    free(more.data);
    return result;
}
