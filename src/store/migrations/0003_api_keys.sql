-- API keys managed over HTTP: a name and a recognizable prefix for listings,
-- revocation that every instance hears at once, and the rule that an
-- organization keeps at least one admin key.

ALTER TABLE api_keys
    ADD COLUMN name text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
    ADD COLUMN prefix text;

-- Every change to a key is announced on slotd_changes ({"table":"api_keys",
-- "organization_id","op"}): instances drop that organization's cached keys.
CREATE TRIGGER api_keys_announce AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION slotd_announce();

-- Revokes one key: 'revoked', 'not_found', or 'last_admin' (refused). The
-- organization's row is locked first, and each statement of a volatile
-- function sees what committed before it ran, so two revocations at once
-- cannot both take an organization's last two admin keys.
CREATE FUNCTION slotd_revoke_key(org uuid, key_id uuid) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    key_role text;
BEGIN
    PERFORM 1 FROM organizations WHERE id = org AND deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    SELECT role INTO key_role FROM api_keys
        WHERE organization_id = org AND id = key_id AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF key_role = 'admin' AND NOT EXISTS (
            SELECT 1 FROM api_keys WHERE organization_id = org AND role = 'admin'
                AND revoked_at IS NULL AND id <> key_id) THEN
        RETURN 'last_admin';
    END IF;
    UPDATE api_keys SET revoked_at = now() WHERE organization_id = org AND id = key_id;
    RETURN 'revoked';
END $$;
