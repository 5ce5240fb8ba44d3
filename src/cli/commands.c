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
#include <time.h>

#include "cli/config.h"
#include "slotd/codec.h"
#include "store/keys.h"
#include "store/migrations.h"

enum {
    OPT_DATABASE_URL = 1000,
    OPT_CONFIG,
    OPT_HELP,
    OPT_NAME,
    OPT_TIMEZONE,
    OPT_ORG,
    OPT_ROLE,
    OPT_BOOKINGS
};

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

/* Says what is wrong, then the usage; exit status 2. */
static int usage_error(const char *help, const char *what)
{
    fprintf(stderr, "slotd: %s\n", what);
    return usage(help, 2);
}

/* The long name of the option whose code is `code`. */
static const char *option_name(const struct option *options, int code)
{
    for (; options->name; options++)
        if (options->val == code)
            return options->name;
    return "?";
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

/*
 * Parses a command's arguments: the common options into *common, the options
 * named by codes[i] into values[i] (required, unless values[i] holds a default
 * before the call), and exactly `positionals`
 * arguments after them (the first at *first_positional). Returns -1 when all is
 * well, else the exit code the command returns (after printing help or usage).
 */
static int parse_command(int argc, char **argv, const char *help, const struct option *options,
                         common_t *common, const int *codes, const char **values, size_t count,
                         int positionals, int *first_positional)
{
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return usage(help, 0);
        size_t i = 0;
        while (i < count && codes[i] != opt)
            i++;
        if (i < count)
            values[i] = optarg;
        else if (!common_option(opt, common))
            return usage(help, 2); /* getopt has said which option it did not know */
    }
    char what[160];
    for (size_t i = 0; i < count; i++)
        if (values[i] == NULL) {
            snprintf(what, sizeof(what), "missing --%s", option_name(options, codes[i]));
            return usage_error(help, what);
        }
    if (argc - optind > positionals) {
        snprintf(what, sizeof(what), "unexpected argument \"%s\"", argv[optind + positionals]);
        return usage_error(help, what);
    }
    if (argc - optind < positionals)
        return usage_error(help,
                           positionals == 1 ? "missing an argument (a file)" : "missing arguments");
    if (first_positional)
        *first_positional = optind;
    return -1;
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
    int parsed = parse_command(argc, argv, help, options, &common, NULL, NULL, 0, 0, NULL);
    if (parsed >= 0)
        return parsed;
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
    char prefix[STORE_KEY_PREFIX_LENGTH + 1];
    memcpy(prefix, key, STORE_KEY_PREFIX_LENGTH);
    prefix[STORE_KEY_PREFIX_LENGTH] = 0;
    const char *values[4] = {organization_id, (const char *)hash, role, prefix};
    int lengths[4] = {0, STORE_KEY_HASH_LENGTH, 0, 0};
    int formats[4] = {0, 1, 0, 0};
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO api_keys (organization_id, key_hash, role, prefix) "
                                 "VALUES ($1, $2, $3, $4)",
                                 4, NULL, values, lengths, formats, 0);
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
    static const int codes[2] = {OPT_NAME, OPT_TIMEZONE};
    const char *args[2] = {NULL, NULL};
    int parsed = parse_command(argc, argv, help, options, &common, codes, args, 2, 0, NULL);
    if (parsed >= 0)
        return parsed;
    const char *name = args[0], *timezone = args[1];
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
        } else if (codec_parse_uuid(PQgetvalue(res, 0, 0), &organization) == 0 &&
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
    static const int codes[2] = {OPT_ORG, OPT_ROLE};
    const char *args[2] = {NULL, NULL};
    int parsed = parse_command(argc, argv, help, options, &common, codes, args, 2, 0, NULL);
    if (parsed >= 0)
        return parsed;
    const char *org = args[0], *role = args[1];
    eng_id_t organization;
    if (codec_parse_uuid(org, &organization)) {
        fprintf(stderr, "slotd: --org must be an organization id (a UUID)\n");
        return 2;
    }
    if (strcmp(role, "admin") && strcmp(role, "agent") && strcmp(role, "sync")) {
        fprintf(stderr, "slotd: --role must be admin, agent or sync\n");
        return 2;
    }
    char canonical[37];
    codec_format_uuid(&organization, canonical);
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

/* ---- slotd demo create --------------------------------------------------------------------- */

/* Runs a parameterized statement expecting one row; returns its first value (static) or NULL. */
static const char *one_value(PGconn *conn, const char *sql, int count, const char *const *values)
{
    static char value[128];
    PGresult *res = PQexecParams(conn, sql, count, NULL, values, NULL, NULL, 0);
    const char *out = NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(value, sizeof(value), "%s", PQgetvalue(res, 0, 0));
        out = value;
    } else {
        fprintf(stderr, "slotd: demo: %s", PQresultErrorMessage(res));
    }
    PQclear(res);
    return out;
}

/* A WEEK field of the clinic file, normalized to the stored JSON text (or NULL). */
static char *week_text(const json_t *object, const char *name, bool *ok)
{
    const json_t *value = json_object_get(object, name);
    *ok = true;
    if (value == NULL || json_is_null(value))
        return NULL;
    eng_week_t week;
    char field[CODEC_FIELD_MAX];
    if (codec_week_from_json(value, name, &week, field, sizeof(field)) != 0) {
        fprintf(stderr, "slotd: demo: bad hours at %s\n", field);
        *ok = false;
        return NULL;
    }
    json_t *normalized = codec_week_to_json(&week);
    char *text = json_dumps(normalized, JSON_COMPACT);
    json_decref(normalized);
    return text;
}

static bool load_clinic(PGconn *conn, const json_t *clinic, json_t *out)
{
    const char *name = json_string_value(json_object_get(clinic, "name"));
    const char *zone_name = json_string_value(json_object_get(clinic, "timezone"));
    tz_zone_t *zone;
    if (name == NULL || zone_name == NULL || tz_zone_find(zone_name, &zone) != 0) {
        fprintf(stderr, "slotd: demo: the clinic needs a name and a known timezone\n");
        return false;
    }
    bool ok;
    char *hours = week_text(clinic, "business_hours", &ok);
    if (!ok)
        return false;
    char *closures = json_dumps(
        json_object_get(clinic, "closures") ? json_object_get(clinic, "closures") : json_array(),
        JSON_COMPACT);
    const char *org_values[4] = {name, zone_name, hours, closures};
    const char *org =
        one_value(conn,
                  "INSERT INTO organizations (name, timezone, business_hours, closures) "
                  "SELECT $1, $2, $3::jsonb, coalesce(array_agg(d::date), '{}') "
                  "FROM jsonb_array_elements_text($4::jsonb) d RETURNING id",
                  4, org_values);
    free(hours);
    free(closures);
    if (org == NULL)
        return false;
    char org_id[37];
    snprintf(org_id, sizeof(org_id), "%s", org);
    eng_id_t organization;
    char admin[STORE_KEY_LENGTH + 1], agent[STORE_KEY_LENGTH + 1];
    if (codec_parse_uuid(org_id, &organization) != 0 ||
        !insert_key(conn, org_id, &organization, "admin", admin) ||
        !insert_key(conn, org_id, &organization, "agent", agent))
        return false;
    json_object_set_new(out, "organization_id", json_string(org_id));
    json_object_set_new(out, "admin_key", json_string(admin));
    json_object_set_new(out, "agent_key", json_string(agent));

    json_t *resources = json_object(), *services = json_object();
    json_object_set_new(out, "resources", resources);
    json_object_set_new(out, "services", services);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(clinic, "resources"), i, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        char *working = week_text(v, "working_hours", &ok);
        const char *values[5] = {org_id, json_string_value(json_object_get(v, "kind")),
                                 json_string_value(json_object_get(v, "name")),
                                 working ? working : "{}", NULL};
        const char *id = ok && key
                             ? one_value(conn,
                                         "INSERT INTO resources (organization_id, kind, name, "
                                         "working_hours) VALUES ($1, $2, $3, $4::jsonb) "
                                         "RETURNING id",
                                         4, values)
                             : NULL;
        free(working);
        if (id == NULL)
            return false;
        json_object_set_new(resources, key, json_string(id));
    }
    json_array_foreach(json_object_get(clinic, "services"), i, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        /* requirement groups by resource key -> by id */
        json_t *groups = json_array();
        size_t g;
        json_t *group;
        json_array_foreach(json_object_get(v, "requirements"), g, group)
        {
            json_t *ids = json_array();
            size_t k;
            json_t *member;
            json_array_foreach(json_object_get(group, "resource_ids"), k, member)
            {
                json_t *id = json_object_get(resources, json_string_value(member) ?: "");
                if (id)
                    json_array_append(ids, id);
            }
            json_array_append_new(groups, json_pack("{s:o, s:O}", "resource_ids", ids, "mode",
                                                    json_object_get(group, "mode")));
        }
        char *groups_text = json_dumps(groups, JSON_COMPACT);
        json_decref(groups);
        char *service_text = json_dumps(v, JSON_COMPACT);
        const char *values[3] = {org_id, service_text, groups_text};
        const char *id =
            key ? one_value(conn,
                            "WITH s AS (INSERT INTO services (organization_id, name, "
                            "duration_minutes, slot_interval_minutes, buffer_before_minutes, "
                            "buffer_after_minutes, min_notice_minutes, max_advance_days) "
                            "SELECT $1, b->>'name', (b->>'duration_minutes')::int, "
                            "(b->>'slot_interval_minutes')::int, "
                            "coalesce((b->>'buffer_before_minutes')::int, 0), "
                            "coalesce((b->>'buffer_after_minutes')::int, 0), "
                            "coalesce((b->>'min_notice_minutes')::int, 0), "
                            "(b->>'max_advance_days')::int FROM (SELECT $2::jsonb b) x "
                            "RETURNING id), q AS (INSERT INTO service_requirements "
                            "(organization_id, service_id, position, mode, resource_ids) "
                            "SELECT $1, s.id, (g.n - 1)::int, g.v->>'mode', ARRAY(SELECT "
                            "jsonb_array_elements_text(g.v->'resource_ids'))::uuid[] FROM s, "
                            "jsonb_array_elements($3::jsonb) WITH ORDINALITY g(v, n)) "
                            "SELECT id FROM s",
                            3, values)
                : NULL;
        free(service_text);
        free(groups_text);
        if (id == NULL)
            return false;
        json_object_set_new(services, key, json_string(id));
    }
    /* Bookings are not written here: they are requests for POST /v1/bookings, which the
     * caller sends once the service runs, so that they pass the booking rules as any would.
     * Each is on the first `weekday` at least two days after today in the clinic's zone (past
     * every service's notice), at a local `time`. */
    static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    int32_t today = tz_local_day(zone, (int64_t)time(NULL));
    json_t *bookings = json_array();
    json_object_set_new(out, "bookings", bookings);
    json_array_foreach(json_object_get(clinic, "bookings"), i, v)
    {
        const char *service_id = json_string_value(
            json_object_get(services, json_string_value(json_object_get(v, "service")) ?: ""));
        const char *weekday = json_string_value(json_object_get(v, "weekday")) ?: "";
        int wanted = -1;
        for (int d = 0; d < 7; d++)
            if (strcmp(weekday, weekdays[d]) == 0)
                wanted = d;
        uint16_t minute;
        if (service_id == NULL || wanted < 0 ||
            eng_parse_wall_minutes(json_string_value(json_object_get(v, "time")) ?: "", false,
                                   &minute) != 0) {
            fprintf(stderr,
                    "slotd: demo: booking %zu names an unknown service, weekday or a bad time\n",
                    i);
            return false;
        }
        int32_t day = today + 2;
        while (tz_weekday(day) != wanted)
            day++;
        char start[40], phone[32], customer[64];
        codec_format_instant(zone, tz_from_wall(zone, (int64_t)day * 86400 + minute * 60), start,
                             sizeof(start));
        snprintf(phone, sizeof(phone), "+48 600 00%04zu", i);
        snprintf(customer, sizeof(customer), "Demo Patient %zu", i + 1);
        json_t *ids = json_array();
        size_t k;
        json_t *member;
        json_array_foreach(json_object_get(v, "resource_ids"), k, member)
        {
            json_t *id = json_object_get(resources, json_string_value(member) ?: "");
            if (id)
                json_array_append(ids, id);
        }
        json_array_append_new(bookings,
                              json_pack("{s:s, s:s, s:o, s:{s:s, s:s}, s:s}", "service_id",
                                        service_id, "start", start, "resource_ids", ids, "customer",
                                        "name", customer, "phone", phone, "source", "dashboard"));
    }
    return true;
}

/* The demo's booking requests into `path`, one JSON body per line ("": none). */
static bool write_bookings(const char *path, const json_t *bookings)
{
    if (path[0] == 0)
        return true;
    FILE *f = fopen(path, "w");
    bool ok = f != NULL;
    size_t i;
    json_t *v;
    json_array_foreach(bookings, i, v)
    {
        char *text = json_dumps(v, JSON_COMPACT);
        ok = ok && text && fprintf(f, "%s\n", text) > 0;
        free(text);
    }
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "slotd: demo: cannot write %s\n", path);
    return ok;
}

int cli_demo_create(int argc, char **argv)
{
    static const char help[] =
        "usage: slotd demo create CLINIC.json [--bookings FILE] [options]\n"
        "Creates a demo organization from a clinic file (see config/demo-clinic.json): its\n"
        "resources and services, an admin and an agent key. Its bookings are not written:\n"
        "they are requests for POST /v1/bookings (placed relative to today), listed in the\n"
        "output and, with --bookings, written to FILE one per line, for the caller to send\n"
        "once the service runs. Prints {\"organization_id\",\"admin_key\",\"agent_key\",\n"
        "\"resources\",\"services\",\"bookings\"}.\n" COMMON_HELP;
    static const struct option options[] = {
        COMMON_OPTIONS, {"bookings", required_argument, NULL, OPT_BOOKINGS}, {NULL, 0, NULL, 0}};
    common_t common = {0};
    int file;
    static const int codes[1] = {OPT_BOOKINGS};
    const char *bookings_file[1] = {""}; /* optional */
    int parsed =
        parse_command(argc, argv, help, options, &common, codes, bookings_file, 1, 1, &file);
    if (parsed >= 0)
        return parsed;
    json_error_t error;
    json_t *clinic = json_load_file(argv[file], 0, &error);
    if (clinic == NULL) {
        fprintf(stderr, "slotd: cannot read %s: %s (line %d)\n", argv[file], error.text,
                error.line);
        return 2;
    }
    slotd_config_t config;
    PGconn *conn = connect_database(&common, &config);
    int rc = 1;
    if (conn && exec_ok(conn, "BEGIN")) {
        json_t *out = json_object();
        if (load_clinic(conn, clinic, out) &&
            write_bookings(bookings_file[0], json_object_get(out, "bookings")) &&
            exec_ok(conn, "COMMIT")) {
            print_json(out);
            rc = 0;
        } else {
            json_decref(out);
            PQclear(PQexec(conn, "ROLLBACK"));
        }
    }
    if (conn)
        PQfinish(conn);
    slotd_config_free(&config);
    json_decref(clinic);
    return rc;
}
