-- pgbench script of bench/booking_bench.sh (run with -M prepared and
-- -D org=... -D service=... -D resources={id,id,...} -D keys=1|0): the rows of one
-- booking as plain SQL, what PostgreSQL itself does for a booking when nobody
-- decides anything. One transaction writes what slotd_book writes for a new
-- booking of a new customer: the customer, the booking, its occupancy row
-- (under the exclusion constraint, with the schema's triggers: the row of
-- the log of changes, with no wake from the transaction, as for slotd's own
-- sessions (the script sets slotd.wakes), the calendar outbox, the webhook
-- trigger at commit), the audit
-- row and (keys=1) the idempotency key with an answer of the usual size. No key
-- lookup, no hold, no locks, no alternatives, no rendering of the answer.
-- Each transaction takes the next number of a sequence, so that no two of
-- them ask for the same resource at the same time: a 15-minute booking on
-- resource n mod R, on the n / R-th quarter hour after 2030-01-01.
SELECT nextval('booking_bench_rows_n') AS n \gset
BEGIN;
WITH c AS (
    INSERT INTO customers (organization_id, name, phone, phone_normalized)
    VALUES (:org::uuid, 'Rows ' || :n::bigint, '+49 7' || lpad(:n::bigint::text, 8, '0'),
            '+497' || lpad(:n::bigint::text, 8, '0'))
    RETURNING id),
b AS (
    INSERT INTO bookings (organization_id, service_id, customer_id, starts_at, ends_at, status,
                          source)
    SELECT :org::uuid, :service::uuid, c.id,
           timestamptz '2030-01-01 00:00Z'
               + (:n::bigint / cardinality(:resources::uuid[])) * interval '15 min',
           timestamptz '2030-01-01 00:15Z'
               + (:n::bigint / cardinality(:resources::uuid[])) * interval '15 min',
           'confirmed', 'api'
      FROM c
    RETURNING id, starts_at, ends_at, created_at),
r AS (
    SELECT (:resources::uuid[])[:n::bigint % cardinality(:resources::uuid[]) + 1] AS id),
o AS (
    INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, starts_at, ends_at,
                           booking_created_at)
    SELECT :org::uuid, r.id, b.id, tstzrange(b.starts_at, b.ends_at), b.starts_at, b.ends_at,
           b.created_at
      FROM b, r
    RETURNING 1),
a AS (
    INSERT INTO booking_audit (organization_id, booking_id, actor, action, new_value)
    SELECT :org::uuid, b.id, 'api', 'create',
           jsonb_build_object('start', b.starts_at, 'end', b.ends_at,
                              'resource_ids', to_jsonb(ARRAY[r.id]), 'status', 'confirmed',
                              'notes', NULL::text)
      FROM b, r)
INSERT INTO idempotency_keys (organization_id, key, request_hash, status_code, response,
                              completed_at)
SELECT :org::uuid, 'rows-' || :n::bigint, sha256(b.id::text::bytea), 201, repeat('x', 600), now()
  FROM b
 WHERE :keys::integer = 1;
COMMIT;
