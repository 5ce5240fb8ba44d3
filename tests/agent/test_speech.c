/*
 * The voice agent's sentences (src/agent/speech.c): every kind in en, es, pl and de, exact
 * strings; local times across DST changes, today and tomorrow around local midnight, the 12-hour
 * clock of US zones, at most three times or names.
 */
#include <string.h>

#include "agent/speech.h"
#include "test.h"

/** Checks a sentence (and frees it). */
#define CHECK_SPEECH(call, expected)                                                               \
    do {                                                                                           \
        char *got_ = (call);                                                                       \
        if (strcmp(got_, (expected)) != 0) {                                                       \
            fprintf(stderr, "%s:%d: speech differs\n  got:      %s\n  expected: %s\n", __FILE__,   \
                    __LINE__, got_, (expected));                                                   \
            exit(1);                                                                               \
        }                                                                                          \
        free(got_);                                                                                \
    } while (0)

static speech_context_t speaking(speech_language_t language, const char *zone, const char *now)
{
    speech_context_t c = {.language = language, .zone = test_zone(zone), .now = test_instant(now)};
    return c;
}

/* A Sunday in Warsaw: Tuesday 3 March is neither today nor tomorrow. */
#define SUNDAY "2026-03-01T12:00+01:00"

TEST(speech_language_codes)
{
    CHECK_EQ(speech_language("en"), SPEECH_EN);
    CHECK_EQ(speech_language("es"), SPEECH_ES);
    CHECK_EQ(speech_language("pl"), SPEECH_PL);
    CHECK_EQ(speech_language("de"), SPEECH_DE);
    CHECK_EQ(speech_language("DE-at"), SPEECH_DE);
    CHECK_EQ(speech_language("es_MX"), SPEECH_ES);
    CHECK_EQ(speech_language("pl-PL"), SPEECH_PL);
    CHECK_EQ(speech_language(NULL), SPEECH_EN);
    CHECK_EQ(speech_language(""), SPEECH_EN);
    CHECK_EQ(speech_language("fr"), SPEECH_EN);
    CHECK_EQ(speech_language("d"), SPEECH_EN);
    CHECK_EQ(speech_language("deu"), SPEECH_EN);
}

TEST(speech_slots_en_london_24_hour)
{
    speech_context_t c = speaking(SPEECH_EN, "Europe/London", "2026-03-01T10:00Z");
    int64_t tomorrow[] = {test_instant("2026-03-02T09:30Z"), test_instant("2026-03-02T10:00Z"),
                          test_instant("2026-03-02T11:15Z")};
    CHECK_SPEECH(speech_slots(&c, tomorrow, 3), "I have tomorrow at 9:30, 10:00 or 11:15.");
    int64_t tuesday[] = {test_instant("2026-03-03T09:30Z"), test_instant("2026-03-03T10:00Z"),
                         test_instant("2026-03-03T14:00Z")};
    CHECK_SPEECH(speech_slots(&c, tuesday, 3), "I have Tuesday 3 March at 9:30, 10:00 or 14:00.");
    CHECK_SPEECH(speech_slots(&c, tuesday + 2, 1), "I have Tuesday 3 March at 14:00.");
}

TEST(speech_slots_en_new_york_12_hour)
{
    speech_context_t c = speaking(SPEECH_EN, "America/New_York", "2026-03-01T10:00-05:00");
    int64_t morning[] = {test_instant("2026-03-03T09:30-05:00"),
                         test_instant("2026-03-03T10:00-05:00"),
                         test_instant("2026-03-03T11:15-05:00")};
    CHECK_SPEECH(speech_slots(&c, morning, 3), "I have Tuesday, March 3 at 9:30, 10 or 11:15 AM.");
    int64_t midday[] = {test_instant("2026-03-03T11:30-05:00"),
                        test_instant("2026-03-03T12:00-05:00"),
                        test_instant("2026-03-03T13:00-05:00")};
    CHECK_SPEECH(speech_slots(&c, midday, 3), "I have Tuesday, March 3 at 11:30 AM, 12 or 1 PM.");
    int64_t ends[] = {test_instant("2026-03-03T00:00-05:00"),
                      test_instant("2026-03-03T00:30-05:00"),
                      test_instant("2026-03-03T12:30-05:00")};
    CHECK_SPEECH(speech_slots(&c, ends, 3), "I have Tuesday, March 3 at 12, 12:30 AM or 12:30 PM.");
    /* the same instants in London: 24-hour, day first */
    speech_context_t london = speaking(SPEECH_EN, "Europe/London", "2026-03-01T10:00Z");
    CHECK_SPEECH(speech_slots(&london, morning, 3),
                 "I have Tuesday 3 March at 14:30, 15:00 or 16:15.");
}

TEST(speech_us_zones_rule)
{
    int64_t at = test_instant("2026-03-03T15:00Z");
    const char *twelve[] = {"America/Chicago",
                            "America/Denver",
                            "America/Los_Angeles",
                            "America/Phoenix",
                            "America/Anchorage",
                            "Pacific/Honolulu",
                            "America/Indiana/Indianapolis",
                            "America/Kentucky/Louisville",
                            "US/Eastern",
                            "America/Puerto_Rico"};
    for (size_t i = 0; i < sizeof(twelve) / sizeof(twelve[0]); i++) {
        speech_context_t c = speaking(SPEECH_EN, twelve[i], "2026-03-01T12:00Z");
        char *got = speech_booked(&c, at);
        CHECK(strstr(got, "AM") != NULL || strstr(got, "PM") != NULL);
        CHECK(strstr(got, "Tuesday, March 3") != NULL);
        free(got);
    }
    speech_context_t toronto = speaking(SPEECH_EN, "America/Toronto", "2026-03-01T12:00Z");
    CHECK_SPEECH(speech_booked(&toronto, at), "You're booked for Tuesday 3 March at 10:00.");
    speech_context_t utc = speaking(SPEECH_EN, "UTC", "2026-03-01T12:00Z");
    CHECK_SPEECH(speech_booked(&utc, at), "You're booked for Tuesday 3 March at 15:00.");
    /* other languages keep their own clock and dates in a US zone */
    speech_context_t es = speaking(SPEECH_ES, "America/New_York", "2026-03-01T12:00Z");
    CHECK_SPEECH(speech_booked(&es, at),
                 "Su cita queda reservada para el martes 3 de marzo a las 10:00.");
}

/* Tuesday 3 March at 9:30 and 10:00, Wednesday 4 March at 9:00, Warsaw. */
static const char *const two_days[] = {"2026-03-03T09:30+01:00", "2026-03-03T10:00+01:00",
                                       "2026-03-04T09:00+01:00"};

TEST(speech_slots_two_days_every_language)
{
    int64_t s[3];
    for (int i = 0; i < 3; i++)
        s[i] = test_instant(two_days[i]);
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_slots(&en, s, 3),
                 "I have Tuesday 3 March at 9:30 or 10:00, and Wednesday 4 March at 9:00.");
    CHECK_SPEECH(speech_slots(&es, s, 3), "Tengo disponible el martes 3 de marzo a las 9:30 o "
                                          "10:00, y el miércoles 4 de marzo a las 9:00.");
    CHECK_SPEECH(speech_slots(&pl, s, 3),
                 "Mogę zaproponować wtorek 3 marca o 9:30 albo 10:00 oraz środę 4 marca o 9:00.");
    CHECK_SPEECH(speech_slots(&de, s, 3), "Ich habe am Dienstag, 3. März um 9:30 oder 10:00 Uhr "
                                          "und am Mittwoch, 4. März um 9:00 Uhr frei.");
}

TEST(speech_slots_at_most_three_in_order)
{
    /* the first three given are said, in chronological order */
    int64_t s[] = {test_instant(two_days[2]), test_instant(two_days[1]), test_instant(two_days[0]),
                   test_instant("2026-03-03T08:00+01:00"), test_instant("2026-03-05T09:00+01:00")};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_slots(&en, s, 5),
                 "I have Tuesday 3 March at 9:30 or 10:00, and Wednesday 4 March at 9:00.");
    /* three days, one time each */
    int64_t days[] = {test_instant("2026-03-03T09:00+01:00"),
                      test_instant("2026-03-07T09:00+01:00"),
                      test_instant("2026-03-08T10:00+01:00"), test_instant(two_days[0])};
    CHECK_SPEECH(speech_slots(&en, days, 4), "I have Tuesday 3 March at 9:00, Saturday 7 March at "
                                             "9:00, and Sunday 8 March at 10:00.");
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_slots(&pl, days, 4), "Mogę zaproponować wtorek 3 marca o 9:00, sobotę 7 "
                                             "marca o 9:00 oraz niedzielę 8 marca o 10:00.");
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_slots(&de, days, 3), "Ich habe am Dienstag, 3. März um 9:00 Uhr, am "
                                             "Samstag, 7. März um 9:00 Uhr und am Sonntag, 8. "
                                             "März um 10:00 Uhr frei.");
}

TEST(speech_dst_warsaw_spring_forward)
{
    /* 2026-03-29: 2:00 becomes 3:00 */
    int64_t s[] = {test_instant("2026-03-29T01:30+01:00"), test_instant("2026-03-29T03:00+02:00"),
                   test_instant("2026-03-29T03:30+02:00")};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", "2026-03-28T12:00+01:00");
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", "2026-03-28T12:00+01:00");
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", "2026-03-20T12:00+01:00");
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", "2026-03-20T12:00+01:00");
    CHECK_SPEECH(speech_slots(&en, s, 3), "I have tomorrow at 1:30, 3:00 or 3:30.");
    CHECK_SPEECH(speech_slots(&es, s, 3), "Tengo disponible mañana a la 1:30, 3:00 o 3:30.");
    CHECK_SPEECH(speech_slots(&pl, s, 3),
                 "Mogę zaproponować niedzielę 29 marca o 1:30, 3:00 albo 3:30.");
    CHECK_SPEECH(speech_booked(&de, s[1]),
                 "Ihr Termin am Sonntag, 29. März um 3:00 Uhr ist gebucht.");
}

TEST(speech_dst_warsaw_fall_back)
{
    /* 2026-10-25: 3:00 becomes 2:00, so 2:30 happens twice */
    int64_t s[] = {test_instant("2026-10-25T01:30+02:00"), test_instant("2026-10-25T02:30+01:00"),
                   test_instant("2026-10-25T09:00+01:00")};
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", "2026-10-24T20:00+02:00");
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", "2026-10-24T20:00+02:00");
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", "2026-10-20T20:00+02:00");
    CHECK_SPEECH(speech_slots(&pl, s, 3), "Mogę zaproponować jutro o 1:30, 2:30 albo 9:00.");
    CHECK_SPEECH(speech_slots(&de, s, 3), "Ich habe morgen um 1:30, 2:30 oder 9:00 Uhr frei.");
    CHECK_SPEECH(speech_rescheduled(&en, s[2]),
                 "Your appointment has been moved to Sunday 25 October at 9:00.");
}

TEST(speech_dst_new_york)
{
    speech_context_t c = speaking(SPEECH_EN, "America/New_York", "2026-03-01T12:00-05:00");
    /* 2026-03-08: 2:00 becomes 3:00 */
    int64_t spring[] = {test_instant("2026-03-08T01:30-05:00"),
                        test_instant("2026-03-08T03:00-04:00"),
                        test_instant("2026-03-08T09:30-04:00")};
    CHECK_SPEECH(speech_slots(&c, spring, 3), "I have Sunday, March 8 at 1:30, 3 or 9:30 AM.");
    /* 2026-11-01: 2:00 becomes 1:00 */
    int64_t fall[] = {test_instant("2026-11-01T01:30-04:00"),
                      test_instant("2026-11-01T01:30-05:00"),
                      test_instant("2026-11-01T12:00-05:00")};
    CHECK_SPEECH(speech_slots(&c, fall, 3), "I have Sunday, November 1 at 1:30, 1:30 AM or 12 PM.");
    CHECK_SPEECH(speech_cancelled(&c, fall[2]),
                 "Your appointment for Sunday, November 1 at 12 PM is cancelled.");
}

TEST(speech_today_tomorrow_around_local_midnight)
{
    /* 23:30 in New York is already the next day in UTC */
    speech_context_t ny = speaking(SPEECH_EN, "America/New_York", "2026-03-02T23:30-05:00");
    int64_t s[] = {test_instant("2026-03-02T23:45-05:00"), test_instant("2026-03-03T09:00-05:00"),
                   test_instant("2026-03-04T00:15-05:00")};
    CHECK_SPEECH(speech_slots(&ny, s, 3),
                 "I have today at 11:45 PM, tomorrow at 9 AM, and Wednesday, March 4 at 12:15 AM.");
    /* 0:10 in Warsaw is still the day before in UTC */
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", "2026-03-03T00:10+01:00");
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", "2026-03-03T00:10+01:00");
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", "2026-03-03T00:10+01:00");
    int64_t w[] = {test_instant("2026-03-03T09:00+01:00"), test_instant("2026-03-04T00:00+01:00"),
                   test_instant("2026-03-05T09:00+01:00")};
    CHECK_SPEECH(speech_slots(&es, w, 3), "Tengo disponible hoy a las 9:00, mañana a las 0:00, y "
                                          "el jueves 5 de marzo a las 9:00.");
    CHECK_SPEECH(speech_slots(&de, w, 3), "Ich habe heute um 9:00 Uhr, morgen um 0:00 Uhr und am "
                                          "Donnerstag, 5. März um 9:00 Uhr frei.");
    CHECK_SPEECH(speech_held(&pl, w[0]), "Trzymam dla Państwa termin na dzisiaj o 9:00.");
    CHECK_SPEECH(speech_held(&pl, w[1]), "Trzymam dla Państwa termin na jutro o 0:00.");
    /* a minute before local midnight, the next day is tomorrow; a minute after, today */
    speech_context_t before = speaking(SPEECH_EN, "Europe/Warsaw", "2026-03-02T23:59+01:00");
    speech_context_t after = speaking(SPEECH_EN, "Europe/Warsaw", "2026-03-03T00:01+01:00");
    CHECK_SPEECH(speech_booked(&before, w[0]), "You're booked for tomorrow at 9:00.");
    CHECK_SPEECH(speech_booked(&after, w[0]), "You're booked for today at 9:00.");
}

TEST(speech_no_slots_on_day_every_language)
{
    int32_t tuesday = test_day("2026-03-03");
    int64_t nearest[] = {test_instant("2026-03-04T09:00+01:00"),
                         test_instant("2026-03-05T10:00+01:00")};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_no_slots_on_day(&en, tuesday, nearest, 2),
                 "Nothing is free on Tuesday 3 March, but I have Wednesday 4 March at 9:00, and "
                 "Thursday 5 March at 10:00.");
    CHECK_SPEECH(speech_no_slots_on_day(&es, tuesday, nearest, 2),
                 "No hay nada libre el martes 3 de marzo, pero tengo disponible el miércoles 4 de "
                 "marzo a las 9:00, y el jueves 5 de marzo a las 10:00.");
    CHECK_SPEECH(speech_no_slots_on_day(&pl, tuesday, nearest, 2),
                 "Nie ma wolnych terminów we wtorek 3 marca, ale mogę zaproponować środę 4 marca o "
                 "9:00 oraz czwartek 5 marca o 10:00.");
    CHECK_SPEECH(speech_no_slots_on_day(&de, tuesday, nearest, 2),
                 "Leider ist am Dienstag, 3. März nichts frei, aber ich habe am Mittwoch, 4. März "
                 "um 9:00 Uhr und am Donnerstag, 5. März um 10:00 Uhr frei.");
    /* the day asked is today, nothing nearer */
    int32_t sunday = test_day("2026-03-01");
    CHECK_SPEECH(speech_no_slots_on_day(&en, sunday, NULL, 0), "Nothing is free today.");
    CHECK_SPEECH(speech_no_slots_on_day(&es, sunday, NULL, 0), "No hay nada libre hoy.");
    CHECK_SPEECH(speech_no_slots_on_day(&pl, sunday, NULL, 0), "Nie ma wolnych terminów dzisiaj.");
    CHECK_SPEECH(speech_no_slots_on_day(&de, sunday, NULL, 0), "Leider ist heute nichts frei.");
    CHECK_SPEECH(speech_no_slots_on_day(&pl, test_day("2026-03-04"), NULL, 0),
                 "Nie ma wolnych terminów w środę 4 marca.");
    CHECK_SPEECH(speech_no_slots_on_day(&en, test_day("2026-03-02"), nearest, 1),
                 "Nothing is free tomorrow, but I have Wednesday 4 March at 9:00.");
}

TEST(speech_nothing_free_every_language)
{
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_nothing_free(&en), "I'm sorry, there are no free times.");
    CHECK_SPEECH(speech_nothing_free(&es), "Lo siento, no hay horas libres.");
    CHECK_SPEECH(speech_nothing_free(&pl), "Niestety nie ma wolnych terminów.");
    CHECK_SPEECH(speech_nothing_free(&de), "Leider ist kein Termin frei.");
    CHECK_SPEECH(speech_slots(&pl, NULL, 0), "Niestety nie ma wolnych terminów.");
}

TEST(speech_held_and_booked_every_language)
{
    int64_t t = test_instant("2026-03-03T09:30+01:00");
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_held(&en, t), "I'm holding Tuesday 3 March at 9:30 for you.");
    CHECK_SPEECH(speech_held(&es, t), "Le guardo la cita para el martes 3 de marzo a las 9:30.");
    CHECK_SPEECH(speech_held(&pl, t), "Trzymam dla Państwa termin na wtorek 3 marca o 9:30.");
    CHECK_SPEECH(speech_held(&de, t),
                 "Ich halte Ihnen den Termin am Dienstag, 3. März um 9:30 Uhr frei.");
    CHECK_SPEECH(speech_booked(&en, t), "You're booked for Tuesday 3 March at 9:30.");
    CHECK_SPEECH(speech_booked(&es, t),
                 "Su cita queda reservada para el martes 3 de marzo a las 9:30.");
    CHECK_SPEECH(speech_booked(&pl, t), "Wizyta jest zarezerwowana na wtorek 3 marca o 9:30.");
    CHECK_SPEECH(speech_booked(&de, t), "Ihr Termin am Dienstag, 3. März um 9:30 Uhr ist gebucht.");
}

TEST(speech_cancelled_and_rescheduled_every_language)
{
    int64_t saturday = test_instant("2026-03-07T13:00+01:00");
    int64_t tomorrow = test_instant("2026-03-02T08:00+01:00");
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_cancelled(&en, saturday),
                 "Your appointment for Saturday 7 March at 13:00 is cancelled.");
    CHECK_SPEECH(speech_cancelled(&es, saturday),
                 "Su cita para el sábado 7 de marzo a las 13:00 queda cancelada.");
    CHECK_SPEECH(speech_cancelled(&pl, saturday),
                 "Wizyta na sobotę 7 marca o 13:00 została odwołana.");
    CHECK_SPEECH(speech_cancelled(&de, saturday),
                 "Ihr Termin am Samstag, 7. März um 13:00 Uhr ist storniert.");
    CHECK_SPEECH(speech_rescheduled(&en, tomorrow),
                 "Your appointment has been moved to tomorrow at 8:00.");
    CHECK_SPEECH(speech_rescheduled(&es, tomorrow), "Su nueva cita es mañana a las 8:00.");
    CHECK_SPEECH(speech_rescheduled(&pl, tomorrow), "Wizyta została przeniesiona na jutro o 8:00.");
    CHECK_SPEECH(speech_rescheduled(&de, tomorrow), "Ihr neuer Termin ist morgen um 8:00 Uhr.");
}

TEST(speech_taken_every_language)
{
    int64_t alternatives[] = {test_instant("2026-03-02T10:00+01:00"),
                              test_instant("2026-03-02T11:15+01:00")};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_taken(&en, alternatives, 2),
                 "I'm sorry, that time was just taken, but I have tomorrow at 10:00 or 11:15.");
    /* es "u" before once (11) */
    CHECK_SPEECH(speech_taken(&es, alternatives, 2),
                 "Lo siento, alguien acaba de reservar esa hora, pero tengo disponible mañana a "
                 "las 10:00 u 11:15.");
    CHECK_SPEECH(speech_taken(&pl, alternatives, 2),
                 "Niestety ten termin został właśnie zajęty, ale mogę zaproponować jutro o 10:00 "
                 "albo 11:15.");
    CHECK_SPEECH(speech_taken(&de, alternatives, 2),
                 "Leider wurde dieser Termin gerade vergeben, aber ich habe morgen um 10:00 oder "
                 "11:15 Uhr frei.");
    CHECK_SPEECH(speech_taken(&en, NULL, 0), "I'm sorry, that time was just taken.");
    CHECK_SPEECH(speech_taken(&es, NULL, 0), "Lo siento, alguien acaba de reservar esa hora.");
    CHECK_SPEECH(speech_taken(&pl, NULL, 0), "Niestety ten termin został właśnie zajęty.");
    CHECK_SPEECH(speech_taken(&de, NULL, 0), "Leider wurde dieser Termin gerade vergeben.");
}

TEST(speech_es_o_and_y_before_vowel_sounds)
{
    speech_context_t es = speaking(SPEECH_ES, "Europe/Madrid", "2026-03-01T12:00+01:00");
    int64_t eight[] = {test_instant("2026-03-02T07:30+01:00"),
                       test_instant("2026-03-02T08:00+01:00")};
    CHECK_SPEECH(speech_slots(&es, eight, 2), "Tengo disponible mañana a las 7:30 u 8:00.");
    int64_t eighteen[] = {test_instant("2026-03-02T17:30+01:00"),
                          test_instant("2026-03-02T18:00+01:00")};
    CHECK_SPEECH(speech_slots(&es, eighteen, 2), "Tengo disponible mañana a las 17:30 o 18:00.");
    const char *olga[] = {"Ana Ruiz", "Olga Ruiz"};
    CHECK_SPEECH(speech_ambiguous(&es, olga, 2), "¿Se refiere a Ana Ruiz u Olga Ruiz?");
    const char *horacio[] = {"Ana Ruiz", "Horacio Ruiz"};
    CHECK_SPEECH(speech_ambiguous(&es, horacio, 2), "¿Se refiere a Ana Ruiz u Horacio Ruiz?");
    const char *services[] = {"Corte", "Imagen"};
    CHECK_SPEECH(speech_services(&es, services, 2), "Ofrecemos Corte e Imagen.");
    const char *hilo[] = {"Corte", "Hidratación"};
    CHECK_SPEECH(speech_services(&es, hilo, 2), "Ofrecemos Corte e Hidratación.");
    const char *hielo[] = {"Corte", "Hielo"};
    CHECK_SPEECH(speech_services(&es, hielo, 2), "Ofrecemos Corte y Hielo.");
}

TEST(speech_bookings_every_language)
{
    /* today is Tuesday 3 March */
    const char *now = "2026-03-03T08:00+01:00";
    int64_t found[] = {
        test_instant("2026-03-03T09:30+01:00"), test_instant("2026-03-03T11:00+01:00"),
        test_instant("2026-03-05T09:00+01:00"), test_instant("2026-03-06T09:00+01:00")};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", now);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", now);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", now);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", now);
    CHECK_SPEECH(speech_bookings(&en, found, 4), "I found your appointments for today at 9:30 and "
                                                 "11:00, and Thursday 5 March at 9:00.");
    CHECK_SPEECH(speech_bookings(&es, found, 4),
                 "Tiene citas hoy a las 9:30 y 11:00, y el jueves 5 de marzo a las 9:00.");
    CHECK_SPEECH(speech_bookings(&pl, found, 4),
                 "Znaleziono wizyty na dzisiaj o 9:30 i 11:00 oraz czwartek 5 marca o 9:00.");
    CHECK_SPEECH(speech_bookings(&de, found, 4), "Sie haben Termine heute um 9:30 und 11:00 Uhr "
                                                 "und am Donnerstag, 5. März um 9:00 Uhr.");
    CHECK_SPEECH(speech_bookings(&en, found + 2, 1),
                 "I found your appointment for Thursday 5 March at 9:00.");
    CHECK_SPEECH(speech_bookings(&es, found + 2, 1),
                 "Tiene una cita el jueves 5 de marzo a las 9:00.");
    CHECK_SPEECH(speech_bookings(&pl, found + 2, 1),
                 "Znaleziono wizytę na czwartek 5 marca o 9:00.");
    CHECK_SPEECH(speech_bookings(&de, found + 2, 1),
                 "Sie haben einen Termin am Donnerstag, 5. März um 9:00 Uhr.");
    CHECK_SPEECH(speech_bookings(&en, NULL, 0), "I couldn't find any appointments.");
    CHECK_SPEECH(speech_no_bookings(&es), "No encuentro ninguna cita.");
    CHECK_SPEECH(speech_no_bookings(&pl), "Nie znaleziono żadnej wizyty.");
    CHECK_SPEECH(speech_no_bookings(&de), "Ich finde keinen Termin.");
}

TEST(speech_names_every_language)
{
    const char *names[] = {"Anna Kowalska", "Anna Nowak", "Anna Wiśniewska", "Anna Zielińska"};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_ambiguous(&en, names, 2), "Did you mean Anna Kowalska or Anna Nowak?");
    CHECK_SPEECH(speech_ambiguous(&es, names, 2), "¿Se refiere a Anna Kowalska o Anna Nowak?");
    CHECK_SPEECH(speech_ambiguous(&pl, names, 2), "Czy to Anna Kowalska czy Anna Nowak?");
    CHECK_SPEECH(speech_ambiguous(&de, names, 2), "Meinen Sie Anna Kowalska oder Anna Nowak?");
    /* at most three */
    CHECK_SPEECH(speech_ambiguous(&en, names, 4),
                 "Did you mean Anna Kowalska, Anna Nowak or Anna Wiśniewska?");
    CHECK_SPEECH(speech_ambiguous(&pl, names, 4),
                 "Czy to Anna Kowalska, Anna Nowak czy Anna Wiśniewska?");
    CHECK_SPEECH(speech_ambiguous(&de, names, 1), "Meinen Sie Anna Kowalska?");
    CHECK_SPEECH(speech_not_found(&en, "Anna Kowalsky"),
                 "I couldn't find anything called Anna Kowalsky.");
    CHECK_SPEECH(speech_not_found(&es, "Anna Kowalsky"),
                 "No encuentro nada con el nombre Anna Kowalsky.");
    CHECK_SPEECH(speech_not_found(&pl, "Anna Kowalsky"), "Nie znaleziono: Anna Kowalsky.");
    CHECK_SPEECH(speech_not_found(&de, "Anna Kowalsky"),
                 "Ich finde nichts unter dem Namen Anna Kowalsky.");
    CHECK_SPEECH(speech_not_found(&en, NULL), "I couldn't find a match.");
    CHECK_SPEECH(speech_not_found(&es, ""), "No encuentro ninguna coincidencia.");
    CHECK_SPEECH(speech_ambiguous(&pl, NULL, 0), "Nie znaleziono pasującej pozycji.");
    CHECK_SPEECH(speech_ambiguous(&de, NULL, 0), "Ich finde keinen passenden Eintrag.");
}

TEST(speech_services_every_language)
{
    const char *names[] = {"Haircut", "Colouring", "Styling", "Beard", "Shave"};
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    speech_context_t es = speaking(SPEECH_ES, "Europe/Warsaw", SUNDAY);
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    speech_context_t de = speaking(SPEECH_DE, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_services(&en, names, 1), "We offer Haircut.");
    CHECK_SPEECH(speech_services(&en, names, 3), "We offer Haircut, Colouring and Styling.");
    CHECK_SPEECH(speech_services(&en, names, 5),
                 "We offer Haircut, Colouring, Styling and 2 more.");
    CHECK_SPEECH(speech_services(&es, names, 5), "Ofrecemos Haircut, Colouring, Styling y 2 más.");
    CHECK_SPEECH(speech_services(&de, names, 5),
                 "Unser Angebot: Haircut, Colouring, Styling und 2 weitere.");
    CHECK_SPEECH(speech_services(&pl, names, 2), "Nasze usługi: Haircut i Colouring.");
    CHECK_SPEECH(speech_services(&en, NULL, 0), "There are no services to book.");
    CHECK_SPEECH(speech_services(&es, NULL, 0), "No hay servicios para reservar.");
    CHECK_SPEECH(speech_services(&pl, NULL, 0), "Brak usług do rezerwacji.");
    CHECK_SPEECH(speech_services(&de, NULL, 0), "Es gibt keine buchbaren Leistungen.");
}

TEST(speech_services_polish_plurals)
{
    const char *names[30];
    for (int i = 0; i < 30; i++)
        names[i] = i == 0 ? "Masaż" : i == 1 ? "Fizjoterapia" : "Konsultacja";
    speech_context_t pl = speaking(SPEECH_PL, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_services(&pl, names, 4),
                 "Nasze usługi: Masaż, Fizjoterapia, Konsultacja i jeszcze jedna.");
    CHECK_SPEECH(speech_services(&pl, names, 5),
                 "Nasze usługi: Masaż, Fizjoterapia, Konsultacja i 2 inne.");
    CHECK_SPEECH(speech_services(&pl, names, 8),
                 "Nasze usługi: Masaż, Fizjoterapia, Konsultacja i 5 innych.");
    CHECK_SPEECH(speech_services(&pl, names, 15),
                 "Nasze usługi: Masaż, Fizjoterapia, Konsultacja i 12 innych.");
    CHECK_SPEECH(speech_services(&pl, names, 25),
                 "Nasze usługi: Masaż, Fizjoterapia, Konsultacja i 22 inne.");
    speech_context_t en = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    CHECK_SPEECH(speech_services(&en, names, 4),
                 "We offer Masaż, Fizjoterapia, Konsultacja and 1 more.");
}

TEST(speech_language_out_of_range_speaks_english)
{
    speech_context_t c = speaking(SPEECH_EN, "Europe/Warsaw", SUNDAY);
    c.language = (speech_language_t)42;
    CHECK_SPEECH(speech_booked(&c, test_instant("2026-03-02T09:00+01:00")),
                 "You're booked for tomorrow at 9:00.");
}
