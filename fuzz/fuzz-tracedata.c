// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the HEADER_TRACING_DATA walker (lib/tracedata.c),
 * called directly on the input as the blob: kx_tracedata_read() over the
 * reader's own buffered input (a memfd), then every format it built.
 * It needs struct kx_rd, the reader's own (lib/perfdata-read.h).  Seeds:
 * fuzz/seeds/fuzz-tracedata/, blobs cut from captures.
 */
#include <stdint.h>
#include <unistd.h>

#include "perfdata-read.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kx_rd rd = { 0 };
	struct kx_formats *formats = NULL;
	char path[64], msg[KX_ERRMSG_SIZE];
	int fd = fuzz_input_fd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (lseek(fd, 0, SEEK_SET) == 0 && kx_rd_init(&rd, fd) == 0 &&
	    kx_tracedata_read(&rd, size, &formats, msg) == 0) {
		/* and decode the input as raw data of every kvm event found */
		for (uint64_t id = 0; id < 4096; id++) {
			const struct kx_layout *lay = kx_formats_layout(formats, id);
			const char *sys;
			struct kvmexit_event ev;

			kx_formats_name(formats, id, &sys);
			if (lay)
				kx_layout_decode(lay, data, size, &ev);
		}
		kx_formats_free(formats);
	}
	free(rd.heap);
	close(fd);
	return 0;
}
