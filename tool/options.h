/* SPDX-License-Identifier: GPL-2.0-only */
/* Option values the commands share (tool/options.c). */
#ifndef KVMEXIT_TOOL_OPTIONS_H
#define KVMEXIT_TOOL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/*
 * "PID[,PID...]" appended to *pids (realloc'd; *nr counts them): 0, or
 * -EINVAL for anything but positive pids separated by commas, -ENOMEM.
 */
int opt_parse_pids(const char *arg, int32_t **pids, size_t *nr);

#endif
