/* The service's prepared statements (see statements.h). */
#include "store/statements.h"

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
};

const size_t store_statement_count = sizeof(store_statements) / sizeof(store_statements[0]);
