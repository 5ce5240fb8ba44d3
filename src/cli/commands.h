/*
 * The slotd commands. Each takes the arguments after
 * its name, prints its result on stdout and its errors on stderr, and returns
 * the process exit code: 0 success, 1 failure, 2 a usage error.
 */
#ifndef SLOTD_CLI_COMMANDS_H
#define SLOTD_CLI_COMMANDS_H

int cli_migrate(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_org_create(int argc, char **argv);
int cli_key_create(int argc, char **argv);
int cli_demo_create(int argc, char **argv);
int cli_sync(int argc, char **argv);

#include "cli/config.h"
#include "sync/runner.h"

/** The sync runner's settings, key and limits from the service's configuration (the caller
 *  sets the loop, pool and HTTP client); `config` must outlive the runner. */
void cli_sync_options(const slotd_config_t *config, sync_runner_options_t *options);

#endif
