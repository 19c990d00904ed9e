// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM names for live views: a VM is its VMM process, named as operators
 * know it, by kvmexit_vm_name() (QEMU's -name, libvirt's domain,
 * Firecracker's --id) as `report --by vm` names it; anything else by its
 * comm.  Names are untrusted: control bytes show as '?'.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kvmexit.h>

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

int vm_name_live(int32_t pid, char *buf, size_t size)
{
	char path[64], args[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_file(path, args, sizeof(args));
	if (n < 0)
		return (int)n;
	if (kvmexit_vm_name(args, (size_t)n, buf, size) < 0) {
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

void vm_name_set(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s", name);
	printable(buf);
}

bool vm_alive(int32_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}
