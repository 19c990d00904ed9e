// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the perf.data reader, file and pipe mode (the reader
 * tells them apart by the header), through the public API.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvmexit.h"
#include "fuzz-input.h"

static int count_event(const struct kvmexit_event *ev, void *arg)
{
	(*(uint64_t *)arg) += ev->type;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmexit_capture *cap;
	char path[64], err[512];
	uint64_t sum = 0;
	int fd = fuzz_input_fd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (kvmexit_capture_open(path, &cap, err, sizeof(err)) == 0) {
		kvmexit_capture_for_each(cap, count_event, &sum);
		kvmexit_capture_meta(cap);
		kvmexit_capture_close(cap);
	}
	close(fd);
	return 0;
}
