/*
 * Organizations and what they own: locations, resources, services.
 *
 * These are plain records kept in arrays of the organization; the slot
 * computation (slots.c) reads them directly. Setters validate and copy. Objects
 * are never freed one by one: a deleted resource or service is only marked so
 * (its bookings must stay visible as busy time), and everything goes with the
 * organization.
 */
#include "internal.h"

#include "slotd/alloc.h"

const char *eng_strerror(int code)
{
    switch (code) {
    case ENG_OK:
        return "ok";
    case ENG_EINVAL:
        return "invalid input";
    case ENG_ERANGE_ORDER:
        return "range does not end after it starts";
    case ENG_ERANGE_OVERLAP:
        return "ranges overlap";
    case ENG_EZONE:
        return "unknown time zone";
    case ENG_EDURATION:
        return "duration out of bounds";
    case ENG_EWINDOW:
        return "query window out of bounds";
    case ENG_ERRULE:
        return "unusable recurrence rule";
    case ENG_ENOTFOUND:
        return "not found";
    case ENG_EEXISTS:
        return "already exists";
    case ENG_ELIMIT:
        return "too many items";
    case ENG_EUNAVAILABLE:
        return "slot unavailable";
    case ENG_ERESOURCE:
        return "resource not usable for this service";
    case ENG_ERANGE:
        return "outside the supported range of dates";
    default:
        return "unknown error";
    }
}

static int check_week(const eng_week_t *hours, eng_week_t *normalized)
{
    *normalized = *hours;
    for (int d = 0; d < 7; d++) {
        int bad;
        int rc = eng_day_hours_normalize(&normalized->day[d], &bad);
        if (rc)
            return rc;
    }
    return ENG_OK;
}

static void copy_days(int32_t **dst, size_t *dst_count, const int32_t *days, size_t count)
{
    free(*dst);
    *dst = slotd_malloc(count * sizeof(int32_t));
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t j = n; /* insertion keeps the list sorted and free of repeats */
        while (j > 0 && (*dst)[j - 1] > days[i])
            j--;
        if (j > 0 && (*dst)[j - 1] == days[i])
            continue;
        memmove(*dst + j + 1, *dst + j, (n - j) * sizeof(int32_t));
        (*dst)[j] = days[i];
        n++;
    }
    *dst_count = n;
}

eng_org_t *eng_org_new(tz_zone_t *zone)
{
    eng_org_t *org = slotd_calloc(1, sizeof(*org));
    org->zone = zone;
    return org;
}

void eng_org_free(eng_org_t *org)
{
    if (org == NULL)
        return;
    for (size_t i = 0; i < org->resource_count; i++) {
        eng_resource_t *r = org->resources[i];
        eng_busy_tree_free(&r->busy);
        free(r->overrides);
        for (size_t k = 0; k < r->recurring_count; k++)
            eng_recurring_free(r->recurring[k]);
        free(r->recurring);
        free(r);
    }
    for (size_t i = 0; i < org->location_count; i++) {
        free(org->locations[i]->closures);
        free(org->locations[i]);
    }
    for (size_t i = 0; i < org->service_count; i++) {
        eng_service_clear_groups(org->services[i]);
        free(org->services[i]);
    }
    free(org->resources);
    free(org->locations);
    free(org->services);
    free(org->closures);
    free(org);
}

tz_zone_t *eng_org_zone(const eng_org_t *org)
{
    return org->zone;
}

void eng_org_set_zone(eng_org_t *org, tz_zone_t *zone)
{
    org->zone = zone;
}

/* Business hours of an organization or a location: NULL removes the limit. */
static int set_business_hours(bool *has_hours, eng_week_t *stored, const eng_week_t *hours)
{
    if (hours == NULL) {
        *has_hours = false;
        return ENG_OK;
    }
    eng_week_t normalized;
    int rc = check_week(hours, &normalized);
    if (rc)
        return rc;
    *stored = normalized;
    *has_hours = true;
    return ENG_OK;
}

int eng_org_set_business_hours(eng_org_t *org, const eng_week_t *hours)
{
    return set_business_hours(&org->has_hours, &org->hours, hours);
}

void eng_org_set_closures(eng_org_t *org, const int32_t *days, size_t count)
{
    copy_days(&org->closures, &org->closure_count, days, count);
}

eng_location_t *eng_location_new(eng_org_t *org, tz_zone_t *zone)
{
    eng_location_t *loc = slotd_calloc(1, sizeof(*loc));
    loc->org = org;
    loc->zone = zone;
    org->locations = slotd_realloc(org->locations, (org->location_count + 1) * sizeof(loc));
    org->locations[org->location_count++] = loc;
    return loc;
}

void eng_location_set_zone(eng_location_t *location, tz_zone_t *zone)
{
    location->zone = zone;
}

int eng_location_set_business_hours(eng_location_t *location, const eng_week_t *hours)
{
    return set_business_hours(&location->has_hours, &location->hours, hours);
}

void eng_location_set_closures(eng_location_t *location, const int32_t *days, size_t count)
{
    copy_days(&location->closures, &location->closure_count, days, count);
}

eng_resource_t *eng_resource_new(eng_org_t *org, const eng_id_t *id, tz_zone_t *zone)
{
    eng_resource_t *r = slotd_calloc(1, sizeof(*r));
    r->org = org;
    r->id = *id;
    r->zone = zone;
    r->active = true;
    r->last_booking_created = INT64_MIN;
    eng_busy_tree_init(&r->busy);
    org->resources = slotd_realloc(org->resources, (org->resource_count + 1) * sizeof(r));
    org->resources[org->resource_count++] = r;
    return r;
}

const eng_id_t *eng_resource_id(const eng_resource_t *resource)
{
    return &resource->id;
}

void eng_resource_set_zone(eng_resource_t *resource, tz_zone_t *zone)
{
    resource->zone = zone;
}

void eng_resource_set_location(eng_resource_t *resource, eng_location_t *location)
{
    resource->location = location;
}

void eng_resource_set_active(eng_resource_t *resource, bool active)
{
    resource->active = active;
}

void eng_resource_reset(eng_resource_t *r)
{
    r->week = (eng_week_t){0};
    r->override_count = 0;
    eng_busy_tree_free(&r->busy);
    for (size_t k = 0; k < r->recurring_count; k++)
        eng_recurring_free(r->recurring[k]);
    r->recurring_count = 0;
    r->last_booking_created = INT64_MIN;
}

void eng_resource_swap_busy(eng_resource_t *a, eng_resource_t *b)
{
    eng_busy_tree_t tree = a->busy;
    a->busy = b->busy;
    b->busy = tree;
    eng_recurring_t **recurring = a->recurring;
    a->recurring = b->recurring;
    b->recurring = recurring;
    size_t count = a->recurring_count, capacity = a->recurring_capacity;
    a->recurring_count = b->recurring_count;
    a->recurring_capacity = b->recurring_capacity;
    b->recurring_count = count;
    b->recurring_capacity = capacity;
    int64_t created = a->last_booking_created;
    a->last_booking_created = b->last_booking_created;
    b->last_booking_created = created;
}

int eng_resource_set_week(eng_resource_t *resource, const eng_week_t *week)
{
    eng_week_t normalized;
    int rc = check_week(week, &normalized);
    if (rc)
        return rc;
    resource->week = normalized;
    return ENG_OK;
}

/* Index of the first override at or after `day`. */
static size_t override_position(const eng_resource_t *r, int32_t day)
{
    size_t lo = 0, hi = r->override_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->overrides[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int eng_resource_set_override(eng_resource_t *r, int32_t day, const eng_day_hours_t *hours)
{
    eng_day_hours_t normalized = *hours;
    int bad;
    int rc = eng_day_hours_normalize(&normalized, &bad);
    if (rc)
        return rc;
    size_t i = override_position(r, day);
    if (i < r->override_count && r->overrides[i].day == day) {
        r->overrides[i].hours = normalized;
        return ENG_OK;
    }
    r->overrides = slotd_grow(r->overrides, &r->override_capacity, r->override_count + 1,
                              sizeof(eng_override_t));
    memmove(&r->overrides[i + 1], &r->overrides[i],
            (r->override_count - i) * sizeof(eng_override_t));
    r->overrides[i].day = day;
    r->overrides[i].hours = normalized;
    r->override_count++;
    return ENG_OK;
}

int eng_resource_clear_override(eng_resource_t *r, int32_t day)
{
    size_t i = override_position(r, day);
    if (i == r->override_count || r->overrides[i].day != day)
        return ENG_ENOTFOUND;
    memmove(&r->overrides[i], &r->overrides[i + 1],
            (r->override_count - i - 1) * sizeof(eng_override_t));
    r->override_count--;
    return ENG_OK;
}

const eng_day_hours_t *eng_resource_day_hours(const eng_resource_t *r, int32_t day)
{
    if (r->override_count) {
        size_t i = override_position(r, day);
        if (i < r->override_count && r->overrides[i].day == day)
            return &r->overrides[i].hours;
    }
    return &r->week.day[tz_weekday(day)];
}

int eng_resource_add_busy(eng_resource_t *r, const eng_busy_t *busy)
{
    int rc = eng_busy_tree_insert(&r->busy, busy);
    if (rc == ENG_OK && busy->kind == ENG_BUSY_BOOKING && busy->stamp > r->last_booking_created)
        r->last_booking_created = busy->stamp;
    return rc;
}

static void latest_booking(const eng_busy_hit_t *hit, void *arg)
{
    int64_t *latest = arg;
    if (hit->kind == ENG_BUSY_BOOKING && hit->stamp > *latest)
        *latest = hit->stamp;
}

int eng_resource_remove_busy(eng_resource_t *r, const eng_busy_t *busy)
{
    int rc = eng_busy_tree_remove(&r->busy, busy);
    if (rc == ENG_OK && busy->kind == ENG_BUSY_BOOKING && busy->stamp >= r->last_booking_created) {
        /* The latest booking went: find the new latest (rare, linear). */
        r->last_booking_created = INT64_MIN;
        eng_busy_tree_walk(&r->busy, latest_booking, &r->last_booking_created);
    }
    return rc;
}

typedef struct {
    int64_t now;
    eng_busy_t *expired;
    size_t count, capacity;
} expiry_t;

static void collect_expired(const eng_busy_hit_t *hit, void *arg)
{
    expiry_t *e = arg;
    if (hit->kind != ENG_BUSY_HOLD || hit->stamp > e->now)
        return;
    e->expired = slotd_grow(e->expired, &e->capacity, e->count + 1, sizeof(eng_busy_t));
    e->expired[e->count++] = (eng_busy_t){.start = hit->start,
                                          .end = hit->end,
                                          .kind = ENG_BUSY_BLOCK, /* already padded */
                                          .key = hit->key};
}

size_t eng_resource_expire_holds(eng_resource_t *r, int64_t now)
{
    expiry_t e = {.now = now};
    eng_busy_tree_walk(&r->busy, collect_expired, &e);
    for (size_t i = 0; i < e.count; i++)
        eng_busy_tree_remove(&r->busy, &e.expired[i]);
    free(e.expired);
    return e.count;
}

size_t eng_resource_busy_count(const eng_resource_t *resource)
{
    return resource->busy.count;
}

size_t eng_resource_busy_bytes(const eng_resource_t *resource)
{
    return eng_busy_tree_bytes(&resource->busy);
}

int eng_service_spec_check(const eng_service_spec_t *s)
{
    if (s->duration_minutes < 1 || s->duration_minutes > ENG_MAX_DURATION_MINUTES ||
        s->interval_minutes < 0 || s->interval_minutes > ENG_MAX_DURATION_MINUTES ||
        s->buffer_before_minutes < 0 || s->buffer_before_minutes > ENG_MAX_BUFFER_MINUTES ||
        s->buffer_after_minutes < 0 || s->buffer_after_minutes > ENG_MAX_BUFFER_MINUTES ||
        s->min_notice_minutes < 0 || s->min_notice_minutes > ENG_MAX_NOTICE_MINUTES ||
        s->max_advance_days < -1 || s->max_advance_days > ENG_MAX_HORIZON_DAYS)
        return ENG_EDURATION;
    return ENG_OK;
}

int eng_service_new(eng_org_t *org, const eng_service_spec_t *spec, eng_service_t **out)
{
    int rc = eng_service_spec_check(spec);
    if (rc)
        return rc;
    eng_service_t *s = slotd_calloc(1, sizeof(*s));
    s->org = org;
    s->spec = *spec;
    org->services = slotd_realloc(org->services, (org->service_count + 1) * sizeof(s));
    org->services[org->service_count++] = s;
    *out = s;
    return ENG_OK;
}

int eng_service_set_spec(eng_service_t *service, const eng_service_spec_t *spec)
{
    int rc = eng_service_spec_check(spec);
    if (rc == ENG_OK)
        service->spec = *spec;
    return rc;
}

const eng_service_spec_t *eng_service_spec(const eng_service_t *service)
{
    return &service->spec;
}

int eng_service_add_group(eng_service_t *s, eng_group_mode_t mode, eng_resource_t *const *members,
                          size_t count)
{
    if (s->group_count == ENG_MAX_GROUPS || count > ENG_MAX_GROUP_MEMBERS)
        return ENG_ELIMIT;
    if (count == 0 || (mode != ENG_GROUP_ANY && mode != ENG_GROUP_ALL))
        return ENG_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (members[i] == NULL || members[i]->org != s->org)
            return ENG_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (members[j] == members[i])
                return ENG_EINVAL;
    }
    eng_group_t *g = &s->groups[s->group_count++];
    g->mode = mode;
    g->count = count;
    g->members = slotd_malloc(count * sizeof(*g->members));
    memcpy(g->members, members, count * sizeof(*g->members));
    return ENG_OK;
}

void eng_service_clear_groups(eng_service_t *service)
{
    for (size_t i = 0; i < service->group_count; i++)
        free(service->groups[i].members);
    service->group_count = 0;
}
