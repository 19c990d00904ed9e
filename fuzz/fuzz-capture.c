// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the perf.data reader on a file-mode capture (a
 * seekable memfd) through the public API: open, walk, meta, counts.
 * Seeds: fuzz/seeds/fuzz-capture/ and the file-mode captures in tests/data.
 */
#include <stdint.h>
#include <unistd.h>

#include "kvmexit.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_input_fd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	fuzz_read_capture(path);
	close(fd);
	return 0;
}
