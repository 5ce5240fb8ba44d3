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

#endif
