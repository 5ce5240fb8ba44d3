-- Timestamps that are not finite, and an index for the in-memory index.
--
-- PostgreSQL accepts 'infinity' and '-infinity' in timestamptz columns and
-- unbounded ends in ranges, but no block, hold, booking or occupied interval can
-- end at infinity: the service never writes one, and the in-memory index cannot
-- place one in time. From this migration on the database refuses them in every
-- column the index reads.
--
-- The constraints are added NOT VALID: rows written before (by hand or by
-- another program) are not checked, so this migration never fails on a
-- database that holds some. The index skips such rows when it loads (one log
-- line and the slotd_index_skipped_rows_total counter each), and every other
-- row of the organization loads as usual. Once they are mended or deleted,
-- `ALTER TABLE ... VALIDATE CONSTRAINT ...` makes the constraint cover all rows.

ALTER TABLE blocks ADD CONSTRAINT blocks_finite
    CHECK (isfinite(starts_at) AND isfinite(ends_at) AND isfinite(start_local)
           AND NOT ('infinity'::timestamp = ANY (exdates))
           AND NOT ('-infinity'::timestamp = ANY (exdates))) NOT VALID;

ALTER TABLE holds ADD CONSTRAINT holds_finite
    CHECK (isfinite(starts_at) AND isfinite(ends_at) AND isfinite(expires_at)) NOT VALID;

ALTER TABLE bookings ADD CONSTRAINT bookings_finite
    CHECK (isfinite(starts_at) AND isfinite(ends_at)) NOT VALID;

ALTER TABLE occupancy ADD CONSTRAINT occupancy_finite
    CHECK (NOT lower_inf(occupied) AND NOT upper_inf(occupied)
           AND isfinite(lower(occupied)) AND isfinite(upper(occupied))
           AND isfinite(expires_at)) NOT VALID;

-- The index reads a resource's recurring blocks apart from its one-off blocks;
-- recurring ones are few, and this keeps that read from visiting every block.
CREATE INDEX IF NOT EXISTS blocks_recurring ON blocks (organization_id, resource_id)
    WHERE deleted_at IS NULL AND rrule IS NOT NULL;

-- And a resource's occupied intervals by key (the exclusion constraint's GiST
-- index answers that equality slowly on a large table).
CREATE INDEX IF NOT EXISTS occupancy_resource ON occupancy (organization_id, resource_id) WHERE active;
