-- What the voice tools need to understand names: the organization's language
-- and zone, its active services (with their lengths) and its active
-- resources, by name. One row per item, the organization's first ($1).

-- name: agent_directory
SELECT 'organization', o.id, o.language, o.timezone, 0
  FROM organizations o
 WHERE o.id = $1 AND o.deleted_at IS NULL
UNION ALL
SELECT 'service', s.id, s.name, '', s.duration_minutes
  FROM services s
 WHERE s.organization_id = $1 AND s.deleted_at IS NULL AND s.active
UNION ALL
SELECT r.kind, r.id, r.name, '', 0
  FROM resources r
 WHERE r.organization_id = $1 AND r.deleted_at IS NULL AND r.active
 LIMIT 20001
