-- iCalendar out: the feed tokens of resources, a resource's feed and one
-- booking's invitation. Instants travel as epoch seconds. A booking's
-- SEQUENCE is its audit rows less one: every change of it (reschedule,
-- status, notes, cancel) writes exactly one audit row, its creation the first.

-- name: feed_token_set
-- Sets the feed token of resource $2 to the hash $3 (bytea text), replacing
-- the one before. No row when the resource is not a live one of organization $1.
INSERT INTO feed_tokens (organization_id, resource_id, token_hash)
SELECT r.organization_id, r.id, $3::bytea
  FROM resources r
 WHERE r.organization_id = $1 AND r.id = $2 AND r.deleted_at IS NULL
ON CONFLICT (organization_id, resource_id)
DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()
RETURNING resource_id

-- name: feed_bookings
-- The feed of resource $1 whose token hashes to $2 (bytea text): its
-- organization, the resource's name, then (NULL when it has none) each
-- booking holding it that is not cancelled and ends after $3 (epoch): id,
-- start, end, the service's name, the customer's name, notes, status, updated
-- (epoch) and sequence, by start and id. No row: no such token, or no such
-- live resource.
SELECT t.organization_id, r.name, b.id, extract(epoch FROM b.starts_at)::bigint,
       extract(epoch FROM b.ends_at)::bigint, s.name, u.name, b.notes, b.status,
       extract(epoch FROM b.updated_at)::bigint,
       (SELECT count(*) - 1 FROM booking_audit a
         WHERE a.organization_id = b.organization_id AND a.booking_id = b.id)
  FROM feed_tokens t
  JOIN resources r ON r.organization_id = t.organization_id AND r.id = t.resource_id
       AND r.deleted_at IS NULL
  LEFT JOIN bookings b ON b.organization_id = t.organization_id AND b.status <> 'cancelled'
       AND b.ends_at > to_timestamp($3::bigint)
       AND EXISTS (SELECT 1 FROM occupancy c
                    WHERE c.organization_id = b.organization_id AND c.booking_id = b.id
                      AND c.resource_id = t.resource_id)
  LEFT JOIN services s ON s.organization_id = b.organization_id AND s.id = b.service_id
  LEFT JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
 WHERE t.resource_id = $1 AND t.token_hash = $2::bytea
 ORDER BY b.starts_at, b.id

-- name: booking_invitation
-- Booking $2 as an invitation: id, status, start, end (epoch), the service's
-- name, the customer's name, phone and email, notes, updated (epoch),
-- sequence, the organization's name, and the address of the location of its
-- first resource (by id) that has one. No row: no such booking.
SELECT b.id, b.status, extract(epoch FROM b.starts_at)::bigint,
       extract(epoch FROM b.ends_at)::bigint, s.name, u.name, u.phone, u.email, b.notes,
       extract(epoch FROM b.updated_at)::bigint,
       (SELECT count(*) - 1 FROM booking_audit a
         WHERE a.organization_id = b.organization_id AND a.booking_id = b.id),
       o.name,
       (SELECT l.address FROM occupancy c
          JOIN resources r ON r.organization_id = c.organization_id AND r.id = c.resource_id
          JOIN locations l ON l.organization_id = r.organization_id AND l.id = r.location_id
         WHERE c.organization_id = b.organization_id AND c.booking_id = b.id
           AND l.address IS NOT NULL
         ORDER BY c.resource_id LIMIT 1)
  FROM bookings b
  JOIN services s ON s.organization_id = b.organization_id AND s.id = b.service_id
  JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
  JOIN organizations o ON o.id = b.organization_id
 WHERE b.organization_id = $1 AND b.id = $2
