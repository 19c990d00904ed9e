// SPDX-License-Identifier: GPL-2.0-only
/*
 * symbolize: name guest addresses from a guest vmlinux or kallsyms file.
 *
 *	./symbolize /boot/vmlinux-6.1 0xffffffff81001234 ...
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <kvmexit.h>

int main(int argc, char **argv)
{
	struct kvmexit_symbols *syms;
	char err[256], name[256];

	if (argc < 3) {
		fprintf(stderr, "usage: %s VMLINUX|KALLSYMS ADDR...\n", argv[0]);
		return 2;
	}
	if (kvmexit_symbols_open(argv[1], &syms, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		uint64_t addr = strtoull(argv[i], NULL, 16);

		/* -ENOENT: no symbol covers the address. */
		if (kvmexit_symbols_lookup(syms, addr, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "?");
		printf("0x%016" PRIx64 " %s\n", addr, name);
	}
	kvmexit_symbols_free(syms);
	return 0;
}
