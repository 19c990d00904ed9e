// SPDX-License-Identifier: GPL-2.0-only
/* kvmexit-diff: the same command as `kvmexit diff` (tool/cmd-diff.c). */
#include "commands.h"

int main(int argc, char **argv)
{
	argv[0] = "kvmexit-diff";
	return cmd_diff(argc, argv);
}
