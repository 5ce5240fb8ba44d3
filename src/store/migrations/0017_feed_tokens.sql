-- The secret of a resource's calendar feed (GET /v1/resources/{id}/calendar.ics
-- ?token=): one per resource, only its SHA-256 kept. Making a new one replaces
-- the row, so the old token stops working at once. The hash alone finds the
-- row (a feed request carries no API key, hence no organization).
CREATE TABLE feed_tokens (
    organization_id uuid NOT NULL,
    resource_id uuid NOT NULL,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, resource_id),
    FOREIGN KEY (organization_id, resource_id) REFERENCES resources (organization_id, id),
    UNIQUE (token_hash)
);
