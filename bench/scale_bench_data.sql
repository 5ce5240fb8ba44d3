-- The data of bench/scale_bench.sh: `orgs` organizations shaped like the clinic
-- of bench/http_bench.sh, written in set-based SQL.
--
-- psql variables: orgs, resources (per organization), intervals (per resource),
-- first_day (the first day with busy time, a date).
--
-- Every organization: Europe/Warsaw, `resources` staff working Monday to
-- Saturday 08:00-13:00 and 13:30-18:00, one customer, one 30-minute service
-- (15-minute step, 10-minute after-buffer) that needs any one of its first 10
-- staff, and an agent API key whose secret derives from the organization's id
-- (sk_<id>_<md5(id) and 16 more hex digits>), so the script can compute it.
-- Every staff member: `intervals` busy intervals of 45 minutes, 8 a day at
-- 08:00, 09:15, ... 16:45 local time from first_day on; one in five is a booking
-- (with its occupancy row, padded by the 10-minute after-buffer), the others
-- are blocks. Ids derive from md5 of names, so runs are alike.
--
-- Triggers are off while writing (session_replication_role): the service is not
-- running, and millions of NOTIFYs would only fill the queue.

SET session_replication_role = replica;
SET synchronous_commit = off;
BEGIN;

INSERT INTO organizations (id, name, timezone)
SELECT md5('org' || o)::uuid, format('Org %s', o), 'Europe/Warsaw'
  FROM generate_series(1, :orgs) o;

INSERT INTO api_keys (organization_id, key_hash, role)
SELECT id, sha256(convert_to('sk_' || replace(id::text, '-', '') || '_' || md5(id::text)
                             || substr(md5('x' || id::text), 1, 16), 'UTF8')), 'agent'
  FROM organizations;

INSERT INTO customers (organization_id, id, name, email)
SELECT id, md5('customer' || id::text)::uuid, 'Customer', 'customer@example.com'
  FROM organizations;

INSERT INTO resources (organization_id, id, kind, name, working_hours)
SELECT o.id, md5('res' || o.id::text || '/' || r)::uuid, 'staff', format('Staff %s', r),
       '{"mon":[["08:00","13:00"],["13:30","18:00"]],"tue":[["08:00","13:00"],["13:30","18:00"]],'
       '"wed":[["08:00","13:00"],["13:30","18:00"]],"thu":[["08:00","13:00"],["13:30","18:00"]],'
       '"fri":[["08:00","13:00"],["13:30","18:00"]],"sat":[["08:00","13:00"],["13:30","18:00"]]}'
  FROM organizations o CROSS JOIN generate_series(1, :resources) r;

INSERT INTO services (organization_id, id, name, duration_minutes, slot_interval_minutes,
                      buffer_after_minutes)
SELECT id, md5('svc' || id::text)::uuid, 'Consultation', 30, 15, 10 FROM organizations;

INSERT INTO service_requirements (organization_id, service_id, position, mode, resource_ids)
SELECT o.id, md5('svc' || o.id::text)::uuid, 0, 'any',
       (SELECT array_agg(md5('res' || o.id::text || '/' || r)::uuid)
          FROM generate_series(1, least(10, :resources)) r)
  FROM organizations o;

CREATE TEMP TABLE busy ON COMMIT DROP AS
SELECT r.organization_id, r.id AS resource_id, i,
       ((date :'first_day' + i / 8)::timestamp + time '08:00' + (i % 8) * interval '75 minutes')
           AT TIME ZONE 'Europe/Warsaw' AS starts_at
  FROM resources r CROSS JOIN generate_series(0, :intervals - 1) i;

INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at, reason)
SELECT organization_id, resource_id, starts_at, starts_at + interval '45 minutes', 'busy'
  FROM busy WHERE i % 5 <> 0;

INSERT INTO bookings (organization_id, id, service_id, customer_id, starts_at, ends_at)
SELECT organization_id, md5(resource_id::text || '/' || i)::uuid,
       md5('svc' || organization_id::text)::uuid, md5('customer' || organization_id::text)::uuid,
       starts_at, starts_at + interval '45 minutes'
  FROM busy WHERE i % 5 = 0;

-- with the booking's own times and creation, as the service writes them (the trigger
-- that fills them for other writers is off here)
INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, starts_at, ends_at,
                       booking_created_at)
SELECT organization_id, resource_id, md5(resource_id::text || '/' || i)::uuid,
       tstzrange(starts_at, starts_at + interval '55 minutes'), starts_at,
       starts_at + interval '45 minutes', now()
  FROM busy WHERE i % 5 = 0;

COMMIT;
VACUUM (ANALYZE);
