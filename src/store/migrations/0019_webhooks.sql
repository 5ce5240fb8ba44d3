-- Outbound webhooks, and two settings of the organization they and the voice
-- tools need.
--
-- organizations.language is the language of the voice tools' spoken answers;
-- reminder_offsets_minutes the offsets before an active booking's start at
-- which booking.reminder is sent (none by default).
ALTER TABLE organizations
    ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es', 'pl', 'de')),
    ADD COLUMN reminder_offsets_minutes integer[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(reminder_offsets_minutes) <= 10
               AND 0 < ALL (reminder_offsets_minutes)
               AND 525600 >= ALL (reminder_offsets_minutes));
