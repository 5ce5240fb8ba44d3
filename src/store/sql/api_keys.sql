-- API keys of an organization. Every statement names the organization ($1):
-- it can never reach another organization's keys. A key as the typed store
-- reads it: id, role, name, prefix, created (epoch seconds, whole: a key's
-- instant is shown to the second, never rounded up).

-- name: key_auth
-- The role and id of a live key of a live organization, by its hash ($2).
SELECT k.role, k.id
  FROM api_keys k JOIN organizations o ON o.id = k.organization_id
 WHERE k.organization_id = $1 AND k.key_hash = $2::bytea AND k.revoked_at IS NULL
   AND o.deleted_at IS NULL

-- name: key_insert
-- $2 the hash, $3 the role, $4 the name or NULL, $5 the prefix. No row when
-- the organization is not a live one.
INSERT INTO api_keys (organization_id, key_hash, role, name, prefix)
SELECT $1, $2::bytea, $3, $4, $5
  FROM organizations
 WHERE id = $1 AND deleted_at IS NULL
RETURNING id, role, name, prefix, floor(extract(epoch FROM created_at))::bigint

-- name: key_list
-- $2: the cursor (the last id of the previous page) or NULL; $3: how many rows.
SELECT id, role, name, prefix, floor(extract(epoch FROM created_at))::bigint
  FROM api_keys
 WHERE organization_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id > $2::uuid)
 ORDER BY id
 LIMIT $3::int

-- name: key_get
SELECT id, role, name, prefix, floor(extract(epoch FROM created_at))::bigint
  FROM api_keys
 WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL

-- name: key_revoke
-- 'revoked', 'not_found' or 'last_admin' (an organization keeps one admin key).
SELECT slotd_revoke_key($1, $2)
