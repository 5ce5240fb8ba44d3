-- Bookings, holds, their customers and idempotency keys. Every statement names
-- the organization ($1): it can never reach another organization's rows.
-- Instants travel as epoch seconds. The clock ("now") is a parameter wherever a
-- hold's expiry is judged, so that the database and the in-memory index judge
-- it by the same clock.

-- name: booking_create
-- A new booking in one statement (slotd_book, migrations 0010 and 0026): the
-- key, the hold, the locks, the expired holds in the way, the customer, the
-- booking, its occupancy and audit row, the answer kept under the key. $2 the key
-- (NULL: none), $3 the request's hash, $4 now, $5 whether the rules accepted
-- it (false: only a kept answer is looked up), $6 the hold (NULL: none), $7
-- service, [$8, $9) the time ($9 NULL from a hold: the hold's end), $10 and
-- $11 the service's buffers in seconds, $12 the resources (uuid[] literal;
-- from a hold: the pinned ones), $13 name, $14 phone as given, $15 phone
-- normalized, $16 email, $17 status, $18 notes, $19 source, $20
-- external_ref, $21 actor, $22 the answer's zone (NULL: the organization's).
-- Answers the outcome, the answer's status and text, the booking's id, its
-- resources (comma-separated, sorted) and the transaction's id when it wrote
-- (NULL when not: the occupancy notifications carry it, migration 0023).
SELECT outcome, answer_status, answer, booking, resources,
       pg_current_xact_id_if_assigned()::text
  FROM slotd_book($1::uuid, $2::text, $3::bytea, $4::bigint, $5::boolean, $6::uuid, $7::uuid,
                  $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::uuid[], $13::text,
                  $14::text, $15::text, $16::text, $17::text, $18::text, $19::text, $20::text,
                  $21::text, $22::text)

-- name: idempotency_remember
-- Keeps a refusal (a 409 the booking's transaction ended with, having
-- written nothing) under its key: $3 the request's hash, $4 the status, $5 the
-- answer. Nothing is kept while another request with the key runs (its own
-- answer will be), nor over an answer of the last 24 hours; an older row of the
-- key is replaced.
INSERT INTO idempotency_keys (organization_id, key, request_hash, status_code, response,
                              completed_at)
SELECT $1::uuid, $2::text, $3::bytea, $4::int, $5::text, now()
 WHERE pg_try_advisory_xact_lock(hashtextextended($1::uuid::text || ':idempotency:' || $2, 0))
    ON CONFLICT (organization_id, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
       response = EXCLUDED.response, created_at = now(), completed_at = now()
 WHERE idempotency_keys.created_at <= now() - interval '24 hours'

-- name: occupancy_clear_expired
-- Deletes the expired holds' occupancy that lies in the way of a new one:
-- resources $2 (uuid[] literal), padded range [$3, $4), now $5.
DELETE FROM occupancy
 WHERE organization_id = $1 AND resource_id = ANY ($2::uuid[]) AND hold_id IS NOT NULL
   AND active AND expires_at <= to_timestamp($5::bigint)
   AND occupied && tstzrange(to_timestamp($3::bigint), to_timestamp($4::bigint))

-- name: booking_locks
-- The locks a hold or a reschedule takes before it writes: each resource it
-- writes ($2, uuid[] literal), in id order, as a booking takes them after its
-- customer's (slotd_take_locks, migration 0010).
SELECT slotd_take_locks($1::uuid, NULL, $2::uuid[])

-- name: booking_select
-- Bookings as the typed store reads them: id, status, service, start, end
-- (epoch), its resources (comma-separated, sorted), the customer's id, name,
-- phone and email, notes, source, external_ref, created and updated (epoch),
-- the organization's zone, and the events it is in connected calendars (a JSON
-- array of {connection_id, provider, external_id}, sorted by connection). One booking ($2), or those whose time overlaps
-- [$3, $4) (epoch, either NULL: unbounded) holding resource $5, in status $6,
-- of the customer with normalized phone $7, of service $8, of customer $9,
-- after the cursor ($10 start, $11 id), sorted by start and id, at most $12.
SELECT b.id, b.status, b.service_id, extract(epoch FROM b.starts_at)::bigint,
       extract(epoch FROM b.ends_at)::bigint,
       coalesce((SELECT string_agg(c.resource_id::text, ',' ORDER BY c.resource_id)
                   FROM occupancy c
                  WHERE c.organization_id = b.organization_id AND c.booking_id = b.id), ''),
       u.id, u.name, u.phone, u.email, b.notes, b.source, b.external_ref,
       extract(epoch FROM b.created_at)::bigint, extract(epoch FROM b.updated_at)::bigint,
       o.timezone,
       coalesce((SELECT json_agg(json_build_object('connection_id', e.connection_id,
                                                   'provider', e.provider,
                                                   'external_id', e.external_id)
                                 ORDER BY e.connection_id)
                   FROM booking_external_events e
                  WHERE e.organization_id = b.organization_id AND e.booking_id = b.id),
                '[]')::text
  FROM bookings b
  JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
  JOIN organizations o ON o.id = b.organization_id
 WHERE b.organization_id = $1
   AND ($2::uuid IS NULL OR b.id = $2)
   AND ($3::bigint IS NULL OR b.ends_at > to_timestamp($3::bigint))
   AND ($4::bigint IS NULL OR b.starts_at < to_timestamp($4::bigint))
   AND ($5::uuid IS NULL OR EXISTS (
            SELECT 1 FROM occupancy c
             WHERE c.organization_id = b.organization_id AND c.booking_id = b.id
               AND c.resource_id = $5))
   AND ($6::text IS NULL OR b.status = $6)
   AND ($7::text IS NULL OR u.phone_normalized = $7)
   AND ($8::uuid IS NULL OR b.service_id = $8)
   AND ($9::uuid IS NULL OR b.customer_id = $9)
   AND ($10::bigint IS NULL OR (b.starts_at, b.id) > (to_timestamp($10::bigint), $11::uuid))
 ORDER BY b.starts_at, b.id
 LIMIT $12

-- name: customer_select
-- Customers: id, name, phone, email, created and updated (epoch), the
-- organization's zone. One ($2), or those with normalized phone $3 and
-- email $4, compared lower-cased (either NULL: any), after id $5, by id, at most $6.
SELECT u.id, u.name, u.phone, u.email, extract(epoch FROM u.created_at)::bigint,
       extract(epoch FROM u.updated_at)::bigint, o.timezone
  FROM customers u JOIN organizations o ON o.id = u.organization_id
 WHERE u.organization_id = $1
   AND ($2::uuid IS NULL OR u.id = $2)
   AND ($3::text IS NULL OR u.phone_normalized = $3)
   AND ($4::text IS NULL OR lower(u.email) = lower($4))
   AND ($5::uuid IS NULL OR u.id > $5)
 ORDER BY u.id
 LIMIT $6

-- name: booking_history
-- A booking's audit rows, oldest first, after row $3, at most $4: id, at
-- (epoch), actor (JSON text), action, old and new (JSON text). The first
-- column of every row, and of a single row of NULLs when there are none, says
-- whether the booking ($2) exists.
SELECT k.id IS NOT NULL, h.id, extract(epoch FROM h.at)::bigint, h.actor, h.action,
       h.old_value::text, h.new_value::text, o.timezone
  FROM (SELECT 1) one
  JOIN organizations o ON o.id = $1
  LEFT JOIN bookings k ON k.organization_id = $1 AND k.id = $2
  LEFT JOIN LATERAL (
        SELECT * FROM booking_audit a
         WHERE a.organization_id = $1 AND a.booking_id = $2
           AND ($3::bigint IS NULL OR a.id > $3::bigint)
         ORDER BY a.id
         LIMIT $4) h ON k.id IS NOT NULL
 ORDER BY h.id

-- name: booking_cancel
-- Cancels a booking that is not cancelled yet ($3 reason, $4 actor): its
-- occupancy stops holding anything at once; one audit row. Answers whether
-- the booking exists, and true (a cancellation is always allowed), and the
-- transaction's id when it changed occupancy (else NULL).
-- Cancelling a cancelled booking changes nothing.
WITH old AS (
    SELECT id, status FROM bookings WHERE organization_id = $1 AND id = $2 FOR UPDATE),
b AS (
    UPDATE bookings x SET status = 'cancelled', cancel_reason = $3
      FROM old
     WHERE x.organization_id = $1 AND x.id = old.id AND old.status <> 'cancelled'
    RETURNING x.id),
o AS (
    UPDATE occupancy SET active = false
     WHERE organization_id = $1 AND booking_id IN (SELECT id FROM b) AND active
    RETURNING 1),
a AS (
    INSERT INTO booking_audit (organization_id, booking_id, actor, action, old_value, new_value)
    SELECT $1, old.id, $4, 'cancel', jsonb_build_object('status', old.status),
           jsonb_build_object('status', 'cancelled')
      FROM old JOIN b ON b.id = old.id
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM old), true, (SELECT count(*) FROM o), (SELECT count(*) FROM a),
       CASE WHEN EXISTS (SELECT 1 FROM o) THEN pg_current_xact_id_if_assigned()::text END

-- name: hold_insert
-- A hold of service $2 for [$3, $4) until $5 on resources $6 (uuid[] literal),
-- holding the padded range [$7, $8) (its occupancy carries [$3, $4) too). An
-- overlap is SQLSTATE 23P01. Answers its id, the count of its occupancy rows and
-- the transaction's id.
WITH h AS (
    INSERT INTO holds (organization_id, service_id, starts_at, ends_at, expires_at)
    VALUES ($1, $2, to_timestamp($3::bigint), to_timestamp($4::bigint),
            to_timestamp($5::bigint))
    RETURNING id, organization_id, starts_at, ends_at, expires_at),
o AS (
    INSERT INTO occupancy (organization_id, resource_id, hold_id, occupied, starts_at, ends_at,
                           expires_at)
    SELECT h.organization_id, r, h.id,
           tstzrange(to_timestamp($7::bigint), to_timestamp($8::bigint)), h.starts_at,
           h.ends_at, h.expires_at
      FROM h, unnest($6::uuid[]) r
    RETURNING 1)
SELECT h.id, (SELECT count(*) FROM o), pg_current_xact_id_if_assigned()::text FROM h

-- name: hold_release
-- Releases a hold ($2) at $3, expired or not: its occupancy is deleted.
-- Answers whether it exists, the resources it held (comma-separated) and the
-- transaction's id when it deleted occupancy (else NULL).
WITH h AS (
    SELECT id FROM holds WHERE organization_id = $1 AND id = $2),
u AS (
    UPDATE holds SET released_at = to_timestamp($3::bigint)
     WHERE organization_id = $1 AND id = $2 AND released_at IS NULL
    RETURNING id),
d AS (
    DELETE FROM occupancy WHERE organization_id = $1 AND hold_id = $2
    RETURNING resource_id)
SELECT EXISTS (SELECT 1 FROM h),
       coalesce((SELECT string_agg(resource_id::text, ',') FROM d), ''),
       CASE WHEN EXISTS (SELECT 1 FROM d) THEN pg_current_xact_id_if_assigned()::text END

-- name: booking_patch
-- Changes a booking's status ($3, NULL: unchanged) and notes ($5 when $4):
-- pending→confirmed, confirmed→completed|no_show, or the current status again
-- (no change). One audit row with the fields that changed. Answers whether
-- the booking exists and whether the move is allowed.
WITH old AS (
    SELECT id, status, notes FROM bookings WHERE organization_id = $1 AND id = $2 FOR UPDATE),
ok AS (
    SELECT old.*,
           ($3::text IS NULL OR $3 = old.status
            OR (old.status = 'pending' AND $3 = 'confirmed')
            OR (old.status = 'confirmed' AND $3 IN ('completed', 'no_show'))) AS allowed,
           $3::text IS NOT NULL AND $3 <> old.status AS status_changed,
           $4::boolean AND $5::text IS DISTINCT FROM old.notes AS notes_changed
      FROM old),
b AS (
    UPDATE bookings x SET status = coalesce($3, x.status),
                          notes = CASE WHEN $4::boolean THEN $5 ELSE x.notes END
      FROM ok
     WHERE x.organization_id = $1 AND x.id = ok.id AND ok.allowed
       AND (ok.status_changed OR ok.notes_changed)
    RETURNING x.id),
a AS (
    INSERT INTO booking_audit (organization_id, booking_id, actor, action, old_value, new_value)
    SELECT $1, ok.id, $6, 'update',
           CASE WHEN ok.status_changed THEN jsonb_build_object('status', ok.status)
                ELSE '{}' END
           || CASE WHEN ok.notes_changed THEN jsonb_build_object('notes', ok.notes)
                   ELSE '{}' END,
           CASE WHEN ok.status_changed THEN jsonb_build_object('status', $3) ELSE '{}' END
           || CASE WHEN ok.notes_changed THEN jsonb_build_object('notes', $5) ELSE '{}' END
      FROM ok JOIN b ON b.id = ok.id
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM old), coalesce((SELECT allowed FROM ok), false),
       (SELECT count(*) FROM a)

-- name: booking_lock
-- A booking about to move, locked: its service, status, start, end and
-- created (epoch), and what it occupies now: "resource,occupancy id,padded
-- start,padded end" entries separated by ';'. No row: no such booking.
SELECT b.service_id, b.status, extract(epoch FROM b.starts_at)::bigint,
       extract(epoch FROM b.ends_at)::bigint, extract(epoch FROM b.created_at)::bigint,
       coalesce((SELECT string_agg(c.resource_id::text || ',' || c.id::text || ','
                                   || extract(epoch FROM lower(c.occupied))::bigint::text || ','
                                   || extract(epoch FROM upper(c.occupied))::bigint::text, ';')
                   FROM occupancy c
                  WHERE c.organization_id = b.organization_id AND c.booking_id = b.id
                    AND c.active), '')
  FROM bookings b
 WHERE b.organization_id = $1 AND b.id = $2
   FOR UPDATE OF b

-- name: booking_release
-- Deletes what a booking ($2) occupies, so that its new time may overlap its old.
DELETE FROM occupancy WHERE organization_id = $1 AND booking_id = $2

-- name: booking_move
-- Moves a booking ($2) to [$3, $4) on resources $5 (uuid[] literal), holding
-- the padded range [$6, $7) (its occupancy carries the new time and the
-- booking's creation); one audit row (actor $8) from the old time
-- [$9, $10) on resources $11. An overlap is SQLSTATE 23P01. Answers its id,
-- the counts of occupancy and audit rows and the transaction's id.
WITH b AS (
    UPDATE bookings SET starts_at = to_timestamp($3::bigint), ends_at = to_timestamp($4::bigint)
     WHERE organization_id = $1 AND id = $2
    RETURNING id, organization_id, starts_at, ends_at, created_at),
o AS (
    INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, starts_at, ends_at,
                           booking_created_at)
    SELECT b.organization_id, r, b.id,
           tstzrange(to_timestamp($6::bigint), to_timestamp($7::bigint)), b.starts_at,
           b.ends_at, b.created_at
      FROM b, unnest($5::uuid[]) r
    RETURNING 1),
a AS (
    INSERT INTO booking_audit (organization_id, booking_id, actor, action, old_value, new_value)
    SELECT b.organization_id, b.id, $8, 'reschedule',
           jsonb_build_object('start', to_timestamp($9::bigint), 'end', to_timestamp($10::bigint),
                              'resource_ids', to_jsonb($11::uuid[])),
           jsonb_build_object('start', to_timestamp($3::bigint), 'end', to_timestamp($4::bigint),
                              'resource_ids', to_jsonb($5::uuid[]))
      FROM b
    RETURNING 1)
SELECT b.id, (SELECT count(*) FROM o), (SELECT count(*) FROM a),
       pg_current_xact_id_if_assigned()::text
  FROM b

-- name: booking_sweep
-- The periodic sweep, across organizations: at most $2 expired holds'
-- occupancy rows (expired by the clock $1) and at most $2 idempotency keys
-- past their 24 hours, oldest first, and at most ten times $2 rows of the log
-- of occupancy changes past its ten minutes (slotd_sweep_changes, migration
-- 0027). Answers how many of each went.
WITH holds AS (
    SELECT organization_id, id FROM occupancy
     WHERE hold_id IS NOT NULL AND active AND expires_at <= to_timestamp($1::bigint)
     ORDER BY expires_at
     LIMIT $2),
h AS (
    DELETE FROM occupancy c USING holds
     WHERE c.organization_id = holds.organization_id AND c.id = holds.id
    RETURNING 1),
keys AS (
    SELECT organization_id, key FROM idempotency_keys
     WHERE created_at <= now() - interval '24 hours'
     ORDER BY created_at
     LIMIT $2),
k AS (
    DELETE FROM idempotency_keys i USING keys
     WHERE i.organization_id = keys.organization_id AND i.key = keys.key
    RETURNING 1)
SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM k),
       slotd_sweep_changes(interval '10 minutes', $2::integer * 10)
