// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM names for live views: a VM is its VMM process, named as operators
 * know it.  QEMU gets "-name guest=NAME,..." from libvirt (NAME is the
 * domain) or "-name NAME" by hand; anything else is named by its comm.
 * `report --by vm` (issue 13) is to name VMs in the library; at that merge
 * this one function switches to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm-name.h"

/* Replaces what a terminal would interpret (control bytes) with '?'. */
static void printable(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/*
 * QEMU's -name value: "guest=NAME,debug-threads=on", "NAME,process=x" or
 * "NAME"; a ",," is a literal comma.  Writes NAME into out.
 */
static void qemu_name(const char *v, char *out, size_t size)
{
	const char *p = v;
	size_t n = 0;

	/* The guest= option, wherever it is; else the first (implied) option. */
	for (const char *q = v; *q; q++) {
		if ((q == v || (q[-1] == ',' && (q - 1 == v || q[-2] != ','))) &&
		    !strncmp(q, "guest=", 6)) {
			p = q + 6;
			break;
		}
	}
	if (p == v && strchr(v, '=') && strchr(v, '=') < (strchr(v, ',') ? strchr(v, ',') :
							 v + strlen(v)))
		p = "";		/* first option is key=value but not guest= */
	while (*p && n + 1 < size) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
}

int vm_name_live(int32_t pid, char *buf, size_t size)
{
	char path[64], args[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_file(path, args, sizeof(args));
	if (n < 0)
		return (int)n;
	buf[0] = '\0';
	for (ssize_t i = 0; i < n;) {
		const char *a = args + i;
		size_t len = strlen(a);

		if ((!strcmp(a, "-name") || !strcmp(a, "--name")) && i + (ssize_t)len + 1 < n) {
			qemu_name(a + len + 1, buf, size);
			break;
		}
		i += (ssize_t)len + 1;
	}
	if (!buf[0]) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		n = read_file(path, args, sizeof(args));
		if (n < 0)
			return (int)n;
		args[strcspn(args, "\n")] = '\0';
		snprintf(buf, size, "%s", args);
	}
	printable(buf);
	return 0;
}

bool vm_alive(int32_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}
