-- Fewer index entries written per booking, the same queries served.
--
-- occupancy_resource_time was the very index the exclusion constraint already
-- keeps (GiST on organization, resource and range, active rows): every row of
-- occupancy was inserted into two identical GiST indexes, the costliest entries
-- a booking writes. The constraint's index serves every query the other did.
--
-- occupancy_booking and occupancy_hold indexed every row, though each row is a
-- booking's or a hold's and is looked up only by the one it belongs to (an
-- equality, which the planner knows excludes NULL): each is now partial, so a
-- booking's row enters the first alone and a hold's the second alone.
--
-- idempotency_age (organization, creation) was read by no statement: a key is
-- found by its primary key, and the sweep reads idempotency_created.
DROP INDEX occupancy_resource_time;
DROP INDEX idempotency_age;

CREATE INDEX occupancy_booking_rows ON occupancy (organization_id, booking_id)
    WHERE booking_id IS NOT NULL;
DROP INDEX occupancy_booking;
ALTER INDEX occupancy_booking_rows RENAME TO occupancy_booking;

CREATE INDEX occupancy_hold_rows ON occupancy (organization_id, hold_id)
    WHERE hold_id IS NOT NULL;
DROP INDEX occupancy_hold;
ALTER INDEX occupancy_hold_rows RENAME TO occupancy_hold;
