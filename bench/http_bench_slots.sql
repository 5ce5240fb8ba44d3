-- bench_slots: the free slots of a service, computed by PostgreSQL itself from
-- slotd's tables, the straightforward way a system without an in-memory index
-- computes them per request. It is the baseline of bench/http_bench.sh.
--
-- For every candidate start t on the service's grid in [from_time, to_time), and
-- every member of the service's requirement group, the member serves t when
--   * [t, t + duration) lies inside one of its working-hours ranges for the
--     local date of t (resources.working_hours, weekday keys "mon".."sun",
--     converted to instants at that date in the resource's zone), and
--   * [t - buffer_before, t + duration + buffer_after) meets no active
--     occupancy of the member (occupancy.occupied is already padded with the
--     booked service's buffers: this is rule 3 of docs/design.md, a busy interval
--     widened to [busy.start - S.ba, busy.end + S.bb)).
-- A start is offered when at least one member serves it; resource_ids lists
-- every member that does, sorted. Starts come no earlier than
-- now_time + max(min_notice, 1 minute).
--
-- The grid is every instant whose minute of the hour, in the organization's
-- zone, is a multiple of the alignment unit u (the largest of 60, 30, 20, 15,
-- 10, 5 that divides the step), spaced by real minutes. This equals the
-- engine's grid when the step is u itself (the benchmark's 15 minutes).
--
-- What the benchmark's organization does not use is left out on purpose:
-- several requirement groups and "all" groups, overrides, blocks, holds'
-- expiry, business hours and closures of the organization or its locations,
-- working-hours ranges that touch or cross midnight, the horizon, limit and
-- per_day.
CREATE OR REPLACE FUNCTION bench_slots(org uuid, service uuid, from_time timestamptz,
                                       to_time timestamptz, now_time timestamptz)
    RETURNS TABLE(start timestamptz, resource_ids uuid[])
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    zone text;
    duration interval;
    step interval;
    before interval;
    after interval;
    members uuid[];
    step_minutes integer;
    unit integer;
    earliest timestamptz;
    local_earliest timestamp;
    first_start timestamptz;
BEGIN
    SELECT o.timezone INTO zone FROM organizations o WHERE o.id = org AND o.deleted_at IS NULL;
    SELECT make_interval(mins => s.duration_minutes),
           coalesce(s.slot_interval_minutes, s.duration_minutes),
           make_interval(mins => s.buffer_before_minutes),
           make_interval(mins => s.buffer_after_minutes),
           greatest(from_time, now_time + make_interval(mins => greatest(s.min_notice_minutes, 1)))
      INTO duration, step_minutes, before, after, earliest
      FROM services s
     WHERE s.organization_id = org AND s.id = service AND s.active AND s.deleted_at IS NULL;
    SELECT q.resource_ids INTO members
      FROM service_requirements q
     WHERE q.organization_id = org AND q.service_id = service AND q.position = 0;
    IF zone IS NULL OR duration IS NULL OR members IS NULL THEN
        RETURN;
    END IF;
    step := make_interval(mins => step_minutes);
    unit := coalesce((SELECT u FROM unnest(ARRAY[60, 30, 20, 15, 10, 5]) u
                       WHERE step_minutes % u = 0 LIMIT 1), 1);

    -- The first start: the earliest instant rounded up to a whole minute that is
    -- a multiple of the unit in local time.
    local_earliest := date_trunc('minute', (earliest AT TIME ZONE zone) + interval '59.999999 seconds');
    local_earliest := local_earliest
        + make_interval(mins => (unit - extract(minute FROM local_earliest)::integer % unit) % unit);
    first_start := local_earliest AT TIME ZONE zone;

    RETURN QUERY
    SELECT c.t, array_agg(r.id ORDER BY r.id)
      FROM generate_series(first_start, to_time - interval '1 microsecond', step) AS c(t)
      JOIN resources r
        ON r.organization_id = org AND r.id = ANY (members)
       AND r.active AND r.deleted_at IS NULL
      CROSS JOIN LATERAL (SELECT coalesce(r.timezone, zone) AS zone,
                                 (c.t AT TIME ZONE coalesce(r.timezone, zone))::date AS day) l
     WHERE EXISTS (
               SELECT 1
                 FROM jsonb_array_elements(r.working_hours ->
                          (ARRAY['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])
                              [extract(dow FROM l.day)::integer + 1]) h
                WHERE (l.day + (h ->> 0)::time) AT TIME ZONE l.zone <= c.t
                  AND c.t + duration <= (l.day + (h ->> 1)::time) AT TIME ZONE l.zone)
       AND NOT EXISTS (
               SELECT 1
                 FROM occupancy b
                WHERE b.organization_id = org AND b.resource_id = r.id AND b.active
                  AND (b.hold_id IS NULL OR b.expires_at > now_time)
                  AND b.occupied && tstzrange(c.t - before, c.t + duration + after))
     GROUP BY c.t
     ORDER BY c.t;
END
$$;
