-- Blocks (time off, breaks, meetings) of a resource. Every statement names
-- the organization ($1) and the resource ($2): it can never reach another
-- organization's rows, nor a deleted resource's. A block as the typed store
-- reads it: id, start and end (epoch seconds; NULL when recurring), rrule,
-- start_local and, in a listing, exdates (wall seconds of the local time,
-- fractions dropped), duration in minutes, reason.

-- name: block_insert
-- One-off: $3 and $4 (epoch seconds), $5..$7 NULL. Recurring: $5 the rule,
-- $6 the local start, $7 minutes, $3 and $4 NULL. No row when the resource is
-- not a live one of the organization.
INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at, rrule, start_local,
                    duration_minutes, reason)
SELECT $1, $2, to_timestamp($3::bigint), to_timestamp($4::bigint), $5, $6::timestamp, $7::int, $8
 WHERE EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
RETURNING id, extract(epoch FROM starts_at)::bigint, extract(epoch FROM ends_at)::bigint, rrule,
          floor(extract(epoch FROM start_local))::bigint, duration_minutes, reason,
          (SELECT timezone FROM organizations WHERE id = $1)

-- name: block_list
-- The resource (whether it is a live one, its zone in effect, the
-- organization's zone), then its blocks that may reach [$3, $4) (epoch
-- seconds): every recurring one, and the one-off ones that overlap. One row
-- with a NULL block id when it has none.
SELECT r.id IS NOT NULL, coalesce(r.timezone, l.timezone, o.timezone), o.timezone, b.id,
       extract(epoch FROM b.starts_at)::bigint, extract(epoch FROM b.ends_at)::bigint, b.rrule,
       floor(extract(epoch FROM b.start_local))::bigint, b.duration_minutes, b.reason,
       (SELECT coalesce(json_agg(floor(extract(epoch FROM x))::bigint), '[]')
          FROM unnest(b.exdates) x)::text
  FROM (SELECT 1) one
  LEFT JOIN resources r ON r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL
  LEFT JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
  LEFT JOIN blocks b ON r.id IS NOT NULL AND b.organization_id = $1 AND b.resource_id = $2
        AND b.deleted_at IS NULL
        AND (b.rrule IS NOT NULL OR (b.starts_at < to_timestamp($4::bigint)
                                     AND b.ends_at > to_timestamp($3::bigint)))

-- name: block_delete
-- $3 the block. No row when the block (or its resource) is not a live one.
UPDATE blocks SET deleted_at = now()
 WHERE organization_id = $1 AND resource_id = $2 AND id = $3 AND deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
RETURNING id
