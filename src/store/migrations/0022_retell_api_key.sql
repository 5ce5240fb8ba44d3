-- The organization's Retell API key (PATCH /v1/organization
-- {"integrations":{"retell_api_key"}}), with which Retell signs its calls of the
-- voice tools (X-Retell-Signature). Write-only: kept only sealed with the
-- secret_key setting (AES-256-GCM, the organization's id as additional data,
-- src/store/organization.c), never returned; NULL when not set. A column of the
-- organization's own row, so it goes with the row.
ALTER TABLE organizations
    ADD COLUMN retell_api_key_sealed bytea
        CHECK (retell_api_key_sealed IS NULL OR length(retell_api_key_sealed) > 29);
