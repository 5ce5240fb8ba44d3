/*
 * The typed store of iCalendar out (see feeds.h). The SQL is in
 * sql/feeds.sql; this file alone knows its parameter positions and result
 * columns. A token is hashed with SHA-256 (OpenSSL EVP) before it reaches
 * the database, which never sees the token itself.
 */
#include "store/feeds.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "slotd/alloc.h"
#include "slotd/codec.h"

void store_feed_token_generate(char *token)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t secret[STORE_FEED_TOKEN_LENGTH / 2];
    if (RAND_bytes(secret, sizeof(secret)) != 1) {
        fputs("slotd: no randomness for a feed token\n", stderr);
        abort();
    }
    for (size_t i = 0; i < sizeof(secret); i++) {
        token[2 * i] = hex[secret[i] >> 4];
        token[2 * i + 1] = hex[secret[i] & 15];
    }
    token[STORE_FEED_TOKEN_LENGTH] = 0;
}

/* The token's SHA-256 as PostgreSQL's bytea text, "\\x" and 64 hex digits (67 bytes). */
static void token_hash_text(const char *token, size_t length, char *text)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(token, length, hash, &size, EVP_sha256(), NULL) != 1 || size != 32) {
        fputs("slotd: SHA-256 failed\n", stderr);
        abort();
    }
    text[0] = '\\';
    text[1] = 'x';
    for (unsigned i = 0; i < size; i++) {
        text[2 + 2 * i] = hex[hash[i] >> 4];
        text[3 + 2 * i] = hex[hash[i] & 15];
    }
    text[2 + 2 * size] = 0;
}

static void on_token_set(store_operation_t *operation, const PGresult *res, int error)
{
    store_feed_token_cb cb = (store_feed_token_cb)operation->callback;
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    cb(error, operation->arg);
}

store_operation_t *store_feed_token_set(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *resource, const char *token,
                                        store_feed_token_cb cb, void *arg)
{
    char org[37], id[37], hash[67];
    codec_format_uuid(organization, org);
    codec_format_uuid(resource, id);
    token_hash_text(token, strlen(token), hash);
    const char *values[3] = {org, id, hash};
    return store_operation_start(pool, "feed_token_set", 3, values, on_token_set,
                                 (void (*)(void))cb, arg);
}

static int64_t int_at(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The columns of feed_bookings. */
enum {
    FEED_ORGANIZATION,
    FEED_RESOURCE_NAME,
    FEED_ID,
    FEED_START,
    FEED_END,
    FEED_SERVICE,
    FEED_CUSTOMER,
    FEED_NOTES,
    FEED_STATUS,
    FEED_UPDATED,
    FEED_SEQUENCE
};

static void on_feed(store_operation_t *operation, const PGresult *res, int error)
{
    store_feed_cb cb = (store_feed_cb)operation->callback;
    int rows = error ? 0 : PQntuples(res);
    if (!error && rows == 0)
        error = STORE_ENOTFOUND;
    store_feed_t feed = {0};
    store_feed_booking_t *items = slotd_calloc(rows ? (size_t)rows : 1, sizeof(*items));
    if (!error && codec_parse_uuid(PQgetvalue(res, 0, FEED_ORGANIZATION), &feed.organization))
        error = STORE_EINTERNAL;
    for (int row = 0; row < rows && !error; row++) {
        if (PQgetisnull(res, row, FEED_ID))
            continue; /* a resource without bookings */
        store_feed_booking_t *b = &items[feed.count++];
        if (codec_parse_uuid(PQgetvalue(res, row, FEED_ID), &b->id) != 0) {
            log_error("store_unreadable_row", "table", "bookings", NULL);
            error = STORE_EINTERNAL;
            break;
        }
        b->start = int_at(res, row, FEED_START);
        b->end = int_at(res, row, FEED_END);
        b->service_name = PQgetvalue(res, row, FEED_SERVICE);
        b->customer_name = PQgetvalue(res, row, FEED_CUSTOMER);
        b->notes = store_nullable(res, row, FEED_NOTES);
        b->status = PQgetvalue(res, row, FEED_STATUS);
        b->updated_at = int_at(res, row, FEED_UPDATED);
        b->sequence = int_at(res, row, FEED_SEQUENCE);
    }
    if (!error) {
        feed.resource_name = PQgetvalue(res, 0, FEED_RESOURCE_NAME);
        feed.bookings = items;
    }
    cb(error, error ? NULL : &feed, operation->arg);
    free(items);
}

store_operation_t *store_feed_get(store_pool_t *pool, const eng_id_t *resource, const char *token,
                                  size_t token_length, int64_t since, store_feed_cb cb, void *arg)
{
    char id[37], hash[67], from[24];
    codec_format_uuid(resource, id);
    token_hash_text(token, token_length, hash);
    snprintf(from, sizeof(from), "%lld", (long long)since);
    const char *values[3] = {id, hash, from};
    return store_operation_start(pool, "feed_bookings", 3, values, on_feed, (void (*)(void))cb,
                                 arg);
}

/* The columns of booking_invitation. */
enum {
    INV_ID,
    INV_STATUS,
    INV_START,
    INV_END,
    INV_SERVICE,
    INV_CUSTOMER,
    INV_PHONE,
    INV_EMAIL,
    INV_NOTES,
    INV_UPDATED,
    INV_SEQUENCE,
    INV_ORGANIZATION,
    INV_ADDRESS
};

static void on_invitation(store_operation_t *operation, const PGresult *res, int error)
{
    store_invitation_cb cb = (store_invitation_cb)operation->callback;
    store_feed_booking_t b = {0};
    if (!error && PQntuples(res) != 1)
        error = STORE_ENOTFOUND;
    if (!error && codec_parse_uuid(PQgetvalue(res, 0, INV_ID), &b.id) != 0)
        error = STORE_EINTERNAL;
    if (!error) {
        b.status = PQgetvalue(res, 0, INV_STATUS);
        b.start = int_at(res, 0, INV_START);
        b.end = int_at(res, 0, INV_END);
        b.service_name = PQgetvalue(res, 0, INV_SERVICE);
        b.customer_name = PQgetvalue(res, 0, INV_CUSTOMER);
        b.customer_phone = store_nullable(res, 0, INV_PHONE);
        b.customer_email = store_nullable(res, 0, INV_EMAIL);
        b.notes = store_nullable(res, 0, INV_NOTES);
        b.updated_at = int_at(res, 0, INV_UPDATED);
        b.sequence = int_at(res, 0, INV_SEQUENCE);
        b.organization_name = PQgetvalue(res, 0, INV_ORGANIZATION);
        b.location_address = store_nullable(res, 0, INV_ADDRESS);
    }
    cb(error, error ? NULL : &b, operation->arg);
}

store_operation_t *store_booking_invitation(store_pool_t *pool, const eng_id_t *organization,
                                            const eng_id_t *booking, store_invitation_cb cb,
                                            void *arg)
{
    char org[37], id[37];
    codec_format_uuid(organization, org);
    codec_format_uuid(booking, id);
    const char *values[2] = {org, id};
    return store_operation_start(pool, "booking_invitation", 2, values, on_invitation,
                                 (void (*)(void))cb, arg);
}
