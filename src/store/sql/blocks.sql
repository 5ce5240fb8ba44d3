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

-- name: busy_list
-- A resource's busy time that may reach [$3, $4) (epoch seconds), by the clock $5:
-- the rows of block_list (the resource, then its blocks, in the same columns),
-- then one row per active booking and live hold that holds the resource with a
-- padded range overlapping the window: 'booking' or 'hold', its id, its padded
-- start and end, its own start and end; and one row per busy event of its
-- calendar connections overlapping the window: 'external', the event's id, its
-- start and end twice (never padded), its connection and its summary; an ICS
-- series among them (that may reach the window) also with its rule as JSON in
-- the last column ({"rrule","start_local","timezone","vtimezone","duration",
-- "nominal","exdates"}, wall times as epoch seconds). The column before it orders
-- the parts.
SELECT r.id IS NOT NULL, coalesce(r.timezone, l.timezone, o.timezone), o.timezone, b.id,
       extract(epoch FROM b.starts_at)::bigint, extract(epoch FROM b.ends_at)::bigint, b.rrule,
       floor(extract(epoch FROM b.start_local))::bigint, b.duration_minutes, b.reason,
       (SELECT coalesce(json_agg(floor(extract(epoch FROM x))::bigint), '[]')
          FROM unnest(b.exdates) x)::text,
       NULL::text, NULL::uuid, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
       NULL::uuid, NULL::text, 0 AS part, NULL::text
  FROM (SELECT 1) one
  LEFT JOIN resources r ON r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL
  LEFT JOIN organizations o ON o.id = r.organization_id
  LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
  LEFT JOIN blocks b ON r.id IS NOT NULL AND b.organization_id = $1 AND b.resource_id = $2
        AND b.deleted_at IS NULL
        AND (b.rrule IS NOT NULL OR (b.starts_at < to_timestamp($4::bigint)
                                     AND b.ends_at > to_timestamp($3::bigint)))
UNION ALL
SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       CASE WHEN c.booking_id IS NULL THEN 'hold' ELSE 'booking' END,
       coalesce(c.booking_id, c.hold_id),
       extract(epoch FROM lower(c.occupied))::bigint, extract(epoch FROM upper(c.occupied))::bigint,
       extract(epoch FROM coalesce(k.starts_at, h.starts_at))::bigint,
       extract(epoch FROM coalesce(k.ends_at, h.ends_at))::bigint, NULL, NULL, 1, NULL
  FROM occupancy c
  LEFT JOIN bookings k ON k.organization_id = c.organization_id AND k.id = c.booking_id
  LEFT JOIN holds h ON h.organization_id = c.organization_id AND h.id = c.hold_id
 WHERE c.organization_id = $1 AND c.resource_id = $2 AND c.active
   AND (c.hold_id IS NULL OR c.expires_at > to_timestamp($5::bigint))
   AND c.occupied && tstzrange(to_timestamp($3::bigint), to_timestamp($4::bigint))
UNION ALL
SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'external', e.id,
       extract(epoch FROM e.starts_at)::bigint, extract(epoch FROM e.ends_at)::bigint,
       extract(epoch FROM e.starts_at)::bigint, extract(epoch FROM e.ends_at)::bigint,
       e.connection_id, e.summary, 1,
       CASE WHEN e.rrule IS NOT NULL THEN json_build_object(
           'rrule', e.rrule, 'start_local', floor(extract(epoch FROM e.start_local))::bigint,
           'timezone', e.timezone, 'vtimezone', e.vtimezone, 'duration', e.duration_seconds,
           'nominal', e.nominal,
           'exdates', (SELECT coalesce(json_agg(floor(extract(epoch FROM x))::bigint), '[]')
                         FROM unnest(e.exdates) x))::text END
  FROM external_busy_events e
 WHERE e.organization_id = $1 AND e.resource_id = $2 AND e.busy
   AND EXISTS (SELECT 1 FROM calendar_connections k
                WHERE k.organization_id = e.organization_id AND k.id = e.connection_id
                  AND k.deleted_at IS NULL AND k.status <> 'paused' AND k.direction <> 'push')
   AND e.starts_at < to_timestamp($4::bigint)
   AND (e.rrule IS NOT NULL OR e.ends_at > to_timestamp($3::bigint))
 ORDER BY part, 14, 13

-- name: block_delete
-- $3 the block. No row when the block (or its resource) is not a live one.
UPDATE blocks SET deleted_at = now()
 WHERE organization_id = $1 AND resource_id = $2 AND id = $3 AND deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM resources
                WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)
RETURNING id
