// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pipe stream's in-band header records.
 *
 * Pipe mode.  kvmexit_capture_open() consumes the leading synthesized
 * records (HEADER_ATTR, HEADER_FEATURE, HEADER_TRACING_DATA whose blob
 * follows the record in the stream, ...) up to the first kernel record or
 * FINISHED_INIT; later ones are handled during the walk as they come.
 *
 * These are the records that carry what a file-mode header holds: attrs
 * with their ids (HEADER_ATTR), features (HEADER_FEATURE) and the tracing
 * data (HEADER_TRACING_DATA, whose blob follows the record; the caller
 * reads it once the record is consumed).
 */
#include "perfdata-read.h"

static int record_attr(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
		       uint64_t off)
{
	uint32_t asize;
	int err;

	if (size < 8 + PERF_ATTR_SIZE_VER0)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "attr record at offset 0x%llx is too small (%zu)",
			    (unsigned long long)off, size);
	asize = ld32(rec + 8 + 4);
	if (asize < PERF_ATTR_SIZE_VER0 || asize > size - 8)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "attr record at offset 0x%llx: attr size %u does not fit in the record (%zu)",
			    (unsigned long long)off, asize, size);
	err = kx_attr_add(cap, rec + 8, asize, off);
	if (!err)
		err = kx_ids_add(cap, rec + 8 + asize, (size - 8 - asize) / 8,
			      (uint32_t)(cap->nr_attrs - 1));
	if (!err)
		err = kx_attrs_check(cap);
	kx_attrs_resolve(cap);
	return err;
}

/*
 * HEADER_ATTR, HEADER_FEATURE or HEADER_TRACING_DATA (rec, size bytes at
 * off): *tracing receives the size of a tracing data blob that follows.
 */
int kx_pipe_record(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
		   uint64_t off, uint64_t *tracing)
{
	switch (ld32(rec)) {
	case REC_HEADER_ATTR:
		return record_attr(cap, rec, size, off);
	case REC_HEADER_FEATURE:
		if (size < 16)
			return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "feature record at offset 0x%llx is too small",
				    (unsigned long long)off);
		if (ld64(rec + 8) < FEAT_BITS && kx_feature_wanted((unsigned)ld64(rec + 8))) {
			int err = kx_feature_process(cap, (unsigned)ld64(rec + 8), rec + 16,
						     size - 16, off + 16);

			/* after the header records (pipe_open()), at once */
			return err || !cap->walked ? err : kx_meta_apply(cap);
		}
		return 0;
	case REC_HEADER_TRACING_DATA:
		if (size < 12)
			return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
				    "tracing data record at offset 0x%llx is too small",
				    (unsigned long long)off);
		*tracing = ld32(rec + 8);
		return 0;
	default:
		return 0;
	}
}
