-- The caller's own organization. An organization as the typed store reads
-- it: id, name, zone, business hours (JSON), closures (JSON), language,
-- reminder offsets (JSON), whether a Retell API key is set.

-- name: organization_get
SELECT id, name, timezone, business_hours::text, to_json(closures)::text, language,
       to_json(reminder_offsets_minutes)::text, retell_api_key_sealed IS NOT NULL
  FROM organizations
 WHERE id = $1 AND deleted_at IS NULL

-- name: organization_update
-- $2, $3, $6, $7 (language) and $8 (reminder offsets, an integer[] literal) are NULL when not
-- sent; $5 says whether business_hours ($4) was sent, $10 whether the sealed Retell API key
-- ($9, NULL: cleared) was.
UPDATE organizations
   SET name = coalesce($2, name),
       timezone = coalesce($3, timezone),
       business_hours = CASE WHEN $5::boolean THEN $4::jsonb ELSE business_hours END,
       closures = coalesce($6::date[], closures),
       language = coalesce($7, language),
       reminder_offsets_minutes = coalesce($8::integer[], reminder_offsets_minutes),
       retell_api_key_sealed = CASE WHEN $10::boolean THEN $9::bytea
                                    ELSE retell_api_key_sealed END
 WHERE id = $1 AND deleted_at IS NULL
RETURNING id, name, timezone, business_hours::text, to_json(closures)::text, language,
          to_json(reminder_offsets_minutes)::text, retell_api_key_sealed IS NOT NULL

-- name: organization_retell_key
-- The sealed Retell API key (NULL when none is set) of a live organization.
SELECT retell_api_key_sealed
  FROM organizations
 WHERE id = $1 AND deleted_at IS NULL
