/*
 * slotd: the scheduling and availability service. One binary, several
 * commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "slotd/tz.h"

#ifndef SLOTD_VERSION
#define SLOTD_VERSION "unknown"
#endif

static const char help[] =
    "usage: slotd COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  migrate              apply the schema migrations (idempotent)\n"
    "  serve                migrate, then serve the HTTP API\n"
    "  org create           create an organization and its first admin API key\n"
    "  key create           create an API key for an organization\n"
    "  demo create FILE     create a demo organization from a clinic file\n"
    "  sync                 pull calendar connections once (cron, operators)\n"
    "  --version            print the version\n"
    "\n"
    "Every command takes --database-url URL (or SLOTD_DATABASE_URL) and --config FILE;\n"
    "`slotd COMMAND --help` documents its flags.\n";

int main(int argc, char **argv)
{
    int rc;
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
        rc = cli_migrate(argc - 1, argv + 1);
    else if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        rc = cli_serve(argc - 1, argv + 1);
    else if (argc >= 3 && strcmp(argv[1], "org") == 0 && strcmp(argv[2], "create") == 0)
        rc = cli_org_create(argc - 2, argv + 2);
    else if (argc >= 3 && strcmp(argv[1], "key") == 0 && strcmp(argv[2], "create") == 0)
        rc = cli_key_create(argc - 2, argv + 2);
    else if (argc >= 3 && strcmp(argv[1], "demo") == 0 && strcmp(argv[2], "create") == 0)
        rc = cli_demo_create(argc - 2, argv + 2);
    else if (argc >= 2 && strcmp(argv[1], "sync") == 0)
        rc = cli_sync(argc - 1, argv + 1);
    else if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
        rc = (fputs(help, stdout), 0);
    else if (argc == 2 && strcmp(argv[1], "--version") == 0)
        rc = (printf("slotd %s\n", SLOTD_VERSION), 0);
    else {
        if (argc < 2)
            fputs("slotd: missing a command\n", stderr);
        else if (argc >= 3 && (strcmp(argv[1], "org") == 0 || strcmp(argv[1], "key") == 0 ||
                               strcmp(argv[1], "demo") == 0))
            fprintf(stderr, "slotd: unknown command \"%s %s\"\n", argv[1], argv[2]);
        else if (strcmp(argv[1], "org") == 0 || strcmp(argv[1], "key") == 0 ||
                 strcmp(argv[1], "demo") == 0)
            fprintf(stderr, "slotd: \"%s\" needs a subcommand: %s create\n", argv[1], argv[1]);
        else
            fprintf(stderr, "slotd: unknown command \"%s\"\n", argv[1]);
        rc = (fputs(help, stderr), 2);
    }
    tz_shutdown();
    return rc;
}
