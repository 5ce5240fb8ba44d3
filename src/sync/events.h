/*
 * Calendar events as the providers send them, read into one form: what each
 * external event does to a resource's availability.
 *
 * A page of a provider's listing (Google Calendar events.list, Microsoft Graph
 * calendarView/delta, Cal.com v2 bookings) becomes a list of sync_event_t and
 * the provider's paging state. The rules of what is busy are here, in one
 * place (docs/sync.md):
 *
 * - Google: busy unless the event is cancelled, transparent ("Available"), a
 *   working-location marker, or declined by the calendar's owner (the
 *   attendee marked `self`).
 * - Microsoft Graph: busy unless removed (`@removed`: deleted or moved out of
 *   the window), cancelled, shown as free, or declined by the owner.
 * - Cal.com: busy while accepted or pending; cancelled and rejected ones are not.
 *
 * All-day events block whole local days: [midnight of the first day, midnight
 * after the last) in the event's own zone (Google: the event's timeZone, else
 * the calendar's; Graph: the event's originalStartTimeZone when it names an
 * IANA zone), else in the zone the caller gives (the resource's). Events that
 * slotd pushed itself carry its booking id (Google: the private extended
 * property `slotdBookingId`; Graph: a transactionId starting "slotd-"; Cal.com:
 * metadata `slotd_booking_id`) and are marked `ours`: they are never foreign
 * busy time. An event whose times cannot be read, or lie outside the supported
 * range, is skipped and counted, never guessed.
 */
#ifndef SLOTD_SYNC_EVENTS_H
#define SLOTD_SYNC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotd/tz.h"

/** SYNC_ICS: a feed, read by feed.h and ics.h rather than as pages of a listing. */
typedef enum { SYNC_GOOGLE, SYNC_MICROSOFT, SYNC_CALCOM, SYNC_ICS } sync_provider_t;
#define SYNC_PROVIDERS 4

/** The provider of a connection's stored `provider` name ("google", "microsoft", "calcom",
 *  "ics"). */
sync_provider_t sync_provider_named(const char *name);

/** Longest provider event id kept (Google allows 1024 characters). */
#define SYNC_EVENT_ID_MAX 1024
/** Longest summary kept, in bytes (longer ones are cut at a character boundary). */
#define SYNC_SUMMARY_MAX 500

typedef struct {
    char *id;      /**< the provider's event id (Cal.com: the booking uid) */
    bool removed;  /**< deleted, or moved out of the synced window: forget it */
    bool busy;     /**< makes the resource busy (false: free, transparent, cancelled, declined) */
    bool ours;     /**< pushed by slotd: never foreign busy time */
    bool all_day;  /**< start and end are local midnights */
    int64_t start; /**< instants; unset (0) when removed */
    int64_t end;
    char *summary;    /**< the title, or NULL */
    char *booking_id; /**< ours: the slotd booking it was pushed for, or NULL */
} sync_event_t;

typedef struct {
    sync_event_t *events;
    size_t count;
    size_t skipped;   /**< events left out: unreadable times, out of range, no id */
    char *next_page;  /**< Google nextPageToken, Graph @odata.nextLink, Cal.com next skip */
    char *sync_state; /**< Google nextSyncToken, Graph @odata.deltaLink (last page only) */
} sync_page_t;

/**
 * Reads one page of a provider's listing. `zone` is where all-day events fall
 * when the event names no zone of its own (the resource's zone). Returns 0, or
 * -1 with a message in `error` when the body is not such a page (not JSON, or
 * without its list).
 */
int sync_page_parse(sync_provider_t provider, const char *body, size_t length, tz_zone_t *zone,
                    sync_page_t *page, char *error, size_t error_size);

void sync_page_free(sync_page_t *page);

/** A copy of at most `max` bytes of `text`, cut at a UTF-8 character's start (NULL: NULL;
 *  caller frees). */
char *sync_text_cut(const char *text, size_t max);

/** An instant as the providers take it, in UTC: "YYYY-MM-DDTHH:MM:SSZ", or with `offset` false
 *  the wall time alone (Graph, with "timeZone":"UTC"). `out` holds CODEC_INSTANT_MAX bytes. */
void sync_utc_text(int64_t instant, bool offset, char *out);

#endif
