// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the perf.data reader in pipe mode.  The input comes
 * through a real pipe (not seekable, as with `perf record -o - | kvmexit
 * report -`), so only the streaming paths are taken.  Inputs larger than
 * the pipe's buffer (1 MiB at most) are cut there.  Seeds: the pipe-mode
 * captures, fuzz/seeds/fuzz-capture-pipe/ and tests/data/ *.pipe*.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "kvmexit.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_input_pipe(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	fuzz_read_capture(path);
	close(fd);
	return 0;
}
