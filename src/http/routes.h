/*
 * The API's routes (API.md) and their handlers, one file per resource:
 * routes_organization.c, ...
 */
#ifndef SLOTD_HTTP_ROUTES_H
#define SLOTD_HTTP_ROUTES_H

#include "http/server.h"

extern const http_route_t http_api_routes[];
extern const size_t http_api_route_count;

void http_organization_get(http_ctx_t *ctx);
void http_organization_patch(http_ctx_t *ctx);

#endif
