-- One outbox for everything that leaves (today: bookings pushed to calendars).
--
-- A row says "booking B changed, calendar connection C must hear of it". It is
-- written by a trigger on occupancy, so in the very transaction that changes
-- the booking: a rolled-back change sends nothing, and a committed one is
-- never lost. The worker that delivers it reads the booking as it is then and
-- makes the calendar agree (create, move or delete the event), so a row may be
-- delivered more than once and rows of one booking and connection are taken in
-- order (the earliest undone one first); a later row finds the calendar
-- already right and changes nothing more.
CREATE TABLE outbox (
    organization_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL CHECK (kind IN ('calendar_push')),
    connection_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    done_at timestamptz,
    last_error text CHECK (length(last_error) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE done_at IS NULL;
CREATE INDEX outbox_event ON outbox (organization_id, connection_id, booking_id, id)
    WHERE done_at IS NULL;
CREATE TRIGGER outbox_touch BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION slotd_touch();

-- What a booking is in a connected calendar: the provider's event id (Google:
-- the id slotd chose; Graph: the id it gave; Cal.com: the booking uid), and the
-- start it was given there (a Cal.com booking moves by rescheduling).
CREATE TABLE booking_external_events (
    organization_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    provider text NOT NULL,
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 1024),
    starts_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, booking_id, connection_id),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id)
);
CREATE TRIGGER booking_external_events_touch BEFORE UPDATE ON booking_external_events
    FOR EACH ROW EXECUTE FUNCTION slotd_touch();

-- A booking's occupancy appearing, going or changing tells every connection of
-- that resource that pushes (push or both, active) to catch up; a row already
-- waiting for the same booking and connection (not yet taken) is enough.
CREATE FUNCTION slotd_outbox_push() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF r.booking_id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO outbox (organization_id, kind, connection_id, booking_id)
    SELECT r.organization_id, 'calendar_push', c.id, r.booking_id
      FROM calendar_connections c
     WHERE c.organization_id = r.organization_id AND c.resource_id = r.resource_id
       AND c.deleted_at IS NULL AND c.status = 'active' AND c.direction <> 'pull'
       AND c.provider <> 'ics'
       AND NOT EXISTS (SELECT 1 FROM outbox o
                        WHERE o.organization_id = r.organization_id AND o.connection_id = c.id
                          AND o.booking_id = r.booking_id AND o.done_at IS NULL
                          AND o.claimed_until IS NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER occupancy_outbox AFTER INSERT OR DELETE ON occupancy
    FOR EACH ROW EXECUTE FUNCTION slotd_outbox_push();
CREATE TRIGGER occupancy_outbox_change AFTER UPDATE ON occupancy
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active
                       OR OLD.occupied IS DISTINCT FROM NEW.occupied)
    EXECUTE FUNCTION slotd_outbox_push();
