/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces between the files of lib/.  Not installed; nothing
 * here is exported from libkvmexit.so (no KVMEXIT_API).
 */
#ifndef KVMEXIT_INTERNAL_H
#define KVMEXIT_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "kvmexit.h"

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every object that reads outside input keeps its last error here. */
#define KX_ERRMSG_SIZE 512

/* Formats an error message into buf (size KX_ERRMSG_SIZE) and returns err. */
static inline int __attribute__((format(printf, 3, 4)))
kx_error(char *buf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, KX_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

