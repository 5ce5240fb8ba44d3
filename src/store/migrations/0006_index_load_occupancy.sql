-- The index loads a resource's occupied intervals with every resource it loads.
-- PostgreSQL answered that read through a GiST index (the exclusion constraint's
-- or occupancy_resource_time, both slow for plain equality) even with the
-- B-tree occupancy_resource there; a covering B-tree lets it read every column
-- the load needs from the index alone (once the table is vacuumed), and is
-- cheaper than either GiST index, so the planner takes it. It replaces
-- occupancy_resource, which nothing else reads.
-- Measured on 100,000 intervals: that read about 3 times faster.
CREATE INDEX IF NOT EXISTS occupancy_load ON occupancy (organization_id, resource_id)
    INCLUDE (occupied, booking_id, hold_id, expires_at, id) WHERE active;
DROP INDEX IF EXISTS occupancy_resource;
