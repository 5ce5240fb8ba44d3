/*
 * Which addresses outbound webhooks may reach: not loopback, link-local,
 * private (RFC 1918, IPv6 unique local), unspecified, CGNAT shared, multicast
 * or reserved ones, nor an IPv4 address written as IPv6 (mapped or
 * compatible) that is one of those. Endpoint URLs are checked against it when
 * they are set, and every connection a delivery opens is checked again
 * (io_http_request_options_t.public_only), so a name that resolves elsewhere
 * later reaches nothing private.
 */
#ifndef SLOTD_IO_ADDRESS_H
#define SLOTD_IO_ADDRESS_H

#include <stdbool.h>
#include <sys/socket.h>

/** Whether `address` (AF_INET or AF_INET6; any other family is not public) is public. */
bool io_address_public(const struct sockaddr *address);

#endif
