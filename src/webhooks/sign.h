/*
 * Standard Webhooks signatures: "v1," and the base64 of the HMAC-SHA256 of
 * "{webhook-id}.{webhook-timestamp}.{body}", keyed with the bytes that the
 * endpoint's secret ("whsec_" and base64) encodes.
 */
#ifndef SLOTD_WEBHOOKS_SIGN_H
#define SLOTD_WEBHOOKS_SIGN_H

#include <stddef.h>
#include <stdint.h>

/** "v1," and 44 characters of base64, and a NUL. */
#define WEBHOOK_SIGNATURE_SIZE (3 + 44 + 1)

/** Signs into `signature`; 0, or -1 when `secret` is not "whsec_" and base64. */
int webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                 size_t body_length, char *signature);

#endif
