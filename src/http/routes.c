/* The route table: method, path, name for logs and metrics, roles, handler. */
#include "http/routes.h"

const http_route_t http_api_routes[] = {
    {"GET", "/v1/organization", "GET /v1/organization", HTTP_ROLE_AGENT, false,
     http_organization_get},
    {"PATCH", "/v1/organization", "PATCH /v1/organization", HTTP_ROLE_AGENT, true,
     http_organization_patch},
    {"POST", "/v1/resources", "POST /v1/resources", HTTP_ROLE_AGENT, true, http_resources_create},
    {"GET", "/v1/resources", "GET /v1/resources", HTTP_ROLE_AGENT, false, http_resources_list},
    {"GET", "/v1/resources/:id", "GET /v1/resources/{id}", HTTP_ROLE_AGENT, false,
     http_resources_get},
    {"PATCH", "/v1/resources/:id", "PATCH /v1/resources/{id}", HTTP_ROLE_AGENT, true,
     http_resources_patch},
    {"DELETE", "/v1/resources/:id", "DELETE /v1/resources/{id}", HTTP_ROLE_AGENT, true,
     http_resources_delete},
    {"GET", "/v1/resources/:id/overrides", "GET /v1/resources/{id}/overrides", HTTP_ROLE_AGENT,
     false, http_overrides_list},
    {"PUT", "/v1/resources/:id/overrides/:date", "PUT /v1/resources/{id}/overrides/{date}",
     HTTP_ROLE_AGENT, true, http_overrides_put},
    {"DELETE", "/v1/resources/:id/overrides/:date", "DELETE /v1/resources/{id}/overrides/{date}",
     HTTP_ROLE_AGENT, true, http_overrides_delete},
    {"POST", "/v1/services", "POST /v1/services", HTTP_ROLE_AGENT, true, http_services_create},
    {"GET", "/v1/services", "GET /v1/services", HTTP_ROLE_AGENT, false, http_services_list},
    {"GET", "/v1/services/:id", "GET /v1/services/{id}", HTTP_ROLE_AGENT, false, http_services_get},
    {"PATCH", "/v1/services/:id", "PATCH /v1/services/{id}", HTTP_ROLE_AGENT, true,
     http_services_patch},
    {"DELETE", "/v1/services/:id", "DELETE /v1/services/{id}", HTTP_ROLE_AGENT, true,
     http_services_delete},
    {"GET", "/v1/slots", "GET /v1/slots", HTTP_ROLE_AGENT, false, http_slots_get},
};

const size_t http_api_route_count = sizeof(http_api_routes) / sizeof(http_api_routes[0]);
