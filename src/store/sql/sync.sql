-- Calendar sync: claiming due connections for a pull, and writing what a pull
-- found. Every statement but the claim names the organization ($1). Instants
-- travel as epoch seconds; the clock is a parameter.

-- name: sync_claim
-- Takes up to $2 connections to pull by the clock $1, holding them for $3
-- seconds: due ones ($6 true), or any matching the filters (the command
-- line's one pass); $4 a connection, $5 an organization (NULL: any); at most
-- $8 of Google's, $9 of Microsoft's, $10 of Cal.com's and $11 of ICS feeds. Answers each with
-- its sealed credentials and access token, the provider's state, the
-- resource's zone, and whether this pull must be a full listing (asked for, no
-- state yet, or the organization's nightly hour $7 has passed since the last
-- full one).
WITH candidates AS (
    SELECT c.organization_id, c.id,
           row_number() OVER (PARTITION BY c.provider ORDER BY c.next_sync_at) AS n,
           CASE c.provider WHEN 'google' THEN $8::int WHEN 'microsoft' THEN $9::int
                           WHEN 'calcom' THEN $10::int WHEN 'ics' THEN $11::int ELSE 0 END
               AS room
      FROM calendar_connections c
     WHERE c.deleted_at IS NULL AND c.status = 'active' AND c.direction <> 'push'
       AND (NOT $6::bool OR c.next_sync_at <= to_timestamp($1::bigint))
       AND (c.sync_claimed_until IS NULL OR c.sync_claimed_until <= to_timestamp($1::bigint))
       AND ($4::uuid IS NULL OR c.id = $4::uuid)
       AND ($5::uuid IS NULL OR c.organization_id = $5::uuid)),
due AS (
    SELECT c.organization_id, c.id
      FROM calendar_connections c
      JOIN candidates k ON k.organization_id = c.organization_id AND k.id = c.id AND k.n <= k.room
     WHERE c.deleted_at IS NULL AND c.status = 'active'
       AND (c.sync_claimed_until IS NULL OR c.sync_claimed_until <= to_timestamp($1::bigint))
     ORDER BY c.next_sync_at
     LIMIT $2::int
       FOR UPDATE OF c SKIP LOCKED)
UPDATE calendar_connections c
   SET sync_claimed_until = to_timestamp($1::bigint + $3::int),
       sync_claimed_at = to_timestamp($1::bigint)
  FROM due, resources r
  JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
 WHERE c.organization_id = due.organization_id AND c.id = due.id
   AND r.organization_id = c.organization_id AND r.id = c.resource_id
RETURNING c.organization_id, c.id, c.resource_id, c.provider, c.calendar_id, c.credentials,
          c.sync_token, c.access_token, extract(epoch FROM c.access_expires_at)::bigint,
          coalesce(r.timezone, l.timezone, o.timezone),
          c.sync_token IS NULL OR c.sync_full_requested OR c.last_full_sync_at IS NULL
              OR c.last_full_sync_at < ((date_trunc('day', to_timestamp($1::bigint) AT TIME ZONE o.timezone
                                           - make_interval(hours => $7::int))
                                         + make_interval(hours => $7::int)) AT TIME ZONE o.timezone),
          c.sync_failures, extract(epoch FROM c.watch_expires_at)::bigint

-- name: sync_events_clear
-- A full listing replaces the connection's ($2) events: the old ones go first.
DELETE FROM external_busy_events WHERE organization_id = $1 AND connection_id = $2

-- name: sync_events_upsert
-- The busy events a pull found ($3: a JSON list of {"id","start","end","all_day","summary"},
-- and for an ICS series also "rrule", "start_local" (epoch seconds of its wall time),
-- "timezone", "vtimezone", "duration", "nominal", "exdates" (wall epoch seconds); the last
-- of one id wins), for the connection $2 while it is live.
INSERT INTO external_busy_events (organization_id, connection_id, resource_id, external_id,
                                  starts_at, ends_at, all_day, busy, summary, rrule, start_local,
                                  timezone, vtimezone, duration_seconds, nominal, exdates)
SELECT DISTINCT ON (e.id) $1::uuid, $2::uuid, c.resource_id, e.id, to_timestamp(e.start),
       to_timestamp(e."end"), e.all_day, true, e.summary, e.rrule,
       to_timestamp(e.start_local) AT TIME ZONE 'UTC', e.timezone, e.vtimezone, e.duration,
       coalesce(e.nominal, false),
       CASE WHEN e.rrule IS NOT NULL
            THEN ARRAY(SELECT to_timestamp(x::bigint) AT TIME ZONE 'UTC'
                         FROM jsonb_array_elements_text(coalesce(e.exdates, '[]')) x) END
  FROM calendar_connections c,
       ROWS FROM (jsonb_to_recordset($3::jsonb)
                  AS (id text, start bigint, "end" bigint, all_day boolean, summary text,
                      rrule text, start_local bigint, timezone text, vtimezone text,
                      duration integer, nominal boolean, exdates jsonb))
           WITH ORDINALITY AS e(id, start, "end", all_day, summary, rrule, start_local,
                                timezone, vtimezone, duration, nominal, exdates, n)
 WHERE c.organization_id = $1 AND c.id = $2 AND c.deleted_at IS NULL
 ORDER BY e.id, e.n DESC
    ON CONFLICT (organization_id, connection_id, external_id) DO UPDATE
   SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, all_day = EXCLUDED.all_day,
       busy = true, summary = EXCLUDED.summary, rrule = EXCLUDED.rrule,
       start_local = EXCLUDED.start_local, timezone = EXCLUDED.timezone,
       vtimezone = EXCLUDED.vtimezone, duration_seconds = EXCLUDED.duration_seconds,
       nominal = EXCLUDED.nominal, exdates = EXCLUDED.exdates

-- name: sync_events_delete
-- Events that are gone, no longer busy, or slotd's own ($3: a JSON list of ids).
DELETE FROM external_busy_events
 WHERE organization_id = $1 AND connection_id = $2
   AND external_id IN (SELECT jsonb_array_elements_text($3::jsonb))

-- name: sync_done
-- A pull ended ($3 now). $4 the provider's new state (NULL: keep), $5 whether it was a full
-- listing, $6/$7 the access token (sealed) and its expiry, $8 re-sealed credentials (a
-- rotated refresh token), each NULL to keep; $9 when the next pull is due; $10 the error to
-- record (NULL: none, the pull succeeded), $11 whether the credentials were refused (the
-- connection is then broken until new ones).
UPDATE calendar_connections
   SET sync_token = CASE WHEN $10::text IS NULL THEN coalesce($4::text, sync_token) ELSE sync_token END,
       last_sync_at = CASE WHEN $10::text IS NULL THEN to_timestamp($3::bigint) ELSE last_sync_at END,
       last_full_sync_at = CASE WHEN $10::text IS NULL AND $5::bool THEN to_timestamp($3::bigint)
                                ELSE last_full_sync_at END,
       sync_full_requested = sync_full_requested
           AND NOT ($10::text IS NULL AND $5::bool
                    AND (sync_requested_at IS NULL OR sync_requested_at < sync_claimed_at)),
       last_error = $10::text,
       sync_failures = CASE WHEN $10::text IS NULL THEN 0 ELSE sync_failures + 1 END,
       status = CASE WHEN $11::bool THEN 'broken' ELSE status END,
       access_token = CASE WHEN $11::bool THEN NULL ELSE coalesce($6::bytea, access_token) END,
       access_expires_at = CASE WHEN $11::bool THEN NULL
                                ELSE coalesce(to_timestamp($7::bigint), access_expires_at) END,
       credentials = coalesce($8::bytea, credentials),
       -- a pull asked for while this one ran is still due
       next_sync_at = CASE WHEN sync_requested_at >= sync_claimed_at THEN now()
                           ELSE to_timestamp($9::bigint) END,
       sync_claimed_until = NULL
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL

-- name: sync_request
-- Makes a live, active, pulling connection ($2) due now ($3 asks for a full listing), and
-- answers its status, direction and provider; one that will not be pulled is answered and
-- left as it is. No row: no such connection.
WITH c AS (
    SELECT status, direction, provider FROM calendar_connections
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL),
u AS (
    UPDATE calendar_connections
       SET next_sync_at = now(), sync_requested_at = now(),
           sync_full_requested = sync_full_requested OR $3::bool
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL AND status = 'active'
       AND direction <> 'push'
    RETURNING 1),
-- and its pending pushes are due now too, backed off or not
p AS (
    UPDATE outbox o
       SET next_attempt_at = now()
      FROM c
     WHERE o.organization_id = $1 AND o.connection_id = $2 AND o.done_at IS NULL
       AND o.next_attempt_at > now() AND c.status = 'active'
    RETURNING 1)
SELECT status, direction, provider, EXISTS (SELECT 1 FROM u) FROM c

-- name: sync_lock
-- A pull's write takes its connection ($2) first: a deletion waits for it, and then deletes
-- the events it wrote (see 0014's trigger).
SELECT 1 FROM calendar_connections WHERE organization_id = $1 AND id = $2 FOR UPDATE

-- name: sync_watch_set
-- A watch channel or subscription made for the connection $2: its id $3, the SHA-256 of its
-- secret $4, Google's resourceId $5, when it expires $6 (epoch).
UPDATE calendar_connections
   SET watch_id = $3, watch_secret_hash = $4::bytea, watch_resource_id = $5,
       watch_expires_at = to_timestamp($6::bigint)
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL

-- name: webhook_watch
-- The live, active connection a notification's channel or subscription ($1) belongs to,
-- with its provider and the hash its secret must have. No organization: a provider's
-- notification carries none; the secret proves it.
SELECT organization_id, id, provider, watch_secret_hash
  FROM calendar_connections
 WHERE watch_id = $1 AND deleted_at IS NULL AND status = 'active'

-- name: webhook_connection
-- A live, active connection by its id alone ($1, from a Cal.com webhook's URL), with its
-- sealed credentials (which hold the webhook's secret).
SELECT organization_id, id, provider, credentials
  FROM calendar_connections
 WHERE id = $1 AND deleted_at IS NULL AND status = 'active'

-- name: push_claim
-- Takes up to $2 outbox rows due by the clock $1 for $3 seconds, the earliest undone one of
-- each booking and connection only, and of those one per connection, none of the connections
-- $4 (a uuid[]: those this process is pushing to), at most $5 for Google, $6 for Microsoft and
-- $7 for Cal.com; only of connection $8 and organization $9 (NULL: any); $10 false: undone
-- rows whether due or not (the command line's full pass), none of the rows $11 (a bigint[]:
-- those the pass tried already); with what delivering needs: the connection (sealed credentials and access
-- token, whether it is still live and active), the booking as it is (whether it still holds
-- the connection's resource, its times, its service's and customer's names, the customer's
-- email), what the calendar has of it already, and the resource's zone.
WITH heads AS (
    SELECT o.organization_id, o.id, o.connection_id
      FROM outbox o
     WHERE o.done_at IS NULL AND o.kind = 'calendar_push'
       AND (NOT $10::bool OR o.next_attempt_at <= to_timestamp($1::bigint))
       AND (o.claimed_until IS NULL OR o.claimed_until <= to_timestamp($1::bigint))
       AND o.connection_id <> ALL ($4::uuid[])
       AND ($8::uuid IS NULL OR o.connection_id = $8::uuid)
       AND ($9::uuid IS NULL OR o.organization_id = $9::uuid)
       AND o.id <> ALL ($11::bigint[])
       AND NOT EXISTS (SELECT 1 FROM outbox p
                        WHERE p.organization_id = o.organization_id
                          AND p.connection_id = o.connection_id AND p.booking_id = o.booking_id
                          AND p.done_at IS NULL AND p.id < o.id)),
firsts AS (
    SELECT DISTINCT ON (h.organization_id, h.connection_id) h.organization_id, h.id, c.provider
      FROM heads h
      JOIN calendar_connections c ON c.organization_id = h.organization_id AND c.id = h.connection_id
     ORDER BY h.organization_id, h.connection_id, h.id),
candidates AS (
    SELECT f.organization_id, f.id,
           row_number() OVER (PARTITION BY f.provider ORDER BY f.id) AS n,
           CASE f.provider WHEN 'google' THEN $5::int WHEN 'microsoft' THEN $6::int
                           WHEN 'calcom' THEN $7::int ELSE 0 END AS room
      FROM firsts f),
due AS (
    SELECT o.organization_id, o.id
      FROM outbox o
      JOIN candidates k ON k.organization_id = o.organization_id AND k.id = o.id AND k.n <= k.room
     WHERE o.done_at IS NULL
       AND (o.claimed_until IS NULL OR o.claimed_until <= to_timestamp($1::bigint))
     ORDER BY o.id
     LIMIT $2::int
       FOR UPDATE OF o SKIP LOCKED)
UPDATE outbox o
   SET claimed_until = to_timestamp($1::bigint + $3::int), attempts = o.attempts + 1
  FROM due, calendar_connections c, bookings b
  JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
  JOIN services s ON s.organization_id = b.organization_id AND s.id = b.service_id
 WHERE o.organization_id = due.organization_id AND o.id = due.id
   AND c.organization_id = o.organization_id AND c.id = o.connection_id
   AND b.organization_id = o.organization_id AND b.id = o.booking_id
RETURNING o.organization_id, o.id, o.connection_id, o.booking_id, o.attempts, c.provider,
          c.calendar_id, c.credentials, c.access_token,
          extract(epoch FROM c.access_expires_at)::bigint, c.calcom_event_type_id,
          c.deleted_at IS NULL AND c.status = 'active' AND c.direction <> 'pull',
          EXISTS (SELECT 1 FROM occupancy x
                   WHERE x.organization_id = b.organization_id AND x.booking_id = b.id
                     AND x.resource_id = c.resource_id AND x.active),
          extract(epoch FROM b.starts_at)::bigint, extract(epoch FROM b.ends_at)::bigint,
          s.name, u.name, u.email,
          (SELECT e.external_id FROM booking_external_events e
            WHERE e.organization_id = o.organization_id AND e.booking_id = o.booking_id
              AND e.connection_id = o.connection_id),
          (SELECT extract(epoch FROM e.starts_at)::bigint FROM booking_external_events e
            WHERE e.organization_id = o.organization_id AND e.booking_id = o.booking_id
              AND e.connection_id = o.connection_id),
          (SELECT coalesce(r.timezone, l.timezone, g.timezone)
             FROM resources r
             JOIN organizations g ON g.id = r.organization_id
             LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
            WHERE r.organization_id = c.organization_id AND r.id = c.resource_id)

-- name: push_mapping_set
-- The calendar now has booking $2 for connection $3 ($4 the provider) as event $5, at $6.
INSERT INTO booking_external_events (organization_id, booking_id, connection_id, provider,
                                     external_id, starts_at)
VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint))
    ON CONFLICT (organization_id, booking_id, connection_id) DO UPDATE
   SET provider = EXCLUDED.provider, external_id = EXCLUDED.external_id,
       starts_at = EXCLUDED.starts_at

-- name: push_mapping_clear
-- The calendar no longer has booking $2 for connection $3.
DELETE FROM booking_external_events
 WHERE organization_id = $1 AND booking_id = $2 AND connection_id = $3

-- name: push_outbox_done
-- Outbox row $2 is delivered ($3 now).
UPDATE outbox SET done_at = to_timestamp($3::bigint), claimed_until = NULL, last_error = NULL
 WHERE organization_id = $1 AND id = $2

-- name: push_outbox_retry
-- Outbox row $2 failed ($3 why): tried again at $4 (epoch).
UPDATE outbox SET last_error = $3, next_attempt_at = to_timestamp($4::bigint), claimed_until = NULL
 WHERE organization_id = $1 AND id = $2

-- name: push_broken
-- A push found connection $2's credentials refused ($3 the error): broken until new ones, as a
-- pull's refusal leaves it; its pushes wait for them.
UPDATE calendar_connections
   SET status = 'broken', last_error = $3::text, access_token = NULL, access_expires_at = NULL
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL AND status = 'active'

-- name: push_tokens
-- A push refreshed connection $2's tokens: $3 the access token (sealed) and $4 its expiry,
-- $5 re-sealed credentials (a rotated refresh token), each NULL to keep.
UPDATE calendar_connections
   SET access_token = coalesce($3::bytea, access_token),
       access_expires_at = coalesce(to_timestamp($4::bigint), access_expires_at),
       credentials = coalesce($5::bytea, credentials)
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
