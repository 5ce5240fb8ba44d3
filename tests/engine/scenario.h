/*
 * Scenarios: an organization, a service and a slot query as plain data, which
 * can be loaded into the engine (sc_load) and answered by the naive reference
 * (reference.c). Behaviour tests build them by hand; the differential test
 * generates thousands at random (sc_generate) and compares the two answers.
 */
#ifndef SLOTD_TEST_SCENARIO_H
#define SLOTD_TEST_SCENARIO_H

#include <stdio.h>

#include "slotd/engine.h"

#define SC_MAX_RESOURCES 6
#define SC_MAX_LOCATIONS 2
#define SC_MAX_BUSY 40
#define SC_MAX_OVERRIDES 6
#define SC_MAX_RECURRING 2
#define SC_MAX_CLOSURES 3
#define SC_MAX_GROUPS 3
#define SC_MAX_SLOTS 4096

typedef struct {
    int32_t day;
    eng_day_hours_t hours;
} sc_override_t;

typedef struct {
    char rrule[96];
    int64_t start_wall;
    int32_t duration_minutes;
    int64_t exdates[3];
    int exdate_count;
} sc_recurring_t;

typedef struct {
    tz_zone_t *zone;
    bool has_hours;
    eng_week_t hours;
    int32_t closures[SC_MAX_CLOSURES];
    int closure_count;
} sc_location_t;

typedef struct {
    eng_id_t id;
    tz_zone_t *zone;
    int location; /* -1: none */
    bool active;
    eng_week_t week;
    sc_override_t overrides[SC_MAX_OVERRIDES];
    int override_count;
    eng_busy_t busy[SC_MAX_BUSY];
    int busy_count;
    sc_recurring_t recurring[SC_MAX_RECURRING];
    int recurring_count;
} sc_resource_t;

typedef struct {
    eng_group_mode_t mode;
    int members[SC_MAX_RESOURCES];
    int count;
} sc_group_t;

typedef struct {
    tz_zone_t *zone;
    bool has_hours;
    eng_week_t hours;
    int32_t closures[SC_MAX_CLOSURES];
    int closure_count;
    sc_location_t locations[SC_MAX_LOCATIONS];
    int location_count;
    sc_resource_t resources[SC_MAX_RESOURCES];
    int resource_count;
    eng_service_spec_t spec;
    sc_group_t groups[SC_MAX_GROUPS];
    int group_count;
    /* the query */
    int64_t from, to, now;
    tz_zone_t *display; /* NULL: the organization's zone */
    int filter[SC_MAX_RESOURCES];
    int filter_count;
    int location_filter; /* -1: none */
    uint32_t limit, per_day;
} scenario_t;

/** A slot as both sides report it: start and the scenario indices of its resources. */
typedef struct {
    int64_t start;
    int resources[SC_MAX_RESOURCES]; /* sorted by resource id */
    int resource_count;
} sc_slot_t;

/** The engine objects of a loaded scenario. */
typedef struct {
    eng_org_t *org;
    eng_location_t *locations[SC_MAX_LOCATIONS];
    eng_resource_t *resources[SC_MAX_RESOURCES];
    eng_service_t *service;
} sc_engine_t;

/** A scenario with one resource open 09:00-17:00 Monday to Friday, UTC, and no query yet. */
void sc_init(scenario_t *s, const char *zone);

/** Sets every weekday (Mon-Fri) of a week to one range. */
/** A new resource of `org` (id {first byte}) in zone `z`, open start..end minutes every day. */
eng_resource_t *sc_resource_every_day(eng_org_t *org, tz_zone_t *z, uint8_t id, int start_minute,
                                      int end_minute);

void sc_week_days(eng_week_t *w, int first_weekday, int last_weekday, int start_minute,
                  int end_minute);

/** Loads the scenario into a new engine organization (aborts the test on any error). */
void sc_load(const scenario_t *s, sc_engine_t *e);
void sc_unload(sc_engine_t *e);

/** Runs the scenario's query through the engine; returns the number of slots written. */
size_t sc_engine_slots(const scenario_t *s, sc_engine_t *e, eng_workspace_t *ws, sc_slot_t *out,
                       size_t capacity);

/** Fills a random scenario from a seed. */
void sc_generate(scenario_t *s, uint64_t seed);

/** Prints a scenario (for a failing differential case). */
void sc_print(const scenario_t *s, FILE *f);

/** The reference: the scenario's query answered minute by minute from the rules' text. */
size_t ref_slots(const scenario_t *s, sc_slot_t *out, size_t capacity);

/**
 * The reference booking check: would `start` be offered (window and limits aside)
 * with the pinned resources (scenario indices)? Uses the scenario's now/display.
 */
bool ref_offered(const scenario_t *s, int64_t start, const int *pinned, int pinned_count);

/** Two slot lists are equal: the same starts with the same resources, in order. */
bool sc_same_slots(const sc_slot_t *a, size_t na, const sc_slot_t *b, size_t nb);

#endif
