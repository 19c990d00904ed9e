// SPDX-License-Identifier: GPL-2.0-only
/* Text for the library's negative return values. */
#include <string.h>

#include "kvmexit.h"

static const char *const kvmexit_error_text[] = {
	[KVMEXIT_EFORMAT - KVMEXIT_ERRNO_BASE] = "malformed input",
	[KVMEXIT_ETRUNC - KVMEXIT_ERRNO_BASE] = "input ends too early (truncated)",
	[KVMEXIT_ENOEVENTS - KVMEXIT_ERRNO_BASE] = "no kvm events in the input",
	[KVMEXIT_EMISMATCH - KVMEXIT_ERRNO_BASE] = "inputs cannot be compared",
};

KVMEXIT_API const char *kvmexit_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= KVMEXIT_ERRNO_BASE && err < KVMEXIT_ERRNO_END)
		return kvmexit_error_text[err - KVMEXIT_ERRNO_BASE];
	return strerror(err);
}
