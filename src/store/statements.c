/* The service's prepared statements (see statements.h). */
#include "store/statements.h"

#include "store_sql.h"

const store_statement_t store_statements[] = {
    {"auth_key", "SELECT k.role FROM api_keys k JOIN organizations o ON o.id = k.organization_id "
                 "WHERE k.organization_id = $1 AND k.key_hash = $2::bytea AND k.revoked_at IS NULL "
                 "AND o.deleted_at IS NULL"},
    {"org_get", "SELECT id, name, timezone, business_hours::text, to_json(closures)::text "
                "FROM organizations WHERE id = $1 AND deleted_at IS NULL"},
    /* PATCH: $2..$4 and $6 are NULL when not sent; $5 says whether business_hours was sent */
    {"org_update",
     "UPDATE organizations SET name = coalesce($2, name), timezone = coalesce($3, timezone), "
     "business_hours = CASE WHEN $5::boolean THEN $4::jsonb ELSE business_hours END, "
     "closures = coalesce($6::date[], closures) "
     "WHERE id = $1 AND deleted_at IS NULL "
     "RETURNING id, name, timezone, business_hours::text, to_json(closures)::text"},

    /* ---- resources and overrides: src/store/sql/resources.sql ---- */
    {"resource_insert", store_sql_resource_insert},
    {"resource_get", store_sql_resource_get},
    {"resource_list", store_sql_resource_list},
    {"resource_update", store_sql_resource_update},
    {"resource_delete", store_sql_resource_delete},
    {"override_put", store_sql_override_put},
    {"override_delete", store_sql_override_delete},
    {"override_list", store_sql_override_list},

    /* ---- locations: src/store/sql/locations.sql ---- */
    {"location_insert", store_sql_location_insert},
    {"location_get", store_sql_location_get},
    {"location_list", store_sql_location_list},
    {"location_update", store_sql_location_update},
    {"location_delete", store_sql_location_delete},

    /* ---- blocks ---- */
    {"blk_insert",
     "INSERT INTO blocks (organization_id, resource_id, starts_at, ends_at, rrule, start_local, "
     "duration_minutes, reason) SELECT $1, $2, to_timestamp($3::bigint), to_timestamp($4::bigint), "
     "$5, "
     "$6::timestamp, $7::int, $8 WHERE EXISTS (SELECT 1 FROM resources WHERE organization_id = $1 "
     "AND id = $2 AND deleted_at IS NULL) RETURNING id, extract(epoch FROM starts_at)::bigint, "
     "extract(epoch FROM ends_at)::bigint, rrule, to_char(start_local, 'YYYY-MM-DD\"T\"HH24:MI'), "
     "duration_minutes, reason, (SELECT timezone FROM organizations WHERE id = $1)"},
    /* the resource (exists, zone, org zone), then its blocks that may reach [$3, $4) */
    {"blk_list",
     "SELECT r.id IS NOT NULL, coalesce(r.timezone, l.timezone, o.timezone), o.timezone, b.id, "
     "extract(epoch FROM b.starts_at)::bigint, extract(epoch FROM b.ends_at)::bigint, b.rrule, "
     "to_char(b.start_local, 'YYYY-MM-DD\"T\"HH24:MI:SS'), b.duration_minutes, b.reason, "
     "(SELECT coalesce(json_agg(to_char(x, 'YYYY-MM-DD\"T\"HH24:MI:SS')), '[]') "
     "   FROM unnest(b.exdates) x)::text "
     "FROM (SELECT 1) one "
     "LEFT JOIN resources r ON r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL "
     "LEFT JOIN organizations o ON o.id = r.organization_id "
     "LEFT JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id "
     "LEFT JOIN blocks b ON r.id IS NOT NULL AND b.organization_id = $1 AND b.resource_id = $2 "
     "AND b.deleted_at IS NULL AND (b.rrule IS NOT NULL OR (b.starts_at < to_timestamp($4::bigint) "
     "AND b.ends_at > to_timestamp($3::bigint)))"},
    {"blk_delete",
     "UPDATE blocks SET deleted_at = now() WHERE organization_id = $1 AND resource_id = $2 "
     "AND id = $3 AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM resources WHERE "
     "organization_id = $1 AND id = $2 AND deleted_at IS NULL) RETURNING id"},

    /* ---- services: src/store/sql/services.sql ---- */
    {"service_insert", store_sql_service_insert},
    {"service_get", store_sql_service_get},
    {"service_list", store_sql_service_list},
    {"service_update", store_sql_service_update},
    {"service_delete", store_sql_service_delete},
};

const size_t store_statement_count = sizeof(store_statements) / sizeof(store_statements[0]);
