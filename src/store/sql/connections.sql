-- Calendar connections of a resource. Every statement names the organization
-- ($1): it can never reach another organization's rows. A connection as the
-- typed store reads it: id, resource_id, provider, direction, calendar_id,
-- Cal.com event type id, status, last sync and last full sync (epoch seconds,
-- or NULL), last error, how many busy events it brought, created and updated
-- (epoch seconds), the organization's zone. Its sealed credentials are read
-- by connection_credentials alone, and no statement answers them otherwise.

-- name: connection_new_id
-- $2 the resource. A new connection's id, chosen by the database before the
-- row is written (the credentials are sealed with it); no row when the
-- resource is not a live one of the organization.
SELECT gen_random_uuid()
 WHERE EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)

-- name: connection_insert
-- $2 the id from connection_new_id, $3 the resource, $4 provider, $5
-- direction, $6 calendar_id, $7 the sealed credentials (hex bytea), $8 the
-- Cal.com event type or NULL. No row when the resource is not a live one.
WITH k AS (
    INSERT INTO calendar_connections (organization_id, id, resource_id, provider, direction,
                                      calendar_id, credentials, calcom_event_type_id)
    SELECT $1, $2, $3, $4, $5, $6, $7::bytea, $8::bigint
     WHERE EXISTS (SELECT 1 FROM resources
                    WHERE organization_id = $1 AND id = $3 AND deleted_at IS NULL)
    RETURNING *)
SELECT k.id, k.resource_id, k.provider, k.direction, k.calendar_id, k.calcom_event_type_id,
       k.status, extract(epoch FROM k.last_sync_at)::bigint,
       extract(epoch FROM k.last_full_sync_at)::bigint, k.last_error, 0::bigint,
       extract(epoch FROM k.created_at)::bigint, extract(epoch FROM k.updated_at)::bigint,
       o.timezone
  FROM k JOIN organizations o ON o.id = k.organization_id

-- name: connection_get
SELECT k.id, k.resource_id, k.provider, k.direction, k.calendar_id, k.calcom_event_type_id,
       k.status, extract(epoch FROM k.last_sync_at)::bigint,
       extract(epoch FROM k.last_full_sync_at)::bigint, k.last_error,
       (SELECT count(*) FROM external_busy_events e
         WHERE e.organization_id = k.organization_id AND e.connection_id = k.id AND e.busy),
       extract(epoch FROM k.created_at)::bigint, extract(epoch FROM k.updated_at)::bigint,
       o.timezone
  FROM calendar_connections k JOIN organizations o ON o.id = k.organization_id
 WHERE k.organization_id = $1 AND k.id = $2 AND k.deleted_at IS NULL

-- name: connection_list
-- $2 the cursor (the last id of the previous page) or NULL, $3 how many rows,
-- $4 the resource. The first column says whether the resource is a live one
-- of the organization; one row with a NULL connection id when it has none.
SELECT r.id IS NOT NULL, k.id, k.resource_id, k.provider, k.direction, k.calendar_id,
       k.calcom_event_type_id, k.status, extract(epoch FROM k.last_sync_at)::bigint,
       extract(epoch FROM k.last_full_sync_at)::bigint, k.last_error,
       (SELECT count(*) FROM external_busy_events e
         WHERE e.organization_id = k.organization_id AND e.connection_id = k.id AND e.busy),
       extract(epoch FROM k.created_at)::bigint, extract(epoch FROM k.updated_at)::bigint,
       o.timezone
  FROM (SELECT 1) one
  LEFT JOIN resources r ON r.organization_id = $1 AND r.id = $4 AND r.deleted_at IS NULL
  LEFT JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN LATERAL (
        SELECT * FROM calendar_connections c
         WHERE c.organization_id = $1 AND c.resource_id = $4 AND c.deleted_at IS NULL
           AND ($2::uuid IS NULL OR c.id > $2::uuid)
         ORDER BY c.id
         LIMIT $3) k ON r.id IS NOT NULL
 ORDER BY k.id

-- name: connection_update
-- $3 the direction and $4 the Cal.com event type (or NULL) the change was
-- checked against: a connection changed meanwhile is not changed, and comes
-- back as one row of NULLs (the change must be checked again). $5 direction,
-- $6 whether calendar_id was sent and $7 its value, $8 the sealed credentials
-- (hex bytea) or NULL, $9 whether the event type was sent and $10 its value,
-- $11 status or NULL. New credentials make a broken connection active (unless
-- a status is sent too) and clear its last error. No row when the connection
-- is not a live one.
WITH k AS (
    UPDATE calendar_connections
       SET direction = coalesce($5, direction),
           calendar_id = CASE WHEN $6::boolean THEN $7 ELSE calendar_id END,
           credentials = coalesce($8::bytea, credentials),
           calcom_event_type_id = CASE WHEN $9::boolean THEN $10::bigint
                                       ELSE calcom_event_type_id END,
           status = coalesce($11, CASE WHEN $8 IS NOT NULL AND status = 'broken' THEN 'active'
                                       ELSE status END),
           last_error = CASE WHEN $8 IS NOT NULL AND $11 IS NULL AND status = 'broken' THEN NULL
                             ELSE last_error END,
           -- another calendar or account: what was learnt of the old one is forgotten, and
           -- a full listing of the new one is due now
           sync_token = CASE WHEN k_changed.calendar THEN NULL ELSE sync_token END,
           access_token = CASE WHEN k_changed.calendar THEN NULL ELSE access_token END,
           access_expires_at = CASE WHEN k_changed.calendar THEN NULL ELSE access_expires_at END,
           watch_expires_at = CASE WHEN k_changed.calendar THEN NULL ELSE watch_expires_at END,
           sync_full_requested = sync_full_requested OR k_changed.calendar,
           next_sync_at = CASE WHEN k_changed.calendar THEN now() ELSE next_sync_at END
      FROM (SELECT $8::bytea IS NOT NULL
                   OR ($6::boolean AND $7::text IS DISTINCT FROM
                       (SELECT calendar_id FROM calendar_connections
                         WHERE organization_id = $1 AND id = $2)) AS calendar) AS k_changed
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL AND direction = $3
       AND calcom_event_type_id IS NOT DISTINCT FROM $4::bigint
    RETURNING *),
-- new credentials: the pushes that waited for them are due now
p AS (
    UPDATE outbox o
       SET next_attempt_at = now()
      FROM k
     WHERE $8::bytea IS NOT NULL AND o.organization_id = k.organization_id
       AND o.connection_id = k.id AND o.done_at IS NULL AND o.next_attempt_at > now())
SELECT k.id, k.resource_id, k.provider, k.direction, k.calendar_id, k.calcom_event_type_id,
       k.status, extract(epoch FROM k.last_sync_at)::bigint,
       extract(epoch FROM k.last_full_sync_at)::bigint, k.last_error,
       (SELECT count(*) FROM external_busy_events e
         WHERE e.organization_id = k.organization_id AND e.connection_id = k.id AND e.busy),
       extract(epoch FROM k.created_at)::bigint, extract(epoch FROM k.updated_at)::bigint,
       o.timezone
  FROM k JOIN organizations o ON o.id = k.organization_id
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
 WHERE NOT EXISTS (SELECT 1 FROM k)
   AND EXISTS (SELECT 1 FROM calendar_connections
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)

-- name: connection_delete
-- Soft-deletes the connection and deletes the busy events it brought, in one
-- statement. Answers its resource; no row when it is not a live one.
WITH k AS (
    UPDATE calendar_connections SET deleted_at = now()
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
    RETURNING id, resource_id),
gone AS (
    DELETE FROM external_busy_events e USING k
     WHERE e.organization_id = $1 AND e.connection_id = k.id)
SELECT resource_id FROM k

-- name: connection_credentials
-- The sealed credentials (hex bytea) of a live connection, for the service to
-- open; no row when it is not one.
SELECT credentials FROM calendar_connections
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
