/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands of kvmexit: each is main()-like and returns the exit status. */
#ifndef KVMEXIT_TOOL_COMMANDS_H
#define KVMEXIT_TOOL_COMMANDS_H

/* reasons */
int cmd_reasons(int argc, char **argv);

/* report */
int cmd_report(int argc, char **argv);

/* record */
int cmd_record(int argc, char **argv);

/* diff */
int cmd_diff(int argc, char **argv);

/* top */
int cmd_top(int argc, char **argv);

/* serve */
int cmd_serve(int argc, char **argv);

#endif
