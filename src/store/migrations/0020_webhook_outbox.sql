-- Outbound webhooks: an organization's endpoints, the messages waiting for
-- each (its outbox), and the log of every delivery attempt.
--
-- A message is written in the transaction of the change it tells of: a
-- booking's creation, move, cancellation or other change (status, notes), a
-- connection becoming broken. Its body is rendered then, as the API renders
-- the booking or connection, so a retry sends the same bytes under the same
-- webhook-id. A booking's reminders are messages too, one per endpoint that
-- takes booking.reminder and per offset of the organization, due at the
-- booking's start minus the offset (made anew for every upcoming booking when the
-- offsets or the endpoints taking reminders change): their body is rendered
-- when first claimed (then kept, so that a retry sends the same bytes); a
-- move replaces them, a cancellation deletes them, and since they are rows a
-- restart loses none and a sent one is never sent again.
--
-- Delivery is in order per endpoint: only an endpoint's first undone message
-- (by due time, then id) is ever tried, so a message being retried holds the
-- later ones back. The messages of a disabled endpoint wait (its reminders are
-- dropped, and made again for the bookings still ahead when it is active
-- again); a deleted endpoint's are given up.

CREATE TABLE webhook_endpoints (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    url text NOT NULL CHECK (length(url) BETWEEN 10 AND 2048),
    events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 6),
    description text CHECK (length(description) <= 500),
    secret bytea NOT NULL, -- sealed by the service under its secret_key
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason text CHECK (length(disabled_reason) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (organization_id, id)
);
CREATE TRIGGER webhook_endpoints_touch BEFORE UPDATE ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION slotd_touch();

CREATE TABLE webhook_messages (
    organization_id uuid NOT NULL,
    id bigserial,
    endpoint_id uuid NOT NULL,
    event_id text NOT NULL, -- the webhook-id header, the same on every attempt
    type text NOT NULL,
    body text,              -- NULL: a reminder not yet claimed, rendered then
    booking_id uuid,        -- reminders: of which booking, at which offset
    offset_minutes integer,
    due_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    claimed_until timestamptz,
    done_at timestamptz,
    failed_at timestamptz, -- given up after the last retry
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, endpoint_id) REFERENCES webhook_endpoints (organization_id, id),
    CHECK (body IS NOT NULL OR type = 'booking.reminder'),
    CHECK ((booking_id IS NOT NULL AND offset_minutes IS NOT NULL) = (type = 'booking.reminder'))
);
CREATE INDEX webhook_messages_waiting ON webhook_messages (organization_id, endpoint_id, due_at, id)
    WHERE done_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_messages_reminders ON webhook_messages (organization_id, booking_id)
    WHERE booking_id IS NOT NULL AND done_at IS NULL AND failed_at IS NULL;

CREATE TABLE webhook_deliveries (
    organization_id uuid NOT NULL,
    id bigserial,
    endpoint_id uuid NOT NULL,
    message_id bigint NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    status_code integer,        -- NULL: no answer
    error text CHECK (length(error) <= 500),
    duration_ms integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, endpoint_id) REFERENCES webhook_endpoints (organization_id, id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (organization_id, endpoint_id, id);

-- An endpoint as the API shows it.
CREATE FUNCTION slotd_webhook_endpoint_answer(e webhook_endpoints) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', e.id, 'url', e.url, 'events', to_json(e.events), 'description', e.description,
        'status', e.status, 'disabled_reason', e.disabled_reason,
        'created_at', slotd_instant(extract(epoch FROM e.created_at)::bigint, 'UTC'),
        'updated_at', slotd_instant(extract(epoch FROM e.updated_at)::bigint, 'UTC'))::text
$$;

-- A message of `kind` for every live, active endpoint of the organization that takes it.
CREATE FUNCTION slotd_webhook_send(org uuid, kind text, data text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_messages (organization_id, endpoint_id, event_id, type, body)
    SELECT org, e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), kind,
           '{"type":' || to_json(kind)
           || ',"timestamp":' || to_json(slotd_instant(extract(epoch FROM now())::bigint, 'UTC'))
           || ',"data":' || data || '}'
      FROM webhook_endpoints e
     WHERE e.organization_id = org AND e.deleted_at IS NULL AND e.status = 'active'
       AND kind = ANY (e.events);
END $$;

-- A booking's reminders: the waiting ones go, and new ones come for an active booking, at
-- each offset whose time is still ahead.
CREATE FUNCTION slotd_webhook_reminders(org uuid, booking uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM webhook_messages
     WHERE organization_id = org AND booking_id = booking AND done_at IS NULL
       AND failed_at IS NULL AND attempts = 0
       AND (claimed_until IS NULL OR claimed_until <= now());
    INSERT INTO webhook_messages (organization_id, endpoint_id, event_id, type, booking_id,
                                  offset_minutes, due_at, next_attempt_at)
    SELECT org, e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), 'booking.reminder',
           b.id, m.offset_minutes, b.starts_at - make_interval(mins => m.offset_minutes),
           b.starts_at - make_interval(mins => m.offset_minutes)
      FROM bookings b
      JOIN organizations o ON o.id = b.organization_id
      CROSS JOIN LATERAL unnest(o.reminder_offsets_minutes) AS m(offset_minutes)
      JOIN webhook_endpoints e ON e.organization_id = b.organization_id
       AND e.deleted_at IS NULL AND e.status = 'active' AND 'booking.reminder' = ANY (e.events)
     WHERE b.organization_id = org AND b.id = booking AND b.status IN ('pending', 'confirmed')
       AND b.starts_at - make_interval(mins => m.offset_minutes) > now();
END $$;

-- Every upcoming active booking's reminders of an organization, anew: when its offsets
-- change, or an endpoint that takes booking.reminder comes, changes or goes.
CREATE FUNCTION slotd_webhook_reminders_all(org uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT id FROM bookings
              WHERE organization_id = org AND status IN ('pending', 'confirmed')
                AND starts_at > now() LOOP
        PERFORM slotd_webhook_reminders(org, b.id);
    END LOOP;
END $$;

CREATE FUNCTION slotd_webhook_reminders_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slotd_webhook_reminders_all(CASE WHEN TG_TABLE_NAME = 'organizations' THEN NEW.id
                                             ELSE NEW.organization_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER organizations_reminders AFTER UPDATE OF reminder_offsets_minutes ON organizations
    FOR EACH ROW WHEN (OLD.reminder_offsets_minutes IS DISTINCT FROM NEW.reminder_offsets_minutes)
    EXECUTE FUNCTION slotd_webhook_reminders_changed();
CREATE TRIGGER webhook_endpoints_reminders_added AFTER INSERT ON webhook_endpoints
    FOR EACH ROW WHEN ('booking.reminder' = ANY (NEW.events))
    EXECUTE FUNCTION slotd_webhook_reminders_changed();
CREATE TRIGGER webhook_endpoints_reminders_changed
    AFTER UPDATE OF events, status, deleted_at ON webhook_endpoints
    FOR EACH ROW WHEN ('booking.reminder' = ANY (NEW.events) OR 'booking.reminder' = ANY (OLD.events))
    EXECUTE FUNCTION slotd_webhook_reminders_changed();

-- At commit, a booking's change becomes its message: created, rescheduled (a new time),
-- cancelled, or updated (status or notes); its reminders follow it.
CREATE FUNCTION slotd_webhook_booking() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'booking.created';
    ELSIF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        kind := 'booking.cancelled';
    ELSIF NEW.starts_at <> OLD.starts_at OR NEW.ends_at <> OLD.ends_at THEN
        kind := 'booking.rescheduled';
    ELSIF NEW.status <> OLD.status OR NEW.notes IS DISTINCT FROM OLD.notes THEN
        kind := 'booking.updated';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM slotd_webhook_send(NEW.organization_id, kind,
                               slotd_booking_answer(NEW.organization_id, NEW.id, NULL));
    IF TG_OP = 'INSERT' OR kind <> 'booking.updated' OR NEW.status <> OLD.status THEN
        PERFORM slotd_webhook_reminders(NEW.organization_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER bookings_webhooks AFTER INSERT OR UPDATE ON bookings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slotd_webhook_booking();

-- A connection becoming broken, rendered as GET /v1/calendar-connections/{id} renders it (its
-- instants in the organization's zone).
CREATE FUNCTION slotd_webhook_connection() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    IF NEW.status = 'broken' AND OLD.status <> 'broken' AND NEW.deleted_at IS NULL THEN
        SELECT timezone INTO zone FROM organizations WHERE id = NEW.organization_id;
        PERFORM slotd_webhook_send(NEW.organization_id, 'calendar_connection.broken',
            json_build_object(
                'id', NEW.id, 'resource_id', NEW.resource_id, 'provider', NEW.provider,
                'direction', NEW.direction, 'calendar_id', NEW.calendar_id,
                'status', NEW.status,
                'last_sync_at', slotd_instant(extract(epoch FROM NEW.last_sync_at)::bigint, zone),
                'last_full_sync_at',
                slotd_instant(extract(epoch FROM NEW.last_full_sync_at)::bigint, zone),
                'last_error', NEW.last_error,
                'calcom', CASE WHEN NEW.provider = 'calcom'
                               THEN json_build_object('event_type_id', NEW.calcom_event_type_id)
                          END,
                'busy_events', (SELECT count(*) FROM external_busy_events x
                                 WHERE x.organization_id = NEW.organization_id
                                   AND x.connection_id = NEW.id AND x.busy),
                'created_at', slotd_instant(extract(epoch FROM NEW.created_at)::bigint, zone),
                'updated_at', slotd_instant(extract(epoch FROM NEW.updated_at)::bigint, zone)
            )::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER calendar_connections_webhooks AFTER UPDATE OF status ON calendar_connections
    FOR EACH ROW EXECUTE FUNCTION slotd_webhook_connection();
