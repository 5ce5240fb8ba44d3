/* The service's prepared statements (see statements.h). */
#include "store/statements.h"

#include "store_sql.h"

/* A service as the API shows it, but for its requirements; needs s and o. */
#define SERVICE_COLUMNS                                                                            \
    "s.id, s.name, s.duration_minutes, s.slot_interval_minutes, s.buffer_before_minutes, "         \
    "s.buffer_after_minutes, s.min_notice_minutes, s.max_advance_days, s.price::text, "            \
    "s.currency, s.active, extract(epoch FROM s.created_at)::bigint, "                             \
    "extract(epoch FROM s.updated_at)::bigint, o.timezone, "
#define SERVICE_REQUIREMENTS(table)                                                                \
    "(SELECT coalesce(json_agg(json_build_object('resource_ids', q.resource_ids, 'mode', q.mode) " \
    "ORDER BY q.position), '[]') FROM " table " q WHERE q.organization_id = s.organization_id "    \
    "AND q.service_id = s.id)::text"
/* Requirement groups from a JSON parameter: [{"resource_ids":[...],"mode":...}, ...] */
#define GROUPS_FROM(param)                                                                         \
    "SELECT s.organization_id, s.id, (g.n - 1)::int, g.v->>'mode', "                               \
    "ARRAY(SELECT jsonb_array_elements_text(g.v->'resource_ids'))::uuid[] "                        \
    "FROM s, jsonb_array_elements(" param ") WITH ORDINALITY AS g(v, n)"

const store_statement_t store_statements[] = {
    {"auth_key", "SELECT k.role FROM api_keys k JOIN organizations o ON o.id = k.organization_id "
                 "WHERE k.organization_id = $1 AND k.key_hash = $2::bytea AND k.revoked_at IS NULL "
                 "AND o.deleted_at IS NULL"},
    /* ---- the organization: src/store/sql/organization.sql ---- */
    {"organization_get", store_sql_organization_get},
    {"organization_update", store_sql_organization_update},

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

    /* ---- blocks: src/store/sql/blocks.sql ---- */
    {"block_insert", store_sql_block_insert},
    {"block_list", store_sql_block_list},
    {"block_delete", store_sql_block_delete},

    /* ---- services ---- */
    {"svc_check_resources",
     "SELECT id::text FROM resources WHERE organization_id = $1 AND id = ANY($2::uuid[]) "
     "AND deleted_at IS NULL"},
    {"svc_insert",
     "WITH s AS (INSERT INTO services (organization_id, name, duration_minutes, "
     "slot_interval_minutes, buffer_before_minutes, buffer_after_minutes, min_notice_minutes, "
     "max_advance_days, price, currency, active) VALUES ($1, $2, $3::int, $4::int, $5::int, "
     "$6::int, $7::int, $8::int, $9::numeric, $10, $11::boolean) RETURNING *), "
     "ins AS (INSERT INTO service_requirements (organization_id, service_id, position, mode, "
     "resource_ids) " GROUPS_FROM(
         "$12::jsonb") " RETURNING *) "
                       "SELECT " SERVICE_COLUMNS SERVICE_REQUIREMENTS(
                           "ins") " FROM s "
                                  "JOIN organizations o ON o.id = s.organization_id"},
    {"svc_get", "SELECT " SERVICE_COLUMNS SERVICE_REQUIREMENTS(
                    "service_requirements") " FROM services s JOIN organizations o ON o.id = "
                                            "s.organization_id "
                                            "WHERE s.organization_id = $1 AND s.id = $2 AND "
                                            "s.deleted_at IS NULL"},
    {"svc_list",
     "SELECT " SERVICE_COLUMNS SERVICE_REQUIREMENTS(
         "service_requirements") " FROM services s JOIN organizations o ON o.id = "
                                 "s.organization_id "
                                 "WHERE s.organization_id = $1 AND s.deleted_at IS NULL "
                                 "AND ($2::uuid IS NULL OR s.id > $2::uuid) ORDER BY s.id LIMIT "
                                 "$3"},
    /* $5/$10/$12/$14: whether the nullable fields were sent; $17: new groups or NULL */
    {"svc_update",
     "WITH s AS (UPDATE services SET name = coalesce($3, name), "
     "duration_minutes = coalesce($4::int, duration_minutes), "
     "slot_interval_minutes = CASE WHEN $5::boolean THEN $6::int ELSE "
     "slot_interval_minutes END, "
     "buffer_before_minutes = coalesce($7::int, buffer_before_minutes), "
     "buffer_after_minutes = coalesce($8::int, buffer_after_minutes), "
     "min_notice_minutes = coalesce($9::int, min_notice_minutes), "
     "max_advance_days = CASE WHEN $10::boolean THEN $11::int ELSE max_advance_days "
     "END, "
     "price = CASE WHEN $12::boolean THEN $13::numeric ELSE price END, "
     "currency = CASE WHEN $14::boolean THEN $15 ELSE currency END, "
     "active = coalesce($16::boolean, active) "
     "WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING *), "
     "del AS (DELETE FROM service_requirements d USING s WHERE $17::jsonb IS NOT "
     "NULL "
     "AND d.organization_id = s.organization_id AND d.service_id = s.id "
     "AND d.position >= jsonb_array_length($17::jsonb) RETURNING 1), "
     "ins AS (INSERT INTO service_requirements (organization_id, service_id, "
     "position, mode, "
     "resource_ids) " GROUPS_FROM(
         "coalesce($17::jsonb, '[]')") " ON CONFLICT (organization_id, service_id, "
                                       "position) DO UPDATE SET mode = "
                                       "EXCLUDED.mode, "
                                       "resource_ids = EXCLUDED.resource_ids "
                                       "RETURNING *) "
                                       "SELECT " SERVICE_COLUMNS "CASE WHEN $17::jsonb IS NULL "
                                       "THEN " SERVICE_REQUIREMENTS(
                                           "service_"
                                           "requirements") " ELSE " SERVICE_REQUIREMENTS("ins") " E"
                                                                                                "ND"
                                                                                                " F"
                                                                                                "RO"
                                                                                                "M "
                                                                                                "s "
                                                                                                "JO"
                                                                                                "IN"
                                                                                                " o"
                                                                                                "rg"
                                                                                                "an"
                                                                                                "iz"
                                                                                                "at"
                                                                                                "io"
                                                                                                "ns"
                                                                                                " o"
                                                                                                " "
                                                                                                "ON"
                                                                                                " o"
                                                                                                ".i"
                                                                                                "d "
                                                                                                "= "
                                                                                                "s."
                                                                                                "or"
                                                                                                "ga"
                                                                                                "ni"
                                                                                                "za"
                                                                                                "ti"
                                                                                                "on"
                                                                                                "_i"
                                                                                                "d"},
    {"svc_delete", "UPDATE services SET deleted_at = now() WHERE organization_id = $1 AND id = $2 "
                   "AND deleted_at IS NULL RETURNING id"},
};

const size_t store_statement_count = sizeof(store_statements) / sizeof(store_statements[0]);
