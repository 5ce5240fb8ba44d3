-- Calendar connections: a resource's own calendar at Google, Microsoft,
-- Cal.com or an ICS feed, and the busy time pulled from it.
--
-- A connection's credentials are sealed by the service (AES-256-GCM under its
-- secret_key, the organization and connection ids as additional data) before
-- they reach the database: the column holds only that sealed value, which
-- another row's ids do not open. The sync state (Google's syncToken, Graph's
-- deltaLink, an ICS feed's ETag and Last-Modified) is the provider's opaque
-- text. Connections are configuration: soft deleted (deleted_at).
--
-- external_busy_events holds what a pull found, one row per event of the
-- provider (its own id), so that a pull can replace a connection's events in
-- one transaction (DELETE of the connection's rows, then INSERT) or apply an
-- incremental change by external_id. Events that do not make the resource
-- busy (free, transparent, cancelled) may be kept with busy = false; the index
-- reads only busy ones. resource_id is the connection's, kept on each row so
-- that the index reads a resource's events by key. Deleting a connection
-- deletes its events in the same statement: the busy time it brought is gone.
--
-- Changes are announced on slotd_changes with the resource_id, like blocks,
-- so that every instance's index reloads the resource. The events' trigger
-- fires once per statement and announces each resource the statement touched
-- once: a pull that writes a thousand events sends one notification.

CREATE TABLE calendar_connections (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    resource_id uuid NOT NULL,
    provider text NOT NULL CHECK (provider IN ('google', 'microsoft', 'calcom', 'ics')),
    direction text NOT NULL CHECK (direction IN ('pull', 'push', 'both')),
    calendar_id text CHECK (length(calendar_id) BETWEEN 1 AND 1024),
    credentials bytea NOT NULL CHECK (length(credentials) > 29),
    calcom_event_type_id bigint CHECK (calcom_event_type_id > 0),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'broken', 'paused')),
    last_sync_at timestamptz,
    last_full_sync_at timestamptz,
    last_error text CHECK (length(last_error) <= 2000),
    sync_token text,         -- Google syncToken, or Graph deltaLink
    sync_etag text,          -- ICS: the feed's ETag
    sync_last_modified text, -- ICS: the feed's Last-Modified
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, id, resource_id), -- what an event's foreign key names
    FOREIGN KEY (organization_id, resource_id) REFERENCES resources (organization_id, id),
    CHECK (provider <> 'ics' OR direction = 'pull'),
    CHECK (provider = 'calcom' OR calcom_event_type_id IS NULL),
    CHECK (provider <> 'calcom' OR direction = 'pull' OR calcom_event_type_id IS NOT NULL)
);
CREATE INDEX calendar_connections_resource ON calendar_connections (organization_id, resource_id)
    WHERE deleted_at IS NULL;

CREATE TABLE external_busy_events (
    organization_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    connection_id uuid NOT NULL,
    resource_id uuid NOT NULL,
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 1024),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    all_day boolean NOT NULL DEFAULT false,
    busy boolean NOT NULL DEFAULT true,
    summary text CHECK (length(summary) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, connection_id, external_id),
    -- an event belongs to its connection's resource, whatever wrote it
    FOREIGN KEY (organization_id, connection_id, resource_id)
        REFERENCES calendar_connections (organization_id, id, resource_id),
    CHECK (ends_at > starts_at),
    CHECK (isfinite(starts_at) AND isfinite(ends_at))
);
-- What the index loads with every resource, answered from the index alone once vacuumed.
CREATE INDEX external_busy_events_load ON external_busy_events (organization_id, resource_id)
    INCLUDE (starts_at, ends_at, id, connection_id) WHERE busy;

-- One notification per resource a statement changed events of:
-- {"table":"external_busy_events","organization_id","op","resource_id"}.
CREATE FUNCTION slotd_announce_external_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR r IN SELECT DISTINCT organization_id, resource_id FROM changed_new LOOP
            PERFORM pg_notify('slotd_changes', jsonb_build_object(
                'table', TG_TABLE_NAME, 'organization_id', r.organization_id,
                'op', 'insert', 'resource_id', r.resource_id)::text);
        END LOOP;
    ELSIF TG_OP = 'UPDATE' THEN
        FOR r IN SELECT organization_id, resource_id FROM changed_new
                 UNION SELECT organization_id, resource_id FROM changed_old LOOP
            PERFORM pg_notify('slotd_changes', jsonb_build_object(
                'table', TG_TABLE_NAME, 'organization_id', r.organization_id,
                'op', 'update', 'resource_id', r.resource_id)::text);
        END LOOP;
    ELSE
        FOR r IN SELECT DISTINCT organization_id, resource_id FROM changed_old LOOP
            PERFORM pg_notify('slotd_changes', jsonb_build_object(
                'table', TG_TABLE_NAME, 'organization_id', r.organization_id,
                'op', 'delete', 'resource_id', r.resource_id)::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER external_busy_events_announce_insert AFTER INSERT ON external_busy_events
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION slotd_announce_external_events();
CREATE TRIGGER external_busy_events_announce_update AFTER UPDATE ON external_busy_events
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION slotd_announce_external_events();
CREATE TRIGGER external_busy_events_announce_delete AFTER DELETE ON external_busy_events
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION slotd_announce_external_events();

-- A connection's own changes: {"table":"calendar_connections","organization_id","op",
-- "id","resource_id"} (its credentials never leave the row).
CREATE FUNCTION slotd_announce_connection() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    PERFORM pg_notify('slotd_changes', jsonb_build_object(
        'table', TG_TABLE_NAME, 'organization_id', r.organization_id, 'op', lower(TG_OP),
        'id', r.id, 'resource_id', r.resource_id)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER calendar_connections_announce AFTER INSERT OR UPDATE OR DELETE
    ON calendar_connections FOR EACH ROW EXECUTE FUNCTION slotd_announce_connection();

CREATE TRIGGER calendar_connections_touch BEFORE UPDATE ON calendar_connections
    FOR EACH ROW EXECUTE FUNCTION slotd_touch();
CREATE TRIGGER external_busy_events_touch BEFORE UPDATE ON external_busy_events
    FOR EACH ROW EXECUTE FUNCTION slotd_touch();
