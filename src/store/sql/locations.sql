-- Locations (branches) of an organization. Every statement names the
-- organization ($1): it can never reach another organization's rows.
-- A location as the typed store reads it: id, name, address, phone, the zone
-- in effect, business hours (JSON), closures (JSON), created and updated
-- (epoch seconds), the organization's zone.

-- name: location_insert
WITH l AS (
    INSERT INTO locations (organization_id, name, address, phone, timezone, business_hours,
                           closures)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, coalesce($7::date[], '{}'))
    RETURNING *)
SELECT l.id, l.name, l.address, l.phone, coalesce(l.timezone, o.timezone),
       l.business_hours::text, to_json(l.closures)::text,
       extract(epoch FROM l.created_at)::bigint, extract(epoch FROM l.updated_at)::bigint,
       o.timezone
  FROM l JOIN organizations o ON o.id = l.organization_id

-- name: location_get
SELECT l.id, l.name, l.address, l.phone, coalesce(l.timezone, o.timezone),
       l.business_hours::text, to_json(l.closures)::text,
       extract(epoch FROM l.created_at)::bigint, extract(epoch FROM l.updated_at)::bigint,
       o.timezone
  FROM locations l JOIN organizations o ON o.id = l.organization_id
 WHERE l.organization_id = $1 AND l.id = $2 AND l.deleted_at IS NULL

-- name: location_list
-- $2: the cursor (the last id of the previous page) or NULL; $3: how many rows.
SELECT l.id, l.name, l.address, l.phone, coalesce(l.timezone, o.timezone),
       l.business_hours::text, to_json(l.closures)::text,
       extract(epoch FROM l.created_at)::bigint, extract(epoch FROM l.updated_at)::bigint,
       o.timezone
  FROM locations l JOIN organizations o ON o.id = l.organization_id
 WHERE l.organization_id = $1 AND l.deleted_at IS NULL AND ($2::uuid IS NULL OR l.id > $2::uuid)
 ORDER BY l.id
 LIMIT $3

-- name: location_update
-- $3 and $12 are NULL when not sent; $4/$6/$8/$10 say whether the nullable
-- address/phone/timezone/business_hours were sent.
WITH l AS (
    UPDATE locations
       SET name = coalesce($3, name),
           address = CASE WHEN $4::boolean THEN $5 ELSE address END,
           phone = CASE WHEN $6::boolean THEN $7 ELSE phone END,
           timezone = CASE WHEN $8::boolean THEN $9 ELSE timezone END,
           business_hours = CASE WHEN $10::boolean THEN $11::jsonb ELSE business_hours END,
           closures = coalesce($12::date[], closures)
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
    RETURNING *)
SELECT l.id, l.name, l.address, l.phone, coalesce(l.timezone, o.timezone),
       l.business_hours::text, to_json(l.closures)::text,
       extract(epoch FROM l.created_at)::bigint, extract(epoch FROM l.updated_at)::bigint,
       o.timezone
  FROM l JOIN organizations o ON o.id = l.organization_id

-- name: location_delete
-- Refused while live resources belong to the location. Answers: how many live
-- resources it has, how many rows were deleted, whether it (still) exists.
WITH busy AS (
    SELECT count(*) AS n FROM resources
     WHERE organization_id = $1 AND location_id = $2 AND deleted_at IS NULL),
d AS (
    UPDATE locations SET deleted_at = now()
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL AND (SELECT n FROM busy) = 0
    RETURNING id)
SELECT (SELECT n FROM busy), (SELECT count(*) FROM d),
       EXISTS (SELECT 1 FROM locations
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
