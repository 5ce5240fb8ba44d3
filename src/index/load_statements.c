/*
 * The statements the index loads with, prepared on its own connections.
 *
 * Each one names organization_id in its WHERE clause: $1 one organization, or
 * NULL for all. A rebuild reads in pages in key order (keyset pagination: the
 * rows after the last key of the previous page, at most `limit` of them), so
 * no result is ever the whole dataset and the loop applies one page at a time.
 * No statement converts a timestamp in a way that fails on `infinity`: the
 * loader recognizes a value that is not finite and skips that entry, so one row
 * holding it can never fail a query that loads every other row with it.
 *
 * A resource's busy time and one-off blocks, the bulk of any load, come as
 * arrays, one per field and in the same order (occupancy: padded start, padded
 * end, start, end, its booking's creation or its hold's expiry, whether a
 * booking, id; blocks and busy events of external calendars: start, end, id),
 * in the binary format the index asks idx_resources' results in: timestamps as
 * PostgreSQL's integers and ids as their 16 bytes, so neither side formats or
 * parses text for them. Occupancy carries its booking's or hold's own times and
 * the booking's creation (migration 0008), so busy time is read from that one
 * table, through its covering index, with no lookup of a booking or hold per
 * interval (which, however planned, cost about two thirds of PostgreSQL's time
 * per page).
 * A page's keys are chosen first, in a subquery, so the per-resource subqueries
 * run for that page only, whatever plan the key range gets.
 */
#include "index/load_statements.h"

const store_statement_t idx_load_statements[] = {
    /* $1 organization or NULL, $2 after this id, $3 limit */
    {"idx_orgs",
     "SELECT id, timezone, business_hours::text, to_json(closures)::text FROM organizations "
     "WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1) AND id > $2::uuid "
     "ORDER BY id LIMIT $3"},
    /* $1 organization or NULL, $2 $3 after this key, $4 limit */
    {"idx_locations",
     "SELECT organization_id, id, timezone, business_hours::text, to_json(closures)::text, "
     "deleted_at IS NOT NULL FROM locations WHERE ($1::uuid IS NULL OR organization_id = $1) "
     "AND (organization_id, id) > ($2::uuid, $3::uuid) ORDER BY organization_id, id LIMIT $4"},
    /* $1 organization or NULL, $2 one resource or NULL, $3 the clock or NULL (now),
     * $4 $5 after this key, $6 limit, $7 organization ids below this or NULL */
    {"idx_resources",
     "SELECT r.organization_id, r.id, r.location_id, coalesce(r.timezone, l.timezone, o.timezone), "
     "r.working_hours::text, r.active, r.deleted_at IS NOT NULL, "
     "(SELECT coalesce(json_agg(json_build_array(v.day::text, v.hours)), '[]') "
     "   FROM resource_overrides v "
     "  WHERE v.organization_id = r.organization_id AND v.resource_id = r.id)::text, "
     "(SELECT coalesce(json_agg(q.v), '[]') FROM ("
     " SELECT json_build_array("
     "   NULL, NULL, b.rrule, to_char(b.start_local, 'YYYY-MM-DD\"T\"HH24:MI:SS'), "
     "   b.duration_minutes, "
     "   (SELECT coalesce(json_agg(to_char(x, 'YYYY-MM-DD\"T\"HH24:MI:SS')), '[]') "
     "      FROM unnest(b.exdates) x), b.id) AS v "
     "   FROM blocks b WHERE b.organization_id = r.organization_id AND b.resource_id = r.id "
     "    AND b.deleted_at IS NULL AND b.rrule IS NOT NULL "
     " ) q)::text, "
     "busy.lower, busy.upper, busy.starts, busy.ends, busy.stamps, busy.bookings, busy.ids, "
     "one_off.starts, one_off.ends, one_off.ids, external.starts, external.ends, external.ids, "
     "series.rrules, series.zones, series.starts, series.durations, series.nominals, "
     "series.definitions, series.exdates, series.ids "
     "FROM (SELECT p.organization_id, p.id FROM resources p "
     "       JOIN organizations po ON po.id = p.organization_id AND po.deleted_at IS NULL "
     "       WHERE ($1::uuid IS NULL OR p.organization_id = $1) AND ($2::uuid IS NULL OR p.id = "
     "$2) "
     "         AND (p.organization_id, p.id) > ($4::uuid, $5::uuid) "
     "         AND ($7::uuid IS NULL OR p.organization_id < $7) "
     "       ORDER BY p.organization_id, p.id LIMIT $6) page "
     "JOIN resources r ON r.organization_id = page.organization_id AND r.id = page.id "
     "JOIN organizations o ON o.id = r.organization_id "
     "LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id "
     "LEFT JOIN LATERAL (SELECT array_agg(lower(c.occupied)) AS lower, "
     "   array_agg(upper(c.occupied)) AS upper, "
     "   array_agg(c.starts_at) AS starts, array_agg(c.ends_at) AS ends, "
     "   array_agg(coalesce(c.booking_created_at, c.expires_at)) AS stamps, "
     "   array_agg(c.booking_id IS NOT NULL) AS bookings, array_agg(c.id) AS ids "
     "   FROM occupancy c "
     "  WHERE c.organization_id = r.organization_id AND c.resource_id = r.id AND c.active "
     "    AND (upper_inf(c.occupied) "
     "         OR upper(c.occupied) > coalesce($3::timestamptz, now()) - interval '1 day') "
     "    AND (c.hold_id IS NULL OR c.expires_at > coalesce($3::timestamptz, now()))) busy "
     "  ON true "
     "LEFT JOIN LATERAL (SELECT array_agg(b.starts_at) AS starts, array_agg(b.ends_at) AS ends, "
     "   array_agg(b.id) AS ids "
     "   FROM blocks b WHERE b.organization_id = r.organization_id AND b.resource_id = r.id "
     "    AND b.deleted_at IS NULL AND b.rrule IS NULL) one_off ON true "
     "LEFT JOIN LATERAL (SELECT array_agg(e.starts_at) AS starts, array_agg(e.ends_at) AS ends, "
     "   array_agg(e.id) AS ids "
     "   FROM external_busy_events e "
     "  WHERE e.organization_id = r.organization_id AND e.resource_id = r.id AND e.busy "
     "    AND e.rrule IS NULL "
     "    AND EXISTS (SELECT 1 FROM calendar_connections k WHERE k.organization_id = "
     "e.organization_id AND k.id = e.connection_id AND k.deleted_at IS NULL AND k.status <> "
     "'paused' AND k.direction <> 'push') "
     "    AND e.ends_at > coalesce($3::timestamptz, now()) - interval '1 day') external ON true "
     "LEFT JOIN LATERAL (SELECT array_agg(e.rrule) AS rrules, array_agg(e.timezone) AS zones, "
     "   array_agg(floor(extract(epoch FROM e.start_local))::bigint) AS starts, "
     "   array_agg(e.duration_seconds) AS durations, array_agg(e.nominal) AS nominals, "
     "   array_agg(e.vtimezone) AS definitions, "
     "   array_agg(array_to_string(ARRAY(SELECT floor(extract(epoch FROM x))::bigint "
     "                                     FROM unnest(e.exdates) x), ',')) AS exdates, "
     "   array_agg(e.id) AS ids "
     "   FROM external_busy_events e "
     "  WHERE e.organization_id = r.organization_id AND e.resource_id = r.id AND e.busy "
     "    AND e.rrule IS NOT NULL "
     "    AND EXISTS (SELECT 1 FROM calendar_connections k WHERE k.organization_id = "
     "e.organization_id AND k.id = e.connection_id AND k.deleted_at IS NULL AND k.status <> "
     "'paused' AND k.direction <> 'push')) series ON true "
     "ORDER BY r.organization_id, r.id"},
    /* $1 organization or NULL, $2 one service or NULL, $3 $4 after this key, $5 limit */
    {"idx_services",
     "SELECT s.organization_id, s.id, s.duration_minutes, s.slot_interval_minutes, "
     "s.buffer_before_minutes, s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, "
     "s.active, s.deleted_at IS NOT NULL, "
     "(SELECT coalesce(json_agg(json_build_array(q.mode, q.resource_ids) ORDER BY q.position), "
     "'[]') "
     "   FROM service_requirements q "
     "  WHERE q.organization_id = s.organization_id AND q.service_id = s.id)::text "
     "FROM services s JOIN organizations o ON o.id = s.organization_id "
     "WHERE o.deleted_at IS NULL AND ($1::uuid IS NULL OR s.organization_id = $1) "
     "AND ($2::uuid IS NULL OR s.id = $2) AND (s.organization_id, s.id) > ($3::uuid, $4::uuid) "
     "ORDER BY s.organization_id, s.id LIMIT $5"},
};

const size_t idx_load_statement_count =
    sizeof(idx_load_statements) / sizeof(idx_load_statements[0]);
