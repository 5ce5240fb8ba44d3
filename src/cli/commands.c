/*
 * slotd migrate | org create | key create: short blocking programs against the
 * database (they run no loop, so blocking libpq is right here).
 */
#include "cli/commands.h"

#include <getopt.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "slotd/http_json.h"
#include "store/keys.h"
#include "store/migrations.h"

enum { OPT_DATABASE_URL = 1000, OPT_CONFIG, OPT_HELP, OPT_NAME, OPT_TIMEZONE, OPT_ORG, OPT_ROLE };

#define COMMON_OPTIONS                                                                             \
    {"database-url", required_argument, NULL, OPT_DATABASE_URL},                                   \
        {"config", required_argument, NULL, OPT_CONFIG},                                           \
    {                                                                                              \
        "help", no_argument, NULL, OPT_HELP                                                        \
    }

#define COMMON_HELP                                                                                \
    "  --database-url URL   PostgreSQL URL (else SLOTD_DATABASE_URL, else the config file)\n"      \
    "  --config FILE        JSON settings file (see config/slotd.example.json)\n"                  \
    "  --help               this text\n"

typedef struct {
    const char *config_file;
    const char *database_url;
} common_t;

static int usage(const char *text, int code)
{
    fputs(text, code ? stderr : stdout);
    return code;
}

/* Handles the options every command has; returns 1 when the option was one. */
static int common_option(int opt, common_t *common)
{
    if (opt == OPT_DATABASE_URL)
        common->database_url = optarg;
    else if (opt == OPT_CONFIG)
        common->config_file = optarg;
    else
        return 0;
    return 1;
}

/* Loads settings and connects. Returns NULL after printing why. */
static PGconn *connect_database(const common_t *common, slotd_config_t *config)
{
    char error[512];
    if (slotd_config_load(config, common->config_file, error, sizeof(error))) {
        fprintf(stderr, "slotd: %s\n", error);
        return NULL;
    }
    if (common->database_url)
        slotd_config_set(&config->database_url, common->database_url);
    if (config->database_url == NULL) {
        fprintf(stderr, "slotd: no database: give --database-url or set SLOTD_DATABASE_URL\n");
        return NULL;
    }
    PGconn *conn = PQconnectdb(config->database_url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "slotd: cannot connect to the database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(value);
}

int cli_migrate(int argc, char **argv)
{
    static const char help[] = "usage: slotd migrate [options]\n"
                               "Applies the schema migrations that the database lacks "
                               "(safe to run again).\n" COMMON_HELP;
    static const struct option options[] = {COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    common_t common = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return usage(help, 0);
        if (!common_option(opt, &common))
            return usage(help, 2);
    }
    if (optind != argc)
        return usage(help, 2);
    slotd_config_t config;
    PGconn *conn = connect_database(&common, &config);
    int rc = 1;
    if (conn) {
        char error[1024] = "";
        int applied = store_migrate(conn, error, sizeof(error));
        if (applied < 0) {
            fprintf(stderr, "slotd: migration failed: %s", error);
        } else {
            fprintf(stderr, "slotd: schema up to date (%d migration%s applied)\n", applied,
                    applied == 1 ? "" : "s");
            rc = 0;
        }
        PQfinish(conn);
    }
    slotd_config_free(&config);
    return rc;
}

/* Inserts an API key row; returns false after printing why. */
static bool insert_key(PGconn *conn, const char *organization_id, const eng_id_t *organization,
                       const char *role, char *key)
{
    uint8_t hash[STORE_KEY_HASH_LENGTH];
    store_key_generate(organization, key);
    store_key_hash(key, strlen(key), hash);
    const char *values[3] = {organization_id, (const char *)hash, role};
    int lengths[3] = {0, STORE_KEY_HASH_LENGTH, 0};
    int formats[3] = {0, 1, 0};
    PGresult *res = PQexecParams(
        conn, "INSERT INTO api_keys (organization_id, key_hash, role) VALUES ($1, $2, $3)", 3, NULL,
        values, lengths, formats, 0);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "slotd: cannot store the key: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

static bool exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "slotd: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

int cli_org_create(int argc, char **argv)
{
    static const char help[] =
        "usage: slotd org create --name NAME --timezone TZ [options]\n"
        "Creates an organization and prints {\"organization_id\",\"api_key\"} (an admin key).\n"
        "  --name NAME          the organization's name (1-200 characters)\n"
        "  --timezone TZ        its IANA time zone, e.g. Europe/Warsaw\n" COMMON_HELP;
    static const struct option options[] = {COMMON_OPTIONS,
                                            {"name", required_argument, NULL, OPT_NAME},
                                            {"timezone", required_argument, NULL, OPT_TIMEZONE},
                                            {NULL, 0, NULL, 0}};
    common_t common = {0};
    const char *name = NULL, *timezone = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return usage(help, 0);
        if (opt == OPT_NAME)
            name = optarg;
        else if (opt == OPT_TIMEZONE)
            timezone = optarg;
        else if (!common_option(opt, &common))
            return usage(help, 2);
    }
    if (optind != argc || name == NULL || timezone == NULL)
        return usage(help, 2);
    tz_zone_t *zone;
    if (strlen(name) == 0 || strlen(name) > 200) {
        fprintf(stderr, "slotd: --name must have 1 to 200 characters\n");
        return 2;
    }
    if (tz_zone_find(timezone, &zone)) {
        fprintf(stderr, "slotd: unknown time zone \"%s\" (use an IANA name like Europe/Warsaw)\n",
                timezone);
        return 2;
    }
    slotd_config_t config;
    PGconn *conn = connect_database(&common, &config);
    int rc = 1;
    if (conn && exec_ok(conn, "BEGIN")) {
        const char *values[2] = {name, timezone};
        PGresult *res = PQexecParams(
            conn, "INSERT INTO organizations (name, timezone) VALUES ($1, $2) RETURNING id", 2,
            NULL, values, NULL, NULL, 0);
        eng_id_t organization;
        char key[STORE_KEY_LENGTH + 1];
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "slotd: cannot create the organization: %s", PQresultErrorMessage(res));
        } else if (http_parse_uuid(PQgetvalue(res, 0, 0), &organization) == 0 &&
                   insert_key(conn, PQgetvalue(res, 0, 0), &organization, "admin", key) &&
                   exec_ok(conn, "COMMIT")) {
            print_json(
                json_pack("{s:s, s:s}", "organization_id", PQgetvalue(res, 0, 0), "api_key", key));
            rc = 0;
        }
        PQclear(res);
    }
    if (conn)
        PQfinish(conn);
    slotd_config_free(&config);
    return rc;
}

int cli_key_create(int argc, char **argv)
{
    static const char help[] =
        "usage: slotd key create --org ID --role admin|agent|sync [options]\n"
        "Creates an API key for an organization and prints {\"api_key\"}; only its hash is "
        "stored.\n"
        "  --org ID             the organization's id\n"
        "  --role ROLE          admin (everything), agent (slots, holds, bookings), "
        "sync\n" COMMON_HELP;
    static const struct option options[] = {COMMON_OPTIONS,
                                            {"org", required_argument, NULL, OPT_ORG},
                                            {"role", required_argument, NULL, OPT_ROLE},
                                            {NULL, 0, NULL, 0}};
    common_t common = {0};
    const char *org = NULL, *role = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return usage(help, 0);
        if (opt == OPT_ORG)
            org = optarg;
        else if (opt == OPT_ROLE)
            role = optarg;
        else if (!common_option(opt, &common))
            return usage(help, 2);
    }
    if (optind != argc || org == NULL || role == NULL)
        return usage(help, 2);
    eng_id_t organization;
    if (http_parse_uuid(org, &organization)) {
        fprintf(stderr, "slotd: --org must be an organization id (a UUID)\n");
        return 2;
    }
    if (strcmp(role, "admin") && strcmp(role, "agent") && strcmp(role, "sync")) {
        fprintf(stderr, "slotd: --role must be admin, agent or sync\n");
        return 2;
    }
    char canonical[37];
    http_format_uuid(&organization, canonical);
    slotd_config_t config;
    PGconn *conn = connect_database(&common, &config);
    int rc = 1;
    if (conn) {
        const char *values[1] = {canonical};
        PGresult *res =
            PQexecParams(conn, "SELECT 1 FROM organizations WHERE id = $1 AND deleted_at IS NULL",
                         1, NULL, values, NULL, NULL, 0);
        char key[STORE_KEY_LENGTH + 1];
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "slotd: %s", PQresultErrorMessage(res));
        } else if (PQntuples(res) == 0) {
            fprintf(stderr, "slotd: no organization %s\n", canonical);
        } else if (insert_key(conn, canonical, &organization, role, key)) {
            print_json(json_pack("{s:s}", "api_key", key));
            rc = 0;
        }
        PQclear(res);
        PQfinish(conn);
    }
    slotd_config_free(&config);
    return rc;
}
