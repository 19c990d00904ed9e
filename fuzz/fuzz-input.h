/* SPDX-License-Identifier: GPL-2.0-only */
/* The fuzz input as a file the public API can open by path: a memfd. */
#ifndef KVMEXIT_FUZZ_INPUT_H
#define KVMEXIT_FUZZ_INPUT_H

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int fuzz_input_fd(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz-input", 0);

	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
