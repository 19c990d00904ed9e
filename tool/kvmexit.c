// SPDX-License-Identifier: GPL-2.0-only
/* kvmexit: subcommand dispatch.  Each subcommand lives in tool/cmd-*.c. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	/* record */
	{ "record", cmd_record, "record kvm events into a perf.data capture" },

	/* report */
	{ "report", cmd_report, "per-reason counts and exit-handling times of a capture" },

	/* diff */
	{ "diff", cmd_diff, "compare the exits of two captures or count tables" },

	/* reasons */
	{ "reasons", cmd_reasons, "list the VMX and SVM exit-reason tables" },

	/* top */
	{ "top", cmd_top, "watch every VM's exits live, with times" },

	/* serve */
	{ "serve", cmd_serve, "export exits as Prometheus/OpenMetrics metrics" },

	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kvmexit [--version] [--help] COMMAND [ARGS]\n\n"
		     "Commands:\n");
	for (size_t i = 0; commands[i].name; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'kvmexit COMMAND --help' and 'man kvmexit-COMMAND' tell more.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kvmexit %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; commands[i].name; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kvmexit: '%s' is not a command; 'kvmexit --help' lists them\n", argv[1]);
	return 2;
}
