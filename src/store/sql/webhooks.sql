-- Outbound webhooks: an organization's endpoints (every statement names the
-- organization, $1, and never reaches another's), their delivery log, and the
-- delivery worker's claim and record of an attempt. Endpoints and deliveries
-- are answered as the API renders them (slotd_webhook_endpoint_answer).

-- name: webhook_endpoint_insert
-- $2 the id (chosen by the service: the secret is sealed with it), $3 the URL, $4 the
-- events (text[]), $5 the description or NULL, $6 the sealed secret (bytea text). No row
-- when the organization is not a live one.
INSERT INTO webhook_endpoints (organization_id, id, url, events, description, secret)
SELECT $1, $2, $3, $4::text[], $5, $6::bytea
  FROM organizations
 WHERE id = $1 AND deleted_at IS NULL
RETURNING id, slotd_webhook_endpoint_answer(webhook_endpoints)

-- name: webhook_endpoint_list
-- $2: the cursor (the last id of the previous page) or NULL; $3: how many rows.
SELECT id, slotd_webhook_endpoint_answer(e)
  FROM webhook_endpoints e
 WHERE organization_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id > $2::uuid)
 ORDER BY id
 LIMIT $3::int

-- name: webhook_endpoint_get
SELECT id, slotd_webhook_endpoint_answer(e)
  FROM webhook_endpoints e
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL

-- name: webhook_endpoint_update
-- $3 the URL, $4 the events, $7 the status: NULL leaves each as it is; $5 whether the
-- description changes, to $6. A status given clears the reason of a disabling.
UPDATE webhook_endpoints e
   SET url = coalesce($3, e.url), events = coalesce($4::text[], e.events),
       description = CASE WHEN $5::boolean THEN $6 ELSE e.description END,
       status = coalesce($7, e.status),
       disabled_reason = CASE WHEN $7 IS NULL THEN e.disabled_reason END
 WHERE e.organization_id = $1 AND e.id = $2 AND e.deleted_at IS NULL
RETURNING e.id, slotd_webhook_endpoint_answer(e)

-- name: webhook_endpoint_delete
-- Soft: the row and its delivery log stay; its waiting messages are never sent (given up
-- now, so that no index keeps them waiting).
WITH e AS (
    UPDATE webhook_endpoints
       SET deleted_at = now()
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
    RETURNING organization_id, id),
m AS (
    UPDATE webhook_messages x
       SET failed_at = now()
      FROM e
     WHERE x.organization_id = e.organization_id AND x.endpoint_id = e.id
       AND x.done_at IS NULL AND x.failed_at IS NULL)
SELECT id FROM e

-- name: webhook_deliveries
-- The endpoint's attempts, newest first: $3 the cursor (the last id of the previous page)
-- or NULL, $4 how many rows. No row at all when the endpoint is not a live one; one row of
-- NULLs when it has no attempts (after the cursor).
SELECT d.id, d.answer
  FROM webhook_endpoints e
  LEFT JOIN LATERAL (
      SELECT x.id, json_build_object(
                 'id', x.id::text, 'event_id', x.event_id, 'type', x.type,
                 'status_code', x.status_code, 'error', x.error, 'duration_ms', x.duration_ms,
                 'attempted_at', slotd_instant(extract(epoch FROM x.attempted_at)::bigint, 'UTC')
             )::text AS answer
        FROM webhook_deliveries x
       WHERE x.organization_id = e.organization_id AND x.endpoint_id = e.id
         AND ($3::bigint IS NULL OR x.id < $3::bigint)
       ORDER BY x.id DESC
       LIMIT $4::int) d ON true
 WHERE e.organization_id = $1 AND e.id = $2 AND e.deleted_at IS NULL
 ORDER BY d.id DESC

-- name: webhook_claim
-- Up to $1 messages that may go now, each its live, active endpoint's first undone message
-- (by due time, then id: delivery is in order per endpoint), due, not held by another
-- claim. Each is held for $2 seconds; a reminder's body is rendered now and kept, so that
-- its retries send the same bytes.
WITH heads AS (
    SELECT DISTINCT ON (m.organization_id, m.endpoint_id) m.organization_id, m.id
      FROM webhook_messages m
      JOIN webhook_endpoints e ON e.organization_id = m.organization_id AND e.id = m.endpoint_id
     WHERE m.done_at IS NULL AND m.failed_at IS NULL
       AND e.deleted_at IS NULL AND e.status = 'active'
     ORDER BY m.organization_id, m.endpoint_id, m.due_at, m.id),
due AS (
    SELECT m.organization_id, m.id
      FROM webhook_messages m
      JOIN heads h ON h.organization_id = m.organization_id AND h.id = m.id
     WHERE m.due_at <= now() AND m.next_attempt_at <= now()
       AND m.done_at IS NULL AND m.failed_at IS NULL -- rechecked on the latest row when locked
       AND (m.claimed_until IS NULL OR m.claimed_until < now())
     ORDER BY m.next_attempt_at
     LIMIT $1::int
       FOR UPDATE OF m SKIP LOCKED)
UPDATE webhook_messages m
   SET claimed_until = now() + make_interval(secs => $2::int),
       body = coalesce(m.body,
                       '{"type":"booking.reminder","offset_minutes":' || m.offset_minutes
                       || ',"timestamp":'
                       || to_json(slotd_instant(extract(epoch FROM now())::bigint, 'UTC'))
                       || ',"data":' || slotd_booking_answer(m.organization_id, m.booking_id, NULL)
                       || '}')
  FROM due, webhook_endpoints e
 WHERE m.organization_id = due.organization_id AND m.id = due.id
   AND e.organization_id = m.organization_id AND e.id = m.endpoint_id
RETURNING m.organization_id, m.id, m.endpoint_id, e.url, e.secret, m.event_id, m.type, m.body

-- name: webhook_attempted
-- Records an attempt of message $2: $3 the HTTP status or NULL (no answer), $4 the error or
-- NULL, $5 its duration (ms), $6 the delays (int[], seconds) before each retry. A 2xx is the
-- message done; anything else is retried after the next delay, or given up after the
-- last; a 410 disables the endpoint. Answers whether the endpoint was disabled.
WITH m AS (
    SELECT * FROM webhook_messages
     WHERE organization_id = $1 AND id = $2 AND done_at IS NULL AND failed_at IS NULL
       FOR UPDATE),
ok AS (SELECT coalesce($3::int BETWEEN 200 AND 299, false) AS ok),
d AS (
    INSERT INTO webhook_deliveries (organization_id, endpoint_id, message_id, event_id, type,
                                    status_code, error, duration_ms)
    SELECT m.organization_id, m.endpoint_id, m.id, m.event_id, m.type, $3::int, $4, $5::int
      FROM m
    RETURNING id),
u AS (
    UPDATE webhook_messages x
       SET attempts = x.attempts + 1, claimed_until = NULL,
           done_at = CASE WHEN ok.ok THEN now() END,
           failed_at = CASE WHEN NOT ok.ok AND x.attempts + 1 > cardinality($6::int[])
                            THEN now() END,
           next_attempt_at = CASE WHEN ok.ok OR x.attempts + 1 > cardinality($6::int[])
                                  THEN x.next_attempt_at
                                  ELSE now() + make_interval(secs => ($6::int[])[x.attempts + 1])
                             END
      FROM m, ok
     WHERE x.organization_id = m.organization_id AND x.id = m.id
    RETURNING x.id),
e AS (
    UPDATE webhook_endpoints x
       SET status = 'disabled', disabled_reason = 'The endpoint answered 410 Gone.'
      FROM m
     WHERE $3::int = 410 AND x.organization_id = m.organization_id AND x.id = m.endpoint_id
       AND x.status = 'active'
    RETURNING x.id)
SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM u), (SELECT count(*) FROM e) > 0
