/*
 * Which addresses webhooks may reach (io/address.h): public IPv4 and IPv6
 * ones, never loopback, link-local, private, shared, multicast, unspecified
 * or reserved ones, nor those written as IPv6 (mapped, compatible).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "io/address.h"
#include "test.h"

static bool public_text(const char *text)
{
    struct sockaddr_storage s;
    memset(&s, 0, sizeof(s));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s;
        in6->sin6_family = AF_INET6;
        CHECK(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&s;
        in->sin_family = AF_INET;
        CHECK(inet_pton(AF_INET, text, &in->sin_addr) == 1);
    }
    return io_address_public((const struct sockaddr *)&s);
}

TEST(address_public_and_private)
{
    static const char *const public[] = {"93.184.216.34", "8.8.8.8",         "172.32.0.1",
                                         "100.128.0.1",   "2606:4700::1111", "2001:4860::8888"};
    static const char *const private[] = {"127.0.0.1",
                                          "127.8.9.10",
                                          "10.0.0.1",
                                          "172.16.0.1",
                                          "172.31.255.255",
                                          "192.168.1.1",
                                          "169.254.1.1",
                                          "100.64.0.1",
                                          "0.0.0.0",
                                          "224.0.0.1",
                                          "255.255.255.255",
                                          "198.18.0.1",
                                          "::1",
                                          "::",
                                          "fe80::1",
                                          "fc00::1",
                                          "fd12:3456::1",
                                          "ff02::1",
                                          "::ffff:127.0.0.1",
                                          "::ffff:10.0.0.1",
                                          "64:ff9b::a00:1",
                                          "2001:db8::1"};
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
        CHECK(public_text(public[i]));
    for (size_t i = 0; i < sizeof(private) / sizeof(private[0]); i++)
        CHECK(!public_text(private[i]));
    CHECK(!io_address_public(NULL));
}
