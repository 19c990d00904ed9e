/* SPDX-License-Identifier: GPL-2.0-only */
/* The fuzz input as a file the public API can open by path. */
#ifndef KVMEXIT_FUZZ_INPUT_H
#define KVMEXIT_FUZZ_INPUT_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvmexit.h"

/* A seekable file: a memfd, opened again by its /proc/self/fd path. */
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

/*
 * A pipe holding the input (cut at the pipe's capacity), its write end
 * closed: the reader sees a stream that ends.  Returns the read end.
 */
static inline int fuzz_input_pipe(const uint8_t *data, size_t size, char *path, size_t len)
{
	int p[2], cap;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	cap = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	if (cap < 0)
		cap = fcntl(p[1], F_GETPIPE_SZ);
	if (size > (size_t)cap)
		size = (size_t)cap;
	if (size && write(p[1], data, size) != (ssize_t)size) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	snprintf(path, len, "/proc/self/fd/%d", p[0]);
	return p[0];
}

static int fuzz_count_event(const struct kvmexit_event *ev, void *arg)
{
	(*(uint64_t *)arg) += ev->type + ev->time;
	return 0;
}

/* Everything a reader of a capture does with it. */
static inline void fuzz_read_capture(const char *path)
{
	struct kvmexit_capture *cap;
	const struct kvmexit_count *counts;
	char err[512];
	uint64_t sum = 0;

	if (kvmexit_capture_open(path, &cap, err, sizeof(err)))
		return;
	kvmexit_capture_for_each(cap, fuzz_count_event, &sum);
	kvmexit_capture_meta(cap);
	kvmexit_capture_counts(cap, &counts);
	kvmexit_capture_errmsg(cap);
	kvmexit_capture_close(cap);
}

#endif
