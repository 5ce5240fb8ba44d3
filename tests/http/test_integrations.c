/*
 * The organization's integrations over real HTTP: the Retell API key is
 * write-only (set, shown only as retell_api_key_set, never echoed in any
 * answer or log line, kept by other changes, cleared by null), its body rules
 * (unknown fields named as integrations.<name>), admin keys only, and the 503
 * of a service without secret_key, as for calendar connections.
 */
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "test.h"

#define SECRET_KEY "SLOTD_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static bool key_set(const json_t *organization)
{
    json_t *set =
        json_object_get(json_object_get(organization, "integrations"), "retell_api_key_set");
    CHECK(json_is_boolean(set));
    return json_is_true(set);
}

TEST(organization_retell_api_key_is_write_only)
{
    char log_path[32], agent[128];
    static const char *env[] = {"SLOTD_TEST_VERBOSE=1", SECRET_KEY, NULL};
    api_server_t s;
    int saved = api_log_begin(log_path); /* the server inherits this stdout: its log */
    api_start(&s, env);
    api_wait_ready(&s);
    api_create_key(&s, s.organization_id, "agent", agent);
    json_t *answers = json_array();
    json_t *r = api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL);
    CHECK(!key_set(r));
    json_array_append_new(answers, r);
    r = api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key,
                   "{\"integrations\":{\"retell_api_key\":\"key_Sekrit-1\"}}");
    CHECK(key_set(r));
    json_array_append_new(answers, r);
    r = api_expect(&s, 200, "GET", "/v1/organization", agent, NULL);
    CHECK(key_set(r));
    json_array_append_new(answers, r);
    json_array_append_new(answers, api_expect(&s, 403, "PATCH", "/v1/organization", agent,
                                              "{\"integrations\":{\"retell_api_key\":"
                                              "\"key_Sekrit-2\"}}"));
    r = api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key, "{\"name\":\"Clinic\"}");
    CHECK(key_set(r)); /* other changes keep it */
    json_array_append_new(answers, r);
    /* refusals name the field, never echo a value */
    json_array_append_new(answers, api_expect(&s, 400, "PATCH", "/v1/organization", s.admin_key,
                                              "{\"integrations\":{\"retell_api_key\":"
                                              "\"key_Sekrit-3\",\"vapi\":\"Sekrit-4\"}}"));
    r = api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key,
                   "{\"integrations\":{\"retell_api_key\":null}}");
    CHECK(!key_set(r));
    json_array_append_new(answers, r);
    r = api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL);
    CHECK(!key_set(r));
    json_array_append_new(answers, r);
    api_stop(&s);
    CHECK(api_log_end(log_path, saved, "Sekrit") > 5); /* the requests were logged, not it */
    char *text = json_dumps(answers, 0);
    json_decref(answers);
    CHECK(strstr(text, "Sekrit") == NULL); /* nor answered */
    free(text);
}

TEST(organization_integrations_bodies_are_refused_naming_the_field)
{
    static const char *env[] = {SECRET_KEY, NULL};
    api_server_t s;
    api_start(&s, env);
    const char *object = "integrations must be an object: {\"retell_api_key\":\"...\"} (null "
                         "clears the key).";
    const char *text = "integrations.retell_api_key must be text of 1 to 1024 characters.";
    api_expect_invalid(&s, "PATCH", "/v1/organization", "{\"integrations\":{\"foo\":1}}",
                       "integrations.foo", "Unknown field.");
    api_expect_invalid(&s, "PATCH", "/v1/organization",
                       "{\"integrations\":{\"retell_api_key\":\"k\",\"foo\":null}}",
                       "integrations.foo", "Unknown field.");
    api_expect_invalid(&s, "PATCH", "/v1/organization", "{\"integrations\":null}", "integrations",
                       object);
    api_expect_invalid(&s, "PATCH", "/v1/organization", "{\"integrations\":\"key\"}",
                       "integrations", object);
    api_expect_invalid(&s, "PATCH", "/v1/organization",
                       "{\"integrations\":{\"retell_api_key\":\"\"}}",
                       "integrations.retell_api_key", text);
    api_expect_invalid(&s, "PATCH", "/v1/organization",
                       "{\"integrations\":{\"retell_api_key\":42}}", "integrations.retell_api_key",
                       text);
    /* nothing changed; an empty object changes nothing either */
    json_t *r =
        api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key, "{\"integrations\":{}}");
    CHECK(!key_set(r));
    json_decref(r);
    api_stop(&s);
}

TEST(organization_retell_api_key_without_secret_key_is_503_naming_the_setting)
{
    api_server_t s;
    api_start(&s, NULL);
    json_t *r = api_expect(&s, 503, "PATCH", "/v1/organization", s.admin_key,
                           "{\"integrations\":{\"retell_api_key\":\"key_1\"}}");
    CHECK(strcmp(api_error_code(r), "unavailable") == 0);
    json_t *error = json_object_get(r, "error");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(error, "details"), "setting")),
                 "secret_key") == 0);
    CHECK(strstr(json_string_value(json_object_get(error, "message")), "secret_key") != NULL);
    json_decref(r);
    r = api_expect(&s, 200, "GET", "/v1/organization", s.admin_key, NULL);
    CHECK(!key_set(r));
    json_decref(r);
    /* clearing needs no key */
    r = api_expect(&s, 200, "PATCH", "/v1/organization", s.admin_key,
                   "{\"integrations\":{\"retell_api_key\":null}}");
    CHECK(!key_set(r));
    json_decref(r);
    api_stop(&s);
}
