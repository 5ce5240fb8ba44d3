-- Services and their requirement groups. Every statement names the
-- organization ($1): it can never reach another organization's rows.
-- A service as the typed store reads it: id, name, duration, slot interval,
-- buffers before and after, minimum notice, maximum advance, price (numeric
-- text), currency, active, created and updated (epoch seconds), the
-- organization's zone, then its requirement groups as JSON,
-- [{"resource_ids":[...],"mode":"any"}, ...] in position order.
--
-- A write names its groups as one JSON parameter of the same form. It first
-- looks for the first resource id (in the order given) that is not a live
-- resource of the organization, and writes nothing when there is one: the
-- last two columns then say which (group and member, from 0), and the
-- service's columns are NULL. The trigger of migration 0004 still checks the
-- groups it writes, for a resource deleted meanwhile (SQLSTATE 23503).

-- name: service_insert
WITH named AS (
    SELECT g.n AS grp, m.k AS member, m.id::uuid AS id
      FROM jsonb_array_elements($12::jsonb) WITH ORDINALITY AS g(v, n),
           jsonb_array_elements_text(g.v->'resource_ids') WITH ORDINALITY AS m(id, k)),
missing AS (
    SELECT grp, member FROM named
     WHERE NOT EXISTS (SELECT 1 FROM resources r
                        WHERE r.organization_id = $1 AND r.id = named.id
                          AND r.deleted_at IS NULL)
     ORDER BY grp, member
     LIMIT 1),
s AS (
    INSERT INTO services (organization_id, name, duration_minutes, slot_interval_minutes,
                          buffer_before_minutes, buffer_after_minutes, min_notice_minutes,
                          max_advance_days, price, currency, active)
    SELECT $1, $2, $3::int, $4::int, $5::int, $6::int, $7::int, $8::int, $9::numeric, $10,
           $11::boolean
     WHERE NOT EXISTS (SELECT 1 FROM missing)
    RETURNING *),
ins AS (
    INSERT INTO service_requirements (organization_id, service_id, position, mode, resource_ids)
    SELECT s.organization_id, s.id, (g.n - 1)::int, g.v->>'mode',
           ARRAY(SELECT jsonb_array_elements_text(g.v->'resource_ids'))::uuid[]
      FROM s, jsonb_array_elements($12::jsonb) WITH ORDINALITY AS g(v, n)
    RETURNING *)
SELECT s.id, s.name, s.duration_minutes, s.slot_interval_minutes, s.buffer_before_minutes,
       s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, s.price::text,
       s.currency, s.active, extract(epoch FROM s.created_at)::bigint,
       extract(epoch FROM s.updated_at)::bigint, o.timezone,
       (SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids, 'mode', q.mode)
                                 ORDER BY q.position), '[]')
          FROM ins q)::text,
       (SELECT grp - 1 FROM missing), (SELECT member - 1 FROM missing)
  FROM (SELECT 1) one
  LEFT JOIN s ON true
  LEFT JOIN organizations o ON o.id = s.organization_id

-- name: service_get
SELECT s.id, s.name, s.duration_minutes, s.slot_interval_minutes, s.buffer_before_minutes,
       s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, s.price::text,
       s.currency, s.active, extract(epoch FROM s.created_at)::bigint,
       extract(epoch FROM s.updated_at)::bigint, o.timezone,
       (SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids, 'mode', q.mode)
                                 ORDER BY q.position), '[]')
          FROM service_requirements q
         WHERE q.organization_id = s.organization_id AND q.service_id = s.id)::text
  FROM services s JOIN organizations o ON o.id = s.organization_id
 WHERE s.organization_id = $1 AND s.id = $2 AND s.deleted_at IS NULL

-- name: service_list
-- $2: the cursor (the last id of the previous page) or NULL; $3: how many rows.
SELECT s.id, s.name, s.duration_minutes, s.slot_interval_minutes, s.buffer_before_minutes,
       s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, s.price::text,
       s.currency, s.active, extract(epoch FROM s.created_at)::bigint,
       extract(epoch FROM s.updated_at)::bigint, o.timezone,
       (SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids, 'mode', q.mode)
                                 ORDER BY q.position), '[]')
          FROM service_requirements q
         WHERE q.organization_id = s.organization_id AND q.service_id = s.id)::text
  FROM services s JOIN organizations o ON o.id = s.organization_id
 WHERE s.organization_id = $1 AND s.deleted_at IS NULL AND ($2::uuid IS NULL OR s.id > $2::uuid)
 ORDER BY s.id
 LIMIT $3

-- name: service_update
-- $3, $4, $7, $8, $9 and $16 are NULL when not sent; $5/$10/$12/$14 say
-- whether the nullable interval/advance/price/currency were sent; $17: the
-- new groups, which replace the old ones, or NULL (unchanged).
WITH named AS (
    SELECT g.n AS grp, m.k AS member, m.id::uuid AS id
      FROM jsonb_array_elements(coalesce($17::jsonb, '[]')) WITH ORDINALITY AS g(v, n),
           jsonb_array_elements_text(g.v->'resource_ids') WITH ORDINALITY AS m(id, k)),
missing AS (
    SELECT grp, member FROM named
     WHERE NOT EXISTS (SELECT 1 FROM resources r
                        WHERE r.organization_id = $1 AND r.id = named.id
                          AND r.deleted_at IS NULL)
     ORDER BY grp, member
     LIMIT 1),
s AS (
    UPDATE services
       SET name = coalesce($3, name),
           duration_minutes = coalesce($4::int, duration_minutes),
           slot_interval_minutes = CASE WHEN $5::boolean THEN $6::int ELSE slot_interval_minutes END,
           buffer_before_minutes = coalesce($7::int, buffer_before_minutes),
           buffer_after_minutes = coalesce($8::int, buffer_after_minutes),
           min_notice_minutes = coalesce($9::int, min_notice_minutes),
           max_advance_days = CASE WHEN $10::boolean THEN $11::int ELSE max_advance_days END,
           price = CASE WHEN $12::boolean THEN $13::numeric ELSE price END,
           currency = CASE WHEN $14::boolean THEN $15 ELSE currency END,
           active = coalesce($16::boolean, active)
     WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM missing)
    RETURNING *),
del AS (
    DELETE FROM service_requirements d USING s
     WHERE $17::jsonb IS NOT NULL AND d.organization_id = s.organization_id
       AND d.service_id = s.id AND d.position >= jsonb_array_length($17::jsonb)
    RETURNING 1),
ins AS (
    INSERT INTO service_requirements (organization_id, service_id, position, mode, resource_ids)
    SELECT s.organization_id, s.id, (g.n - 1)::int, g.v->>'mode',
           ARRAY(SELECT jsonb_array_elements_text(g.v->'resource_ids'))::uuid[]
      FROM s, jsonb_array_elements(coalesce($17::jsonb, '[]')) WITH ORDINALITY AS g(v, n)
        ON CONFLICT (organization_id, service_id, position)
        DO UPDATE SET mode = EXCLUDED.mode, resource_ids = EXCLUDED.resource_ids
    RETURNING *)
SELECT s.id, s.name, s.duration_minutes, s.slot_interval_minutes, s.buffer_before_minutes,
       s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, s.price::text,
       s.currency, s.active, extract(epoch FROM s.created_at)::bigint,
       extract(epoch FROM s.updated_at)::bigint, o.timezone,
       CASE WHEN $17::jsonb IS NULL
            THEN (SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids,
                                                             'mode', q.mode)
                                           ORDER BY q.position), '[]')
                    FROM service_requirements q
                   WHERE q.organization_id = s.organization_id AND q.service_id = s.id)
            ELSE (SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids,
                                                             'mode', q.mode)
                                           ORDER BY q.position), '[]')
                    FROM ins q)
       END::text,
       (SELECT grp - 1 FROM missing), (SELECT member - 1 FROM missing)
  FROM (SELECT 1) one
  LEFT JOIN s ON true
  LEFT JOIN organizations o ON o.id = s.organization_id

-- name: service_delete
UPDATE services SET deleted_at = now()
 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING id
