-- What the periodic sweep reads: expired holds' occupancy and idempotency
-- keys past their 24 hours, of every organization, oldest first. Without
-- these, each sweep would read the whole occupancy and idempotency tables.
CREATE INDEX IF NOT EXISTS occupancy_hold_expiry ON occupancy (expires_at)
    WHERE hold_id IS NOT NULL AND active;
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency_keys (created_at);
