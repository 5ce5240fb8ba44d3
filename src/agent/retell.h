/*
 * Retell's proof of a request: the X-Retell-Signature header that Retell puts
 * on a custom function's call, checked exactly as the official SDK's
 * `Retell.verify(body, apiKey, signature)` checks it (npm `retell-sdk`
 * 5.66.1, lib/webhook_auth), so that whatever Retell's own verifier accepts
 * is accepted here and nothing else is:
 *
 * - The header is the whole text `v=<digits>,d=<hex>`, nothing around it (no
 *   space, no line end), the letters `v` and `d` in either case (the SDK's
 *   pattern is case-insensitive).
 * - `<digits>` is the timestamp in milliseconds since 1970, ASCII digits only
 *   (leading zeros allowed), at most 2^53 - 1 (the SDK wants a safe integer).
 * - `<hex>` is exactly 64 hex digits, either case: the HMAC-SHA256 keyed with
 *   the API key's bytes over the body's bytes followed by the timestamp
 *   written in decimal without leading zeros (the SDK appends the parsed
 *   number, not the header's digits).
 * - The timestamp is at most 5 minutes (300000 ms, inclusive) from now, in
 *   either direction: a stale header and one from the future alike are
 *   refused.
 * - An empty API key is refused (the SDK's Web Crypto refuses a zero-length
 *   HMAC key, so its verify never answers true).
 *
 * The body is the raw request body as received; the SDK signs the UTF-8 of
 * a JavaScript string, which is the same bytes for any valid UTF-8 body.
 * The digest is compared in constant time (CRYPTO_memcmp). Pure: no I/O, no
 * clock (now is the caller's), no allocation, thread-safe.
 */
#ifndef SLOTD_AGENT_RETELL_H
#define SLOTD_AGENT_RETELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** How far a signature's timestamp may be from now, either way (Retell's SDK: 5 minutes). */
#define RETELL_SIGNATURE_TOLERANCE_MS (5 * 60 * 1000)

/**
 * True when `header` (`header_length` bytes, the X-Retell-Signature value
 * as received; need not be NUL-terminated) proves `body` (`length` bytes;
 * NULL only when 0) under `api_key` (NUL-terminated, the organization's
 * Retell API key) at `now_ms` (milliseconds since 1970, UTC). False for
 * anything else, including NULL `api_key` or `header`. Borrows everything,
 * keeps nothing.
 */
bool retell_signature_valid(const char *api_key, const char *body, size_t length,
                            const char *header, size_t header_length, int64_t now_ms);

#endif
