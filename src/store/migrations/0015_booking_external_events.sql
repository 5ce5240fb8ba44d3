-- A booking carries the events it is in connected calendars
-- ("external_events", after "external_ref"), so the answer the booking
-- statement renders and keeps under an Idempotency-Key names them too, in the
-- same form as GET /v1/bookings/{id} (a new booking is in none yet).
CREATE OR REPLACE FUNCTION slotd_booking_answer(org uuid, booking uuid, zone text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT '{"id":' || to_json(b.id::text)
           || ',"status":' || to_json(b.status)
           || ',"service_id":' || to_json(b.service_id::text)
           || ',"start":' || to_json(slotd_instant(extract(epoch FROM b.starts_at)::bigint, z.zone))
           || ',"end":' || to_json(slotd_instant(extract(epoch FROM b.ends_at)::bigint, z.zone))
           || ',"resource_ids":['
           || coalesce((SELECT string_agg(to_json(c.resource_id::text)::text, ','
                                          ORDER BY c.resource_id)
                          FROM occupancy c
                         WHERE c.organization_id = b.organization_id AND c.booking_id = b.id), '')
           || '],"customer":{"id":' || to_json(u.id::text)
           || ',"name":' || to_json(u.name)
           || ',"phone":' || coalesce(to_json(u.phone)::text, 'null')
           || ',"email":' || coalesce(to_json(u.email)::text, 'null')
           || '},"notes":' || coalesce(to_json(b.notes)::text, 'null')
           || ',"source":' || to_json(b.source)
           || ',"external_ref":' || coalesce(to_json(b.external_ref)::text, 'null')
           || ',"external_events":['
           || coalesce((SELECT string_agg('{"connection_id":' || to_json(e.connection_id::text)
                                          || ',"provider":' || to_json(e.provider)
                                          || ',"external_id":' || to_json(e.external_id) || '}',
                                          ',' ORDER BY e.connection_id)
                          FROM booking_external_events e
                         WHERE e.organization_id = b.organization_id AND e.booking_id = b.id), '')
           || ']'
           || ',"created_at":'
           || to_json(slotd_instant(extract(epoch FROM b.created_at)::bigint, z.zone))
           || ',"updated_at":'
           || to_json(slotd_instant(extract(epoch FROM b.updated_at)::bigint, z.zone)) || '}'
      FROM bookings b
      JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
      JOIN organizations o ON o.id = b.organization_id
      CROSS JOIN LATERAL (SELECT coalesce(slotd_booking_answer.zone, o.timezone) AS zone) z
     WHERE b.organization_id = org AND b.id = slotd_booking_answer.booking);
END $$;
