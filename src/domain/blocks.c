/*
 * Blocks: the rules (see blocks.h), then the typed store; and the expansion
 * of a listing with the availability engine itself, so that what a listing
 * shows is what makes the resource busy. A refused input never reaches the
 * database. Fields are checked in the order of the API's block, texts first,
 * then which kind the block is, then the values of that kind.
 */
#include "domain/blocks.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "slotd/alloc.h"

/* "YYYY-MM-DDTHH:MM[:SS]" into wall seconds. */
static bool parse_local(const char *text, int64_t *wall)
{
    size_t len = strlen(text);
    if ((len != 16 && len != 19) || text[10] != 'T' || text[13] != ':' ||
        (len == 19 && text[16] != ':'))
        return false;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    int32_t day, h, m, s = 0;
    if (tz_parse_date(date, &day) || !tz_parse_digits(text + 11, 2, &h) ||
        !tz_parse_digits(text + 14, 2, &m) || h > 23 || m > 59 ||
        (len == 19 && (!tz_parse_digits(text + 17, 2, &s) || s > 59)))
        return false;
    *wall = (int64_t)day * TZ_SECONDS_PER_DAY + h * 3600 + m * 60 + s;
    return true;
}

/* The value of a text as received: NULL unless given. */
static const char *given(const domain_text_t *text)
{
    return text->given == DOMAIN_GIVEN ? text->text : NULL;
}

static int check_fields(const domain_block_input_t *input, domain_error_t *error)
{
    int rc = domain_check_given_text(error, "start", &input->start, 1, 64, false);
    if (rc == 0)
        rc = domain_check_given_text(error, "end", &input->end, 1, 64, false);
    if (rc == 0)
        rc = domain_check_given_text(error, "rrule", &input->rrule, 1, 1024, false);
    if (rc == 0)
        rc = domain_check_given_text(error, "start_local", &input->start_local, 1, 32, false);
    if (rc == 0)
        rc = domain_check_whole(error, "duration_minutes", &input->duration_minutes, 1,
                                DOMAIN_BLOCK_MAX_MINUTES, false, false);
    if (rc == 0 && input->reason.given != DOMAIN_NULL) /* null: no reason */
        rc = domain_check_given_text(error, "reason", &input->reason, 1, 500, false);
    return rc;
}

/* An instant of a one-off block, named `field`. */
static int check_instant(const char *field, const char *text, int64_t *instant,
                         domain_error_t *error)
{
    int rc = text ? codec_parse_instant(text, instant) : ENG_EINVAL;
    if (rc == ENG_ERANGE)
        return domain_invalid(error, field, "%s must lie in 1970-01-01..2199-12-31 (UTC).", field);
    if (rc)
        return domain_invalid(error, field, "%s must be an RFC 3339 instant.", field);
    return 0;
}

static int check_once(const domain_block_input_t *input, store_block_t *write,
                      domain_error_t *error)
{
    int rc = check_instant("start", given(&input->start), &write->start, error);
    if (rc == 0)
        rc = check_instant("end", given(&input->end), &write->end, error);
    if (rc == 0 && (write->end <= write->start || write->end - write->start > ENG_MAX_BUSY_SECONDS))
        rc = domain_invalid(error, "end", "end must be after start, by at most ten years.");
    return rc;
}

static int check_recurring(const domain_block_input_t *input, store_block_t *write,
                           domain_error_t *error)
{
    const char *start_local = given(&input->start_local), *rrule = given(&input->rrule);
    write->recurring = true;
    if (start_local == NULL || !parse_local(start_local, &write->start_local))
        return domain_invalid(error, "start_local",
                              "start_local is a local date and time, YYYY-MM-DDTHH:MM, "
                              "in 1970..2199.");
    if (input->duration_minutes.given == DOMAIN_ABSENT)
        return domain_check_required(error, "duration_minutes", false);
    write->duration_minutes = (int32_t)input->duration_minutes.value;
    if (rrule == NULL ||
        eng_recurring_block_check(rrule, write->start_local, write->duration_minutes) != 0)
        return domain_invalid(error, "rrule",
                              "rrule must be an RFC 5545 rule, daily or less often (at most "
                              "one BYHOUR, BYMINUTE and BYSECOND value), with an occurrence "
                              "within 9 years of start_local; COUNT and UNTIL are optional "
                              "(not both), and UNTIL may not precede start_local.");
    write->rrule = rrule;
    return 0;
}

int domain_block_check(const domain_block_input_t *input, store_block_t *write,
                       domain_error_t *error)
{
    memset(write, 0, sizeof(*write));
    int rc = check_fields(input, error);
    if (rc)
        return rc;
    /* checked: what is not absent was given */
    bool once = given(&input->start) || given(&input->end);
    bool recurring = given(&input->rrule) || given(&input->start_local) ||
                     input->duration_minutes.given != DOMAIN_ABSENT;
    if (once == recurring)
        return domain_invalid(error, once ? "rrule" : "start",
                              "Send either start and end, or rrule, start_local and "
                              "duration_minutes.");
    write->reason = given(&input->reason);
    return once ? check_once(input, write, error) : check_recurring(input, write, error);
}

store_operation_t *domain_blocks_create(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const domain_block_input_t *input,
                                        store_block_cb cb, void *arg, domain_error_t *error)
{
    store_block_t write;
    if (domain_block_check(input, &write, error) != 0)
        return NULL;
    return domain_started(store_blocks_insert(pool, organization, resource, &write, cb, arg),
                          error);
}

/* A listing's window: `to` after `from`, by at most DOMAIN_BLOCK_MAX_WINDOW_DAYS. */
static bool window_ok(int64_t from, int64_t to, domain_error_t *error)
{
    if (to < from || to - from > DOMAIN_BLOCK_MAX_WINDOW_DAYS * TZ_SECONDS_PER_DAY) {
        domain_invalid(error, "to", "to must follow from, by at most %d days.",
                       DOMAIN_BLOCK_MAX_WINDOW_DAYS);
        return false;
    }
    return true;
}

store_operation_t *domain_blocks_list(store_pool_t *pool, const eng_id_t *organization,
                                      const eng_id_t *resource, int64_t from, int64_t to,
                                      store_block_list_cb cb, void *arg, domain_error_t *error)
{
    if (!window_ok(from, to, error))
        return NULL;
    return domain_started(store_blocks_list(pool, organization, resource, from, to, cb, arg),
                          error);
}

store_operation_t *domain_resource_busy(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, int64_t from, int64_t to,
                                        int64_t now, store_busy_list_cb cb, void *arg,
                                        domain_error_t *error)
{
    if (!window_ok(from, to, error))
        return NULL;
    return domain_started(store_busy_list(pool, organization, resource, from, to, now, cb, arg),
                          error);
}

static int by_start(const void *a, const void *b)
{
    const domain_block_occurrence_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* A recurring block into the scratch resource, its supported exdates only (the others cannot
 * name an occurrence); a block the engine refuses has no occurrence. */
static void add_recurring(eng_resource_t *scratch, size_t index, const store_block_t *block)
{
    int64_t *exdates = slotd_malloc((block->exdate_count + 1) * sizeof(*exdates));
    size_t n = 0;
    for (size_t k = 0; k < block->exdate_count; k++)
        if (tz_instant_supported(block->exdates[k]))
            exdates[n++] = block->exdates[k];
    if (tz_instant_supported(block->start_local))
        eng_resource_add_recurring_block(scratch, (uint64_t)index, block->rrule, block->start_local,
                                         block->duration_minutes, exdates, n);
    free(exdates);
}

size_t domain_block_occurrences(const store_block_list_t *list, tz_zone_t *zone, int64_t from,
                                int64_t to, domain_block_occurrence_t **out)
{
    eng_org_t *org = eng_org_new(zone);
    eng_id_t scratch_id = {{0}};
    eng_resource_t *scratch = eng_resource_new(org, &scratch_id, zone);
    domain_block_occurrence_t *items = NULL;
    size_t count = 0, capacity = 0;
    for (size_t i = 0; i < list->count; i++) {
        const store_block_t *block = &list->items[i];
        if (block->recurring) {
            add_recurring(scratch, i, block);
            continue;
        }
        items = slotd_grow(items, &capacity, count + 1, sizeof(*items));
        items[count++] = (domain_block_occurrence_t){block->start, block->end, i};
    }
    eng_busy_t *occurrences = NULL;
    size_t occurrence_count = 0, occurrence_capacity = 0;
    eng_resource_recurring_occurrences(scratch, from, to, &occurrences, &occurrence_count,
                                       &occurrence_capacity);
    for (size_t i = 0; i < occurrence_count; i++) {
        items = slotd_grow(items, &capacity, count + 1, sizeof(*items));
        items[count++] = (domain_block_occurrence_t){occurrences[i].start, occurrences[i].end,
                                                     (size_t)occurrences[i].key};
    }
    free(occurrences);
    eng_org_free(org);
    if (count > 1)
        qsort(items, count, sizeof(*items), by_start);
    *out = items;
    return count;
}

size_t domain_series_occurrences(const char *series, tz_zone_t *zone, int64_t from, int64_t to,
                                 domain_block_occurrence_t **out)
{
    *out = NULL;
    json_t *s = json_loads(series, 0, NULL);
    const char *name = json_string_value(json_object_get(s, "timezone"));
    tz_zone_t *own = NULL;
    if (name && tz_zone_find_or_define(name, json_string_value(json_object_get(s, "vtimezone")),
                                       &own) != TZ_OK) {
        json_decref(s);
        return 0;
    }
    json_t *ex = json_object_get(s, "exdates");
    int64_t *exdates = slotd_malloc((json_array_size(ex) + 1) * sizeof(*exdates));
    size_t n = 0, k;
    json_t *x;
    json_array_foreach(ex, k, x)
    {
        exdates[n++] = (int64_t)json_integer_value(x);
    }
    tz_zone_t *wall_zone = own ? own : zone;
    eng_recurrence_t spec = {
        .rrule = json_string_value(json_object_get(s, "rrule")),
        .start_wall = (int64_t)json_integer_value(json_object_get(s, "start_local")),
        .zone = own,
        .duration_seconds = (int32_t)json_integer_value(json_object_get(s, "duration")),
        .nominal = json_is_true(json_object_get(s, "nominal")),
        .exdates_wall = exdates,
        .exdate_count = n,
        .kind = ENG_BUSY_EXTERNAL,
        .expand_from_wall = tz_instant_supported(from) ? tz_to_wall(wall_zone, from) : 0};
    eng_org_t *org = eng_org_new(zone);
    eng_id_t scratch_id = {{0}};
    eng_resource_t *scratch = eng_resource_new(org, &scratch_id, zone);
    eng_busy_t *occurrences = NULL;
    size_t count = 0, capacity = 0;
    if (spec.rrule && tz_instant_supported(from) && tz_instant_supported(to) &&
        eng_resource_add_recurrence(scratch, 0, &spec) == 0)
        eng_resource_recurring_occurrences(scratch, from, to, &occurrences, &count, &capacity);
    domain_block_occurrence_t *items = slotd_malloc((count + 1) * sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = (domain_block_occurrence_t){occurrences[i].start, occurrences[i].end, 0};
    free(occurrences);
    free(exdates);
    eng_org_free(org);
    json_decref(s);
    *out = items;
    return count;
}

store_operation_t *domain_blocks_delete(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const eng_id_t *id,
                                        store_block_delete_cb cb, void *arg, domain_error_t *error)
{
    return domain_started(store_blocks_delete(pool, organization, resource, id, cb, arg), error);
}
