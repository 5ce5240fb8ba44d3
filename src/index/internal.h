/*
 * What the index's own files share: an organization as the index holds it
 * (its engine object and maps from ids to the engine's resources, services
 * and locations) and the loader, which turns rows of the load statements into
 * engine objects.
 *
 * The loader never fails a whole load for one row: a row it cannot use (a
 * timestamp that is not finite, an id that does not parse, data the engine
 * refuses) is skipped, written as one JSON log line and counted in `skipped`,
 * and the rest of the organization loads as usual.
 */
#ifndef SLOTD_INDEX_INTERNAL_H
#define SLOTD_INDEX_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "index/idmap.h"
#include "slotd/engine.h"

typedef struct {
    eng_id_t id;
    eng_resource_t *resource;
    bool deleted;
} idx_resource_entry_t;

typedef struct {
    eng_id_t id;
    eng_service_t *service;
    bool deleted, bookable;
    eng_id_t *named; /* every resource its requirement groups name (malloc'd) */
    size_t named_count;
} idx_service_entry_t;

typedef struct {
    eng_id_t id;
    eng_location_t *location;
    bool deleted;
} idx_location_entry_t;

struct index_org {
    eng_id_t id;
    eng_org_t *engine;
    idmap_t resources, services, locations;
    /* busy entries of all its resources and the bytes they take, kept by the loader as it
     * applies rows, so that stats need not visit every resource */
    size_t busy_entries, busy_bytes;
    void **owned; /* every entry, for freeing */
    size_t owned_count, owned_capacity;
};
typedef struct index_org index_org_t;

/** Counts of what the loader skipped. */
typedef struct {
    uint64_t skipped;
} idx_tally_t;

/** An organization from a row of idx_orgs (id, timezone, business_hours, closures), or NULL. */
index_org_t *idx_load_org(const PGresult *res, int row, idx_tally_t *tally);

/** Frees an organization and everything it owns (NULL is fine). */
void idx_free_org(index_org_t *org);

/** Applies a row of idx_locations. */
void idx_load_location(index_org_t *org, const PGresult *res, int row, idx_tally_t *tally);

/** A cursor over one array column of a binary result (loader.c reads it). */
typedef struct {
    const unsigned char *p, *end;
    uint32_t left; /* elements not read yet */
} idx_array_t;

#define IDX_BUSY_ARRAYS 7  /* padded start, padded end, start, end, stamp, booking, id */
#define IDX_BLOCK_ARRAYS 3 /* start, end, id; of one-off blocks, and of external busy events */
/* rrule, zone, start_local, duration, nominal, vtimezone, exdates, id: of external series */
#define IDX_SERIES_ARRAYS 8

/** A row of idx_resources being applied: its busy time, blocks and external busy events not
 *  added yet. */
typedef struct {
    eng_resource_t *resource;
    bool became_usable; /* not usable (unknown or deleted) before, and usable now */
    idx_array_t busy[IDX_BUSY_ARRAYS], blocks[IDX_BLOCK_ARRAYS], external[IDX_BLOCK_ARRAYS];
    idx_array_t series[IDX_SERIES_ARRAYS];
    tz_zone_t *zone; /* the resource's */
    bool counted;    /* the organization's resource: its busy entries count in the totals */
} idx_resource_load_t;

/**
 * Applies a row of idx_resources but its busy time and blocks, which `load` then
 * holds for idx_resource_busy; `id` receives the resource's id. False when the row
 * was skipped (there is nothing more to apply).
 */
/** Series of imported calendars are expanded from a day before `now` (0: the real clock). */
void idx_freeze_series_clock(int64_t now);

/** As idx_resource_begin, into `into` (a resource of a scratch organization) instead: the
 *  organization is not changed; put the busy time in place with eng_resource_swap_busy once
 *  idx_resource_busy has added it all. */
bool idx_resource_begin_aside(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                              idx_resource_load_t *load, eng_resource_t *into, idx_tally_t *tally);

bool idx_resource_begin(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                        idx_resource_load_t *load, idx_tally_t *tally);

/**
 * Adds at most `max` entries of a row's busy time and blocks; true once none is
 * left. The row's result must live until then. Lets a resource with a great deal
 * of busy time be applied over several loop turns.
 */
bool idx_resource_busy(index_org_t *org, idx_resource_load_t *load, size_t max, idx_tally_t *tally);

/**
 * Applies a row of idx_resources in one step. Returns whether the resource was not
 * usable (unknown or deleted) before and is now; `id` receives its id.
 */
bool idx_load_resource(index_org_t *org, const PGresult *res, int row, eng_id_t *id,
                       idx_tally_t *tally);

/** Microseconds since 1970 as the index's seconds (rounded to the nearest). */
int64_t idx_seconds_of_us(int64_t unix_us);

/**
 * An occupancy row as the engine holds it: the padded range [lower, upper), the booking's or
 * hold's own [start, end) when `timed` (else, or when they do not fit inside it, the padded
 * range as it is, unpadded), the booking's creation or the hold's expiry, and its id (NULL:
 * none). The loader and the changes notified (index.c) build entries alike, so that a change
 * removes exactly the entry a load added.
 */
void idx_occupancy_busy(int64_t lower, int64_t upper, bool timed, int64_t start, int64_t end,
                        int64_t stamp, bool booking, const eng_id_t *id, eng_busy_t *out);

/** Applies a row of idx_services. */
void idx_load_service(index_org_t *org, const PGresult *res, int row, idx_tally_t *tally);

/** Whether a service's requirement groups name a resource. */
bool idx_service_names(const idx_service_entry_t *service, const eng_id_t *resource);

/** A resource that is not deleted, or NULL. */
eng_resource_t *idx_org_resource(index_org_t *org, const eng_id_t *id);

/** A location that is not deleted, or NULL. */
eng_location_t *idx_org_location(index_org_t *org, const eng_id_t *id);

/** Whether a row's column holds an id; parses it. */
bool idx_parse_id(const PGresult *res, int row, int col, eng_id_t *id);

/** Writes one JSON log line about a row the loader skipped. */
void idx_log_skip(const char *table, const eng_id_t *org, const eng_id_t *id, const char *reason);

#endif
