-- Occupancy carries its booking's or hold's own times, so the index loads busy
-- time from one table.
--
-- The index needs, for every occupied interval, the unpadded start and end (the
-- padding is the service's buffers) and, for a booking, when it was created
-- (the resource pick rule). They lived only on bookings and holds: a load
-- looked up one booking per interval, about half of PostgreSQL's time per page
-- of a large load. From here on every occupancy row holds them too, written by
-- the statements that write occupancy (src/store/sql/bookings.sql), and the
-- load index covers them.
--
-- A row written by another program without them gets them from its booking or
-- hold (the trigger below); rows written before this migration are filled
-- here. Filling them changes nothing any slotd shows (the index read the same
-- values through the booking), so the triggers that announce and touch rows
-- are off while it runs.

ALTER TABLE occupancy
    ADD COLUMN IF NOT EXISTS starts_at timestamptz,
    ADD COLUMN IF NOT EXISTS ends_at timestamptz,
    ADD COLUMN IF NOT EXISTS booking_created_at timestamptz;

ALTER TABLE occupancy DISABLE TRIGGER occupancy_announce;
ALTER TABLE occupancy DISABLE TRIGGER occupancy_touch;
UPDATE occupancy c
   SET starts_at = b.starts_at, ends_at = b.ends_at, booking_created_at = b.created_at
  FROM bookings b
 WHERE b.organization_id = c.organization_id AND b.id = c.booking_id AND c.starts_at IS NULL;
UPDATE occupancy c
   SET starts_at = h.starts_at, ends_at = h.ends_at
  FROM holds h
 WHERE h.organization_id = c.organization_id AND h.id = c.hold_id AND c.starts_at IS NULL;
ALTER TABLE occupancy ENABLE TRIGGER occupancy_announce;
ALTER TABLE occupancy ENABLE TRIGGER occupancy_touch;

CREATE FUNCTION slotd_occupancy_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.starts_at IS NULL AND NEW.booking_id IS NOT NULL THEN
        SELECT starts_at, ends_at, created_at
          INTO NEW.starts_at, NEW.ends_at, NEW.booking_created_at
          FROM bookings WHERE organization_id = NEW.organization_id AND id = NEW.booking_id;
    ELSIF NEW.starts_at IS NULL AND NEW.hold_id IS NOT NULL THEN
        SELECT starts_at, ends_at INTO NEW.starts_at, NEW.ends_at
          FROM holds WHERE organization_id = NEW.organization_id AND id = NEW.hold_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER occupancy_times BEFORE INSERT ON occupancy
    FOR EACH ROW EXECUTE FUNCTION slotd_occupancy_times();

-- The load's covering index (0006), now with the times it reads.
DROP INDEX IF EXISTS occupancy_load;
CREATE INDEX occupancy_load ON occupancy (organization_id, resource_id)
    INCLUDE (occupied, starts_at, ends_at, booking_created_at, booking_id, hold_id, expires_at, id)
    WHERE active;
