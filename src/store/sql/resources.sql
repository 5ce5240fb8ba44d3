-- Resources (staff, rooms, equipment) of an organization and their date
-- overrides. Every statement names the organization ($1): it can never reach
-- another organization's rows.
-- A resource as the typed store reads it: id, kind, name, location, email,
-- phone, the zone in effect (its own, else its location's, else the
-- organization's), working hours (JSON), active, created and updated (epoch
-- seconds), the organization's zone.
-- A location a write names must be a live one of the organization.

-- name: resource_insert
-- No row when the location $4 is not a live one.
WITH r AS (
    INSERT INTO resources (organization_id, kind, name, location_id, email, phone, timezone,
                           working_hours, active)
    SELECT $1, $2, $3, $4::uuid, $5, $6, $7, $8::jsonb, $9::boolean
     WHERE $4::uuid IS NULL
        OR EXISTS (SELECT 1 FROM locations x
                    WHERE x.organization_id = $1 AND x.id = $4::uuid AND x.deleted_at IS NULL)
    RETURNING *)
SELECT r.id, r.kind, r.name, r.location_id, r.email, r.phone,
       coalesce(r.timezone, l.timezone, o.timezone), r.working_hours::text, r.active,
       extract(epoch FROM r.created_at)::bigint, extract(epoch FROM r.updated_at)::bigint,
       o.timezone
  FROM r JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id

-- name: resource_get
SELECT r.id, r.kind, r.name, r.location_id, r.email, r.phone,
       coalesce(r.timezone, l.timezone, o.timezone), r.working_hours::text, r.active,
       extract(epoch FROM r.created_at)::bigint, extract(epoch FROM r.updated_at)::bigint,
       o.timezone
  FROM resources r JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
 WHERE r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL

-- name: resource_list
-- $2: the cursor (the last id of the previous page) or NULL; $3: how many rows.
SELECT r.id, r.kind, r.name, r.location_id, r.email, r.phone,
       coalesce(r.timezone, l.timezone, o.timezone), r.working_hours::text, r.active,
       extract(epoch FROM r.created_at)::bigint, extract(epoch FROM r.updated_at)::bigint,
       o.timezone
  FROM resources r JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
 WHERE r.organization_id = $1 AND r.deleted_at IS NULL AND ($2::uuid IS NULL OR r.id > $2::uuid)
 ORDER BY r.id
 LIMIT $3

-- name: resource_update
-- $3, $4, $13 and $14 are NULL when not sent; $5/$7/$9/$11 say whether the
-- nullable location_id/email/phone/timezone were sent. Always one row: the
-- resource's columns (NULL when nothing was updated), then whether the
-- resource is a live one and whether the location $6 is (or none is named),
-- so that one statement tells a missing resource from a missing location.
WITH target AS (
    SELECT EXISTS (SELECT 1 FROM resources
                    WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL) AS found,
           ($6::uuid IS NULL
            OR EXISTS (SELECT 1 FROM locations x
                        WHERE x.organization_id = $1 AND x.id = $6::uuid
                          AND x.deleted_at IS NULL)) AS location_found),
r AS (
    UPDATE resources
       SET kind = coalesce($3, kind),
           name = coalesce($4, name),
           location_id = CASE WHEN $5::boolean THEN $6::uuid ELSE location_id END,
           email = CASE WHEN $7::boolean THEN $8 ELSE email END,
           phone = CASE WHEN $9::boolean THEN $10 ELSE phone END,
           timezone = CASE WHEN $11::boolean THEN $12 ELSE timezone END,
           working_hours = coalesce($13::jsonb, working_hours),
           active = coalesce($14::boolean, active)
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
       AND (SELECT location_found FROM target)
    RETURNING *)
SELECT r.id, r.kind, r.name, r.location_id, r.email, r.phone,
       coalesce(r.timezone, l.timezone, o.timezone), r.working_hours::text, r.active,
       extract(epoch FROM r.created_at)::bigint, extract(epoch FROM r.updated_at)::bigint,
       o.timezone, t.found, t.location_found
  FROM target t
  LEFT JOIN r ON true
  LEFT JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id

-- name: resource_delete
-- A soft delete: the resource stops being offered, its bookings stay.
UPDATE resources SET deleted_at = now()
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING id

-- name: override_put
-- $3: the date; $4: its hours (JSON). No row when the resource $2 is not a
-- live one. Answers the date, the hours, and whether the override is new.
INSERT INTO resource_overrides (organization_id, resource_id, day, hours)
SELECT $1, $2, $3::date, $4::jsonb
 WHERE EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
    ON CONFLICT (organization_id, resource_id, day) DO UPDATE SET hours = EXCLUDED.hours
RETURNING day::text, hours::text, xmax = 0

-- name: override_delete
-- No row when there is no such override of a live resource.
DELETE FROM resource_overrides
 WHERE organization_id = $1 AND resource_id = $2 AND day = $3::date
   AND EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
RETURNING day

-- name: override_list
-- The overrides in [$3, $4] after $5 (each NULL: unbounded), $6 rows at most.
-- First column: whether the resource is a live one (false: the only row);
-- a live resource without overrides answers one row with a NULL date.
SELECT r.id IS NOT NULL, v.day::text, v.hours::text
  FROM (SELECT 1) one
  LEFT JOIN resources r ON r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL
  LEFT JOIN LATERAL (
        SELECT day, hours FROM resource_overrides
         WHERE organization_id = $1 AND resource_id = $2
           AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)
           AND ($5::date IS NULL OR day > $5::date)
         ORDER BY day
         LIMIT $6) v ON r.id IS NOT NULL
 ORDER BY v.day
