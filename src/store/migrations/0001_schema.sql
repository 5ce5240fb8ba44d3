-- slotd schema, version 1.
--
-- Every table carries organization_id, and every primary, unique and foreign
-- key includes it, so that the schema can be distributed by organization on a
-- sharded PostgreSQL (Citus) without a redesign. Configuration rows are soft
-- deleted (deleted_at); created_at/updated_at are kept by a trigger. Every
-- change that affects availability is announced on the channel
-- `slotd_changes` (NOTIFY, delivered at commit), so that a direct SQL write by
-- another program reaches every slotd's in-memory index too.
--
-- The occupancy table is the final word on double booking: one row per
-- resource held by an active booking or hold, with the padded interval, and an
-- exclusion constraint that no two active rows of one resource overlap.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- ---- helpers ------------------------------------------------------------------

CREATE FUNCTION slotd_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- Announces a change: {"table":..., "organization_id":..., "id":..., "resource_id":...}.
CREATE FUNCTION slotd_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    payload jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    payload := jsonb_build_object('table', TG_TABLE_NAME,
                                  'organization_id', r.organization_id,
                                  'op', lower(TG_OP));
    IF TG_TABLE_NAME IN ('resources', 'locations', 'services', 'bookings', 'holds') THEN
        payload := payload || jsonb_build_object('id', r.id);
    END IF;
    IF TG_TABLE_NAME IN ('resource_overrides', 'blocks', 'occupancy') THEN
        payload := payload || jsonb_build_object('resource_id', r.resource_id);
    END IF;
    IF TG_TABLE_NAME = 'service_requirements' THEN
        payload := payload || jsonb_build_object('id', r.service_id);
    END IF;
    PERFORM pg_notify('slotd_changes', payload::text);
    RETURN NULL;
END $$;

-- ---- organizations and keys ----------------------------------------------------

CREATE TABLE organizations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    organization_id uuid GENERATED ALWAYS AS (id) STORED,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
    business_hours jsonb CHECK (business_hours IS NULL OR jsonb_typeof(business_hours) = 'object'),
    closures date[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (id)
);

-- A key is "sk_<organization id, 32 hex>_<secret>"; only the SHA-256 of the whole
-- key is stored. The organization id in the key finds the row by primary key
-- path (organization_id, key_hash) without a global index.
CREATE TABLE api_keys (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    role text NOT NULL CHECK (role IN ('admin', 'agent', 'sync')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, key_hash)
);

-- ---- locations and resources ----------------------------------------------------

CREATE TABLE locations (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address text CHECK (length(address) <= 500),
    phone text CHECK (length(phone) <= 50),
    timezone text CHECK (length(timezone) BETWEEN 1 AND 64),
    business_hours jsonb CHECK (business_hours IS NULL OR jsonb_typeof(business_hours) = 'object'),
    closures date[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id)
);

CREATE TABLE resources (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('staff', 'room', 'equipment')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    location_id uuid,
    email text CHECK (length(email) <= 320),
    phone text CHECK (length(phone) <= 50),
    timezone text CHECK (length(timezone) BETWEEN 1 AND 64),
    working_hours jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(working_hours) = 'object'),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, location_id) REFERENCES locations (organization_id, id)
);
CREATE INDEX resources_location ON resources (organization_id, location_id);

CREATE TABLE resource_overrides (
    organization_id uuid NOT NULL,
    resource_id uuid NOT NULL,
    day date NOT NULL,
    hours jsonb NOT NULL CHECK (jsonb_typeof(hours) = 'array'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, resource_id, day),
    FOREIGN KEY (organization_id, resource_id) REFERENCES resources (organization_id, id)
);

-- One-off blocks have starts_at/ends_at; recurring ones an RRULE expanded from
-- start_local in the resource's zone.
CREATE TABLE blocks (
    organization_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    resource_id uuid NOT NULL,
    starts_at timestamptz,
    ends_at timestamptz,
    rrule text CHECK (length(rrule) <= 1024),
    start_local timestamp,
    duration_minutes integer CHECK (duration_minutes > 0),
    exdates timestamp[] NOT NULL DEFAULT '{}',
    reason text CHECK (length(reason) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, resource_id) REFERENCES resources (organization_id, id),
    CHECK ((rrule IS NULL AND starts_at IS NOT NULL AND ends_at > starts_at
            AND start_local IS NULL AND duration_minutes IS NULL)
        OR (rrule IS NOT NULL AND start_local IS NOT NULL AND duration_minutes IS NOT NULL
            AND starts_at IS NULL AND ends_at IS NULL))
);
CREATE INDEX blocks_resource ON blocks (organization_id, resource_id) WHERE deleted_at IS NULL;

-- ---- services -------------------------------------------------------------------

CREATE TABLE services (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
    slot_interval_minutes integer CHECK (slot_interval_minutes BETWEEN 1 AND 10080),
    buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
    buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
    min_notice_minutes integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes BETWEEN 0 AND 525600),
    max_advance_days integer CHECK (max_advance_days BETWEEN 0 AND 3660),
    price numeric(12, 2) CHECK (price >= 0),
    currency char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id)
);

-- A service's requirement groups, in order, and their members.
CREATE TABLE service_requirements (
    organization_id uuid NOT NULL,
    service_id uuid NOT NULL,
    position integer NOT NULL CHECK (position BETWEEN 0 AND 7),
    mode text NOT NULL CHECK (mode IN ('any', 'all')),
    resource_ids uuid[] NOT NULL CHECK (cardinality(resource_ids) BETWEEN 1 AND 256),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, service_id, position),
    FOREIGN KEY (organization_id, service_id) REFERENCES services (organization_id, id)
);

-- ---- customers, holds, bookings -----------------------------------------------------

CREATE TABLE customers (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone text CHECK (length(phone) <= 50),
    phone_normalized text CHECK (phone_normalized ~ '^\+?[0-9]{3,20}$'),
    email text CHECK (length(email) <= 320),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, phone_normalized),
    CHECK (phone_normalized IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX customers_email ON customers (organization_id, lower(email));

CREATE TABLE holds (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    service_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    released_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, service_id) REFERENCES services (organization_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX holds_expiry ON holds (organization_id, expires_at) WHERE released_at IS NULL;

CREATE TABLE bookings (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    service_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('pending', 'confirmed', 'completed', 'no_show', 'cancelled')),
    notes text CHECK (length(notes) <= 5000),
    source text NOT NULL DEFAULT 'api' CHECK (source IN ('ai_agent', 'dashboard', 'import', 'api')),
    external_ref text CHECK (length(external_ref) <= 255),
    cancel_reason text CHECK (length(cancel_reason) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, service_id) REFERENCES services (organization_id, id),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX bookings_time ON bookings (organization_id, starts_at);
CREATE INDEX bookings_customer ON bookings (organization_id, customer_id);

-- What holds a resource: an active booking or an unexpired hold, padded with its
-- service's buffers. The exclusion constraint, not the engine, has the last word.
CREATE TABLE occupancy (
    organization_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    resource_id uuid NOT NULL,
    booking_id uuid,
    hold_id uuid,
    occupied tstzrange NOT NULL CHECK (NOT isempty(occupied)),
    active boolean NOT NULL DEFAULT true,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, resource_id) REFERENCES resources (organization_id, id),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id),
    FOREIGN KEY (organization_id, hold_id) REFERENCES holds (organization_id, id),
    CHECK ((booking_id IS NULL) <> (hold_id IS NULL)),
    CHECK (hold_id IS NULL OR expires_at IS NOT NULL),
    EXCLUDE USING gist (organization_id WITH =, resource_id WITH =, occupied WITH &&) WHERE (active)
);
CREATE INDEX occupancy_booking ON occupancy (organization_id, booking_id);
CREATE INDEX occupancy_hold ON occupancy (organization_id, hold_id);
CREATE INDEX occupancy_resource_time ON occupancy USING gist (organization_id, resource_id, occupied)
    WHERE active;

CREATE TABLE idempotency_keys (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status_code integer CHECK (status_code BETWEEN 100 AND 599),
    response text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (organization_id, key)
);
CREATE INDEX idempotency_age ON idempotency_keys (organization_id, created_at);

-- Append-only: who changed which booking, when, from what to what.
CREATE TABLE booking_audit (
    organization_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    booking_id uuid NOT NULL,
    actor text NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'cancel', 'reschedule', 'update', 'import')),
    old_value jsonb,
    new_value jsonb,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id)
);
CREATE INDEX booking_audit_booking ON booking_audit (organization_id, booking_id);

CREATE FUNCTION slotd_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'booking_audit is append-only';
END $$;
CREATE TRIGGER booking_audit_append_only BEFORE UPDATE OR DELETE ON booking_audit
    FOR EACH ROW EXECUTE FUNCTION slotd_append_only();

-- ---- triggers ---------------------------------------------------------------------

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organizations', 'api_keys', 'locations', 'resources',
                             'resource_overrides', 'blocks', 'services', 'service_requirements',
                             'customers', 'holds', 'bookings', 'occupancy', 'idempotency_keys']
    LOOP
        EXECUTE format('CREATE TRIGGER %I_touch BEFORE UPDATE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION slotd_touch()', t, t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['organizations', 'locations', 'resources', 'resource_overrides',
                             'blocks', 'services', 'service_requirements', 'occupancy']
    LOOP
        EXECUTE format('CREATE TRIGGER %I_announce AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION slotd_announce()', t, t);
    END LOOP;
END $$;
