/*
 * Public and private addresses (see address.h).
 */
#include "io/address.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static bool ipv4_public(const uint8_t a[4])
{
    return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
             (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254) ||
             (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
             (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xfe) == 18));
}

static bool ipv6_public(const uint8_t a[16])
{
    static const uint8_t zeros[12] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, zeros, 12) == 0 || memcmp(a, mapped, 12) == 0)
        return ipv4_public(a + 12);                     /* ::, ::1, IPv4-compatible and -mapped */
    return !((a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 unique local */
             (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
             (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* fec0::/10 site-local */
             a[0] == 0xff ||                            /* multicast */
             (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) ||
             (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b)); /* NAT64 */
}

bool io_address_public(const struct sockaddr *address)
{
    if (address == NULL)
        return false;
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        uint8_t a[4];
        memcpy(a, &in->sin_addr, 4);
        return ipv4_public(a);
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        uint8_t a[16];
        memcpy(a, &in6->sin6_addr, 16);
        return ipv6_public(a);
    }
    return false;
}
