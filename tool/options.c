// SPDX-License-Identifier: GPL-2.0-only
/* Option values the commands share: one parser each, one meaning everywhere. */
#include <errno.h>
#include <stdlib.h>

#include "options.h"

int opt_parse_pids(const char *arg, int32_t **pids, size_t *nr)
{
	for (const char *p = arg; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		int32_t *n;

		if (end == p || v <= 0 || v > INT32_MAX || (*end && *end != ','))
			return -EINVAL;
		n = realloc(*pids, (*nr + 1) * sizeof(**pids));
		if (!n)
			return -ENOMEM;
		*pids = n;
		(*pids)[(*nr)++] = (int32_t)v;
		p = *end ? end + 1 : end;
	}
	return *nr ? 0 : -EINVAL;
}
