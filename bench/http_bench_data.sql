-- The bookings of bench/http_bench.sh's clinic, written directly (there is no
-- booking API yet): the shape of bench/engine_bench.c's organization, with a
-- placement of its own that never overlaps one staff member's bookings (which
-- the occupancy table would refuse).
--
-- psql variables: org (the organization), booking_service (the 45-minute
-- service the bookings are for; its buffers pad the occupancy rows).
--
-- Every staff member of the organization has 8 bookings of 45 minutes on every
-- day of 2026 but Sundays: 4 in the morning range (08:00-13:00) and 4 in the
-- afternoon range (13:30-18:00), on the 15-minute grid, in local time of the
-- organization's zone. Within a range the k-th booking (k = 0..3) starts
-- 4k + e_k quarter hours after the range opens, where e_0 <= ... <= e_3 are
-- four pseudo-random draws from 0..slack, sorted (slack: 5 in the morning, 3 in
-- the afternoon, so the last booking ends by the range's close). Consecutive
-- bookings are thus at least an hour apart: 45 minutes plus the 10-minute
-- after-buffer never overlap, which the occupancy table's exclusion constraint
-- checks anyway. The draws hash (staff, day, range, k) with md5, so every run
-- places the bookings identically.
--
-- One occupancy row per booking, for its staff member, padded with the booking
-- service's buffers: [start - buffer_before, end + buffer_after).
--
-- VACUUM (ANALYZE) at the end leaves nothing for autovacuum to do during the
-- measurements, and gives the planner the tables' statistics.

BEGIN;

INSERT INTO customers (organization_id, name, email)
SELECT :'org', format('Customer %s', n), format('customer%s@example.com', n)
  FROM generate_series(1, 500) AS n;

WITH org AS (
    SELECT o.timezone AS zone FROM organizations o WHERE o.id = :'org'
), service AS (
    SELECT make_interval(mins => s.duration_minutes) AS duration,
           make_interval(mins => s.buffer_before_minutes) AS before,
           make_interval(mins => s.buffer_after_minutes) AS after
      FROM services s
     WHERE s.organization_id = :'org' AND s.id = :'booking_service'
), customer AS (
    SELECT array_agg(c.id ORDER BY c.name) AS ids
      FROM customers c
     WHERE c.organization_id = :'org'
), staff AS (
    SELECT r.id, row_number() OVER (ORDER BY r.name) AS n
      FROM resources r
     WHERE r.organization_id = :'org' AND r.kind = 'staff' AND r.deleted_at IS NULL
), day AS (
    SELECT d::date AS day
      FROM generate_series(date '2026-01-01', date '2026-12-31', interval '1 day') AS d
     WHERE extract(isodow FROM d) <> 7
), draw AS (
    SELECT s.id AS staff_id, s.n, d.day, h.opens, k,
           ('x' || substr(md5(format('%s/%s/%s/%s', s.n, d.day, h.opens, k)), 1, 7))::bit(28)::integer
               % (h.slack + 1) AS extra
      FROM staff s
     CROSS JOIN day d
     CROSS JOIN (VALUES (time '08:00', 5), (time '13:30', 3)) AS h(opens, slack)
     CROSS JOIN generate_series(0, 3) AS k
), placed AS MATERIALIZED (
    SELECT gen_random_uuid() AS booking_id, w.staff_id, w.n, w.day, w.k,
           (w.day + w.opens + make_interval(mins => 15 * (4 * (w.place::integer - 1) + w.extra)))
               AT TIME ZONE (SELECT zone FROM org) AS starts_at
      FROM (SELECT draw.*,
                   row_number() OVER (PARTITION BY staff_id, day, opens ORDER BY extra, k) AS place
              FROM draw) w
), booked AS (
    INSERT INTO bookings (organization_id, id, service_id, customer_id, starts_at, ends_at,
                          status, source, created_at)
    SELECT :'org', p.booking_id, :'booking_service',
           c.ids[1 + (p.n * 7919 + (p.day - date '2026-01-01') * 31 + p.k) % cardinality(c.ids)],
           p.starts_at, p.starts_at + s.duration, 'confirmed', 'import',
           p.starts_at - interval '7 days'
      FROM placed p, service s, customer c
)
INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, created_at)
SELECT :'org', p.staff_id, p.booking_id,
       tstzrange(p.starts_at - s.before, p.starts_at + s.duration + s.after, '[)'),
       p.starts_at - interval '7 days'
  FROM placed p, service s;

COMMIT;

VACUUM (ANALYZE) customers, bookings, occupancy;
