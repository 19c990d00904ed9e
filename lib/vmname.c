// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM names: the name operators know a VM by, from its VMM's command line.
 * Pure: the recorder reads /proc/PID/cmdline and stores what this returns.
 *
 * QEMU: "-name NAME" or "-name guest=NAME,..." (libvirt always passes
 * "-name guest=DOMAIN,debug-threads=on", so this is also libvirt's domain
 * name).  QEMU parses the value as QemuOpts with the implied key "guest":
 * suboptions are separated by ',', and ",," stands for one ','.  -name
 * merges its lists, so a later guest= wins and a later -name without one
 * keeps the earlier.  QEMU accepts "--name" for "-name".
 * Firecracker: "--id ID" (or "--id=ID").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The argument after byte offset pos (args are NUL-terminated or end at len). */
static size_t next_arg(const char *cmdline, size_t len, size_t pos)
{
	const char *nul = memchr(cmdline + pos, '\0', len - pos);

	return nul ? (size_t)(nul - cmdline) + 1 : len;
}

static size_t arg_len(const char *cmdline, size_t len, size_t pos)
{
	return strnlen(cmdline + pos, len - pos);
}

static bool arg_is(const char *arg, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(arg, s, n);
}

/* Whether argv[0]'s basename is QEMU's: qemu-system-*, qemu-kvm, kvm. */
static bool is_qemu(const char *arg, size_t n)
{
	const char *base = arg;

	for (size_t i = 0; i < n; i++)
		if (arg[i] == '/')
			base = arg + i + 1;
	n -= (size_t)(base - arg);
	return (n >= 4 && !memcmp(base, "qemu", 4)) || arg_is(base, n, "kvm");
}

/*
 * One QemuOpts value starting at v (n bytes): copies it, ",," as ',', into
 * out (at most size - 1 bytes kept) and returns the bytes it consumed (up
 * to the separating ',' or the end).  *outlen gets the unescaped length.
 */
static size_t opt_value(const char *v, size_t n, char *out, size_t size, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (v[i] == ',') {
			if (i + 1 < n && v[i + 1] == ',')
				i++;
			else
				break;
		}
		if (o + 1 < size)
			out[o] = v[i];
		o++;
		i++;
	}
	*outlen = o;
	if (size)
		out[o < size ? o : size - 1] = '\0';
	return i;
}

/*
 * The guest name of one -name value: the last guest= suboption, or the
 * implied first one, into name (truncated to size).  Returns whether the
 * value had one; *namelen gets its full unescaped length.
 */
static bool qemu_name_opts(const char *v, size_t n, char *name, size_t size, size_t *namelen)
{
	bool set = false;
	char scratch[1];
	size_t len;

	for (size_t i = 0, first = 1; i < n; first = 0) {
		size_t key_end = i;

		while (key_end < n && v[key_end] != '=' && v[key_end] != ',')
			key_end++;
		if (key_end < n && v[key_end] == '=') {
			const char *val = v + key_end + 1;
			size_t vn = n - key_end - 1;

			if (key_end - i == 5 && !memcmp(v + i, "guest", 5)) {
				i = key_end + 1 + opt_value(val, vn, name, size, namelen) + 1;
				set = true;
			} else {
				i = key_end + 1 + opt_value(val, vn, scratch, sizeof(scratch), &len) + 1;
			}
		} else if (first) {
			/* "-name NAME,...": the first suboption is guest's value */
			i += opt_value(v + i, n - i, name, size, namelen) + 1;
			set = true;
		} else {
			i = key_end + 1;	/* a flag such as debug-threads */
		}
	}
	return set;
}

/* The argument after the option at pos, or len when there is none. */
static size_t option_value(const char *cmdline, size_t len, size_t pos, size_t *vn)
{
	size_t vpos = next_arg(cmdline, len, pos);

	*vn = vpos < len ? arg_len(cmdline, len, vpos) : 0;
	return vpos;
}

static size_t copy_name(const char *s, size_t n, char *buf, size_t size)
{
	if (size)
		snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), s);
	return n;
}

KVMEXIT_API int kvmexit_vm_name(const char *cmdline, size_t len, char *buf, size_t size)
{
	size_t namelen = 0, vpos, vn;
	bool qemu;

	if (!cmdline || (!buf && size))
		return -EINVAL;
	if (size)
		buf[0] = '\0';
	if (!len)
		return -ENOENT;
	qemu = is_qemu(cmdline, arg_len(cmdline, len, 0));
	for (size_t pos = next_arg(cmdline, len, 0); pos < len; pos = next_arg(cmdline, len, pos)) {
		const char *a = cmdline + pos;
		size_t n = arg_len(cmdline, len, pos);

		if (qemu && (arg_is(a, n, "-name") || arg_is(a, n, "--name"))) {
			vpos = option_value(cmdline, len, pos, &vn);
			if (vpos >= len)
				break;
			qemu_name_opts(cmdline + vpos, vn, buf, size, &namelen);
			pos = vpos;
		} else if (!qemu && arg_is(a, n, "--id")) {
			vpos = option_value(cmdline, len, pos, &vn);
			if (vpos >= len)
				break;
			namelen = copy_name(cmdline + vpos, vn, buf, size);
			pos = vpos;
		} else if (!qemu && n > 5 && !memcmp(a, "--id=", 5)) {
			namelen = copy_name(a + 5, n - 5, buf, size);
		}
	}
	return namelen ? (int)(namelen > INT32_MAX ? INT32_MAX : namelen) : -ENOENT;
}
