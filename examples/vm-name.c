// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm-name: the VM names of running VMM processes, as kvmexit record
 * stores them (QEMU's -name, libvirt's domain, else the process name).
 *
 *	./vm-name $(pgrep qemu)
 */
#include <stdio.h>
#include <string.h>
#include <kvmexit.h>

/* Reads /proc/PID/FILE into buf; returns the bytes read, or -1. */
static long read_proc(const char *pid, const char *file, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%s/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, size, f);
	fclose(f);
	return (long)n;
}

int main(int argc, char **argv)
{
	char cmdline[4096], comm[32], name[256];

	for (int i = 1; i < argc; i++) {
		long n = read_proc(argv[i], "cmdline", cmdline, sizeof(cmdline));

		if (n < 0) {
			fprintf(stderr, "%s: no such process\n", argv[i]);
			continue;
		}
		/* The name is untrusted text: print it with %s, never as a format. */
		if (kvmexit_vm_name(cmdline, (size_t)n, name, sizeof(name)) >= 0) {
			printf("%s\t%s\n", argv[i], name);
			continue;
		}
		/* No VM name on the command line: the process name. */
		n = read_proc(argv[i], "comm", comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		printf("%s\t%s (comm)\n", argv[i], comm);
	}
	return 0;
}
