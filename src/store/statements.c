/* The service's prepared statements (see statements.h). */
#include "store/statements.h"

#include "store_sql.h"

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

    /* ---- services: src/store/sql/services.sql ---- */
    {"service_insert", store_sql_service_insert},
    {"service_get", store_sql_service_get},
    {"service_list", store_sql_service_list},
    {"service_update", store_sql_service_update},
    {"service_delete", store_sql_service_delete},
};

const size_t store_statement_count = sizeof(store_statements) / sizeof(store_statements[0]);
