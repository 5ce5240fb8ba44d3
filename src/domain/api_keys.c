/*
 * API keys: the rules (see api_keys.h), then the typed store. A refused
 * input never reaches the database. A bad role or name is named before a
 * missing role, as the API always answered.
 */
#include "domain/api_keys.h"

#include <string.h>

static bool known_role(const domain_text_t *role)
{
    return role->given == DOMAIN_GIVEN &&
           (strcmp(role->text, "admin") == 0 || strcmp(role->text, "agent") == 0 ||
            strcmp(role->text, "sync") == 0);
}

/* The name, when there is one: NULL when absent or null. */
static const char *name_of(const domain_api_key_input_t *input)
{
    return input->name.given == DOMAIN_GIVEN ? input->name.text : NULL;
}

int domain_api_key_check(const domain_api_key_input_t *input, domain_error_t *error)
{
    const domain_text_t *name = &input->name;
    if (input->role.given != DOMAIN_ABSENT && !known_role(&input->role))
        return domain_invalid(error, "role", "role must be \"admin\", \"agent\" or \"sync\".");
    /* bytes, as the API has always said of a key's name */
    if (name->given == DOMAIN_MALFORMED ||
        (name->given == DOMAIN_GIVEN &&
         (name->text[0] == 0 || strlen(name->text) > DOMAIN_KEY_NAME_MAX)))
        return domain_invalid(error, "name", "name must be text of 1 to %d bytes, or null.",
                              DOMAIN_KEY_NAME_MAX);
    if (input->role.given == DOMAIN_ABSENT)
        return domain_invalid(error, "role", "role is required: \"admin\", \"agent\" or \"sync\".");
    return 0;
}

store_operation_t *domain_api_keys_create(store_pool_t *pool, const eng_id_t *organization,
                                          const domain_api_key_input_t *input, char *key,
                                          store_api_key_cb cb, void *arg, domain_error_t *error)
{
    if (domain_api_key_check(input, error) != 0)
        return NULL;
    store_key_generate(organization, key);
    return domain_started(
        store_keys_insert(pool, organization, key, input->role.text, name_of(input), cb, arg),
        error);
}

store_operation_t *domain_api_keys_get(store_pool_t *pool, const eng_id_t *organization,
                                       const eng_id_t *id, store_api_key_cb cb, void *arg,
                                       domain_error_t *error)
{
    return domain_started(store_keys_get(pool, organization, id, cb, arg), error);
}

store_operation_t *domain_api_keys_list(store_pool_t *pool, const eng_id_t *organization,
                                        const eng_id_t *cursor, int limit, store_api_key_list_cb cb,
                                        void *arg, domain_error_t *error)
{
    return domain_started(store_keys_list(pool, organization, cursor, limit, cb, arg), error);
}

store_operation_t *domain_api_keys_revoke(store_pool_t *pool, const eng_id_t *organization,
                                          const eng_id_t *id, store_api_key_revoke_cb cb, void *arg,
                                          domain_error_t *error)
{
    return domain_started(store_keys_revoke(pool, organization, id, cb, arg), error);
}
