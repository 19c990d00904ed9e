// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compressed records (perf record -z): PERF_RECORD_COMPRESSED holds a
 * piece of one zstd stream per capture (perf keeps one compression context
 * and flushes it at the end of every record), so the pieces are fed, in
 * order, to one decompression context.  What comes out is a stream of
 * ordinary records; a record may end in the next compressed record's
 * output, so the bytes after the last complete record are kept for it.
 * This file only decompresses: the walk (perfdata-walk.c) takes the
 * complete records out of the buffer.
 *
 * Memory: the buffer holds what one compressed record yields plus a
 * partial record (perf's own limit is its ring buffer size, the
 * COMPRESSED feature's mmap_len); it is capped at KX_UNZIP_MAX so that a
 * hostile stream cannot make it grow without bound.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "perfdata-read.h"

#define KX_UNZIP_MAX	(256u << 20)

struct kx_unzip {
	ZSTD_DStream *z;
	unsigned char *buf;
	size_t head, len, alloc;	/* valid bytes: buf[head..len) */
};

int kx_unzip_new(struct kx_unzip **out)
{
	struct kx_unzip *u = calloc(1, sizeof(*u));

	if (!u || !(u->z = ZSTD_createDStream())) {
		free(u);
		return -ENOMEM;
	}
	ZSTD_initDStream(u->z);
	*out = u;
	return 0;
}

void kx_unzip_free(struct kx_unzip *u)
{
	if (!u)
		return;
	ZSTD_freeDStream(u->z);
	free(u->buf);
	free(u);
}

int kx_unzip_feed(struct kx_unzip *u, const void *src, size_t n, char *errmsg)
{
	ZSTD_inBuffer in = { src, n, 0 };

	if (u->head) {			/* keep the partial record at the front */
		memmove(u->buf, u->buf + u->head, u->len - u->head);
		u->len -= u->head;
		u->head = 0;
	}
	while (in.pos < in.size) {
		ZSTD_outBuffer out;
		size_t r;

		if (u->alloc - u->len < ZSTD_DStreamOutSize()) {
			size_t a = u->alloc ? 2 * u->alloc : 4 * ZSTD_DStreamOutSize();
			unsigned char *b;

			if (a > KX_UNZIP_MAX)
				return kx_error(errmsg, -KVMEXIT_EFORMAT,
						"compressed data expands to more than %u MiB without a complete record",
						KX_UNZIP_MAX >> 20);
			b = realloc(u->buf, a);
			if (!b)
				return -ENOMEM;
			u->buf = b;
			u->alloc = a;
		}
		out = (ZSTD_outBuffer){ u->buf + u->len, u->alloc - u->len, 0 };
		r = ZSTD_decompressStream(u->z, &out, &in);
		if (ZSTD_isError(r))
			return kx_error(errmsg, -KVMEXIT_EFORMAT, "its zstd data is corrupt (%s)",
					ZSTD_getErrorName(r));
		u->len += out.pos;
		if (!out.pos && !in.pos)
			break;		/* cannot happen with room left; never loop */
	}
	return 0;
}

const unsigned char *kx_unzip_data(const struct kx_unzip *u, size_t *len)
{
	*len = u->len - u->head;
	return u->buf + u->head;
}

void kx_unzip_consume(struct kx_unzip *u, size_t n)
{
	u->head += n;
}
