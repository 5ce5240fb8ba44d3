/* The route table: method, path, name for logs and metrics, roles, handler. */
#include "http/routes.h"

const http_route_t http_api_routes[] = {
    {"GET", "/v1/organization", "GET /v1/organization", HTTP_ROLE_AGENT, false,
     http_organization_get},
    {"PATCH", "/v1/organization", "PATCH /v1/organization", HTTP_ROLE_AGENT, true,
     http_organization_patch},
};

const size_t http_api_route_count = sizeof(http_api_routes) / sizeof(http_api_routes[0]);
