// SPDX-License-Identifier: GPL-2.0-only
/*
 * A file-mode capture's header and its feature sections, and the features
 * themselves (which pipe mode carries in HEADER_FEATURE records).
 *
 * File mode.  The header's attrs (each with its section of ids), the data
 * section, and the feature sections: a table of {offset, size} at
 * data.offset + data.size, one entry per set bit of the feature bitmap in
 * bit order; every payload is read at its own offset.  Features used:
 * TRACING_DATA (formats, lib/tracedata.c), HOSTNAME, OSRELEASE, ARCH,
 * NRCPUS, CPUDESC, CPUID, CMDLINE, SAMPLE_TIME and kvmexit's own section
 * (bit KX_FEAT_KVMEXIT, decoded by kx_meta_decode()); others are skipped.
 *
 * Headers, attrs and feature sections must be complete and valid: any
 * problem fails kvmexit_capture_open() with a message naming the offset.
 * A file-mode data section extending past the end of the file is an error
 * at open (the feature sections, which hold the formats, would be missing).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perfdata-read.h"

#define FEAT_COMPRESSED 27	/* perf record -z: records are PERF_RECORD_COMPRESSED */

/* ------------------------------------------------------------ features */

static void copy_text(char *dst, size_t size, const unsigned char *src, size_t len)
{
	len = strnlen((const char *)src, len);
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* perf's do_write_string(): u32 len, then len bytes (NUL padded). */
static int feat_string(const unsigned char *p, size_t len, size_t *pos,
		       const unsigned char **s, size_t *slen)
{
	uint32_t n;

	if (len - *pos < 4)
		return -KVMEXIT_EFORMAT;
	n = ld32(p + *pos);
	if (n > len - *pos - 4)
		return -KVMEXIT_EFORMAT;
	*s = p + *pos + 4;
	*slen = n;
	*pos += 4 + (size_t)n;
	return 0;
}

static int feat_cmdline(struct kvmexit_meta *m, const unsigned char *p, size_t len)
{
	size_t pos = 4, used = 0;
	uint32_t nr;

	if (len < 4)
		return -KVMEXIT_EFORMAT;
	nr = ld32(p);
	m->cmdline[0] = '\0';
	for (uint32_t i = 0; i < nr; i++) {
		const unsigned char *s;
		size_t n;

		if (feat_string(p, len, &pos, &s, &n))
			return -KVMEXIT_EFORMAT;
		n = strnlen((const char *)s, n);
		if (used && used + 1 < sizeof(m->cmdline))
			m->cmdline[used++] = ' ';
		if (n > sizeof(m->cmdline) - 1 - used)
			n = sizeof(m->cmdline) - 1 - used;
		memcpy(m->cmdline + used, s, n);
		used += n;
		m->cmdline[used] = '\0';
	}
	return 0;
}

int kx_feature_process(struct kvmexit_capture *cap, unsigned feat,
			   const unsigned char *p, size_t len, uint64_t off)
{
	struct kvmexit_meta *m = &cap->meta;
	const unsigned char *s;
	size_t pos = 0, n;
	int err = 0;

	switch (feat) {
	case FEAT_HOSTNAME:
	case FEAT_OSRELEASE:
	case FEAT_ARCH:
	case FEAT_CPUDESC:
	case FEAT_CPUID:
		err = feat_string(p, len, &pos, &s, &n);
		if (err)
			break;
		if (feat == FEAT_HOSTNAME)
			copy_text(m->hostname, sizeof(m->hostname), s, n);
		else if (feat == FEAT_OSRELEASE)
			copy_text(m->osrelease, sizeof(m->osrelease), s, n);
		else if (feat == FEAT_ARCH)
			copy_text(m->arch, sizeof(m->arch), s, n);
		else if (feat == FEAT_CPUDESC)
			copy_text(m->cpu_desc, sizeof(m->cpu_desc), s, n);
		else
			copy_text(m->cpuid, sizeof(m->cpuid), s, n);
		break;
	case FEAT_NRCPUS:
		if (len < 8)
			err = -KVMEXIT_EFORMAT;
		else
			m->nr_cpus = ld32(p);	/* available; online follows */
		break;
	case FEAT_CMDLINE:
		err = feat_cmdline(m, p, len);
		break;
	case FEAT_SAMPLE_TIME:
		if (len < 16) {
			err = -KVMEXIT_EFORMAT;
		} else {
			m->start_ns = ld64(p);
			m->end_ns = ld64(p + 8);
		}
		break;
	case FEAT_VERSION:
		/* kvmexit's metadata follows the version string: kept for kx_meta_apply() */
		if (feat_string(p, len, &pos, &s, &n))
			break;		/* perf's own, not ours: not needed */
		pos = strnlen((const char *)s, n) + 1;
		if (pos >= n || n - pos < strlen(KX_META_TEXT_MAGIC) ||
		    memcmp(s + pos, KX_META_TEXT_MAGIC, strlen(KX_META_TEXT_MAGIC)))
			break;
		free(cap->meta_text);
		cap->meta_text = malloc(n - pos);
		if (!cap->meta_text)
			return -ENOMEM;
		memcpy(cap->meta_text, s + pos, n - pos);
		cap->meta_len = n - pos;
		cap->meta_off = off + (uint64_t)(s + pos - p);
		break;
	case KX_FEAT_KVMEXIT:	/* kvmexit 0.1's own section */
		err = kx_meta_decode((const char *)p, len, m, &cap->counts);
		if (err == -ENOMEM)
			return err;
		break;
	default:
		break;
	}
	if (err)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "feature section %u at offset 0x%llx (%zu bytes) is malformed",
			    feat, (unsigned long long)off, len);
	return 0;
}

bool kx_feature_wanted(unsigned feat)
{
	switch (feat) {
	case FEAT_HOSTNAME: case FEAT_OSRELEASE: case FEAT_ARCH: case FEAT_NRCPUS:
	case FEAT_CPUDESC: case FEAT_CPUID: case FEAT_CMDLINE: case FEAT_SAMPLE_TIME:
	case FEAT_VERSION: case KX_FEAT_KVMEXIT:
		return true;
	default:
		return false;
	}
}

/* The tracepoint IDs of the capture's attrs, sorted. */
struct used_ids {
	uint64_t *v;
	size_t nr;
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A format the capture's attrs use: a tracepoint attr with its ID. */
static bool format_used(uint64_t id, void *arg)
{
	const struct used_ids *u = arg;

	return u->nr && bsearch(&id, u->v, u->nr, sizeof(*u->v), u64_cmp);
}

/*
 * Decodes the metadata kept from the VERSION feature, after every other
 * feature of the header: its values win over perf's, as those of bit 250,
 * which comes last, did.
 */
int kx_meta_apply(struct kvmexit_capture *cap)
{
	int err;

	if (!cap->meta_text)
		return 0;
	err = kx_meta_decode(cap->meta_text, cap->meta_len, &cap->meta, &cap->counts);
	free(cap->meta_text);
	cap->meta_text = NULL;
	if (err == -ENOMEM)
		return err;
	if (err)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
				       "kvmexit's metadata at offset 0x%llx (%zu bytes) is malformed",
				       (unsigned long long)cap->meta_off, cap->meta_len);
	return 0;
}

int kx_tracing_read(struct kvmexit_capture *cap, uint64_t size)
{
	struct used_ids u = { 0 };
	uint64_t off = cap->rd.off;
	struct kx_formats *f = NULL;
	char msg[KX_ERRMSG_SIZE];
	int err;

	if (cap->has_tracing)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "second tracing data at offset 0x%llx",
			    (unsigned long long)off);
	u.v = malloc((cap->nr_attrs ? cap->nr_attrs : 1) * sizeof(*u.v));
	if (!u.v)
		return -ENOMEM;
	for (size_t i = 0; i < cap->nr_attrs; i++)
		if (cap->attrs[i].attr.type == PERF_TYPE_TRACEPOINT)
			u.v[u.nr++] = cap->attrs[i].attr.config;
	qsort(u.v, u.nr, sizeof(*u.v), u64_cmp);
	err = kx_tracedata_read_wanted(&cap->rd, size, &f, msg, format_used, &u);
	free(u.v);
	if (err)
		return kx_capture_fail(cap, err, "%s", msg);
	cap->formats = f;
	cap->has_tracing = true;
	kx_attrs_resolve(cap);
	return 0;
}

size_t kx_capture_formats_parsed(const struct kvmexit_capture *cap)
{
	return kx_formats_parsed(cap->formats);
}

void kx_meta_finish(struct kvmexit_capture *cap)
{
	struct kvmexit_meta *m = &cap->meta;

	if (!m->vendor[0] && m->cpuid[0])
		copy_text(m->vendor, sizeof(m->vendor), (const unsigned char *)m->cpuid,
			  strcspn(m->cpuid, ","));
	if (m->isa == KVMEXIT_ISA_UNKNOWN)
		m->isa = kx_isa_from_vendor(m->vendor);
}

/* The capture's start and end, when its meta does not have them: its samples'. */
void kx_meta_times(struct kvmexit_capture *cap)
{
	if (!cap->meta.start_ns && cap->first_time != UINT64_MAX)
		cap->meta.start_ns = cap->first_time;
	if (!cap->meta.end_ns)
		cap->meta.end_ns = cap->last_time;
	cap->meta.unknown_id_samples = cap->nr_unknown_id;
	kx_meta_finish(cap);
}

/* ------------------------------------------------------------ file mode */

/* Reads [off, off + size) of a file-mode capture into a new buffer. */
static int read_at(struct kvmexit_capture *cap, uint64_t off, uint64_t size,
		   unsigned char **out, const char *what)
{
	unsigned char *buf;
	int err;

	if (off > cap->file_size || size > cap->file_size - off)
		return kx_capture_fail(cap, -KVMEXIT_ETRUNC,
			    "%s at offset 0x%llx, 0x%llx bytes, lies past the end of the file (0x%llx bytes)",
			    what, (unsigned long long)off, (unsigned long long)size,
			    (unsigned long long)cap->file_size);
	if (size > KX_MAX_FEATURE)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "%s at offset 0x%llx is too large (0x%llx bytes)",
			    what, (unsigned long long)off, (unsigned long long)size);
	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	err = kx_rd_seek(&cap->rd, off, off + size);
	if (!err)
		err = kx_rd_read(&cap->rd, buf, size);
	if (err) {
		free(buf);
		return kx_capture_fail(cap, err, "reading %s at offset 0x%llx: %s", what,
			    (unsigned long long)off, kvmexit_strerror(err));
	}
	*out = buf;
	return 0;
}

struct file_header {
	uint64_t magic, size, attr_size;
	struct { uint64_t offset, size; } attrs, data, event_types;
	uint64_t features[4];
};

static int file_attrs(struct kvmexit_capture *cap, const struct file_header *h)
{
	uint64_t nr, entry = h->attr_size;
	unsigned char *buf = NULL;
	int err;

	if (entry < PERF_ATTR_SIZE_VER0 + 16 || entry > KX_MAX_ATTR_SIZE)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "the header's attr_size is %llu (expected 80 to %u)",
			    (unsigned long long)entry, KX_MAX_ATTR_SIZE);
	if (h->attrs.size % entry)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "the attrs section (%llu bytes) is not a multiple of attr_size %llu",
			    (unsigned long long)h->attrs.size, (unsigned long long)entry);
	nr = h->attrs.size / entry;
	if (nr > KX_MAX_ATTRS)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "%llu attrs (at most %u)",
			    (unsigned long long)nr, KX_MAX_ATTRS);
	err = read_at(cap, h->attrs.offset, h->attrs.size, &buf, "the attrs section");
	for (uint64_t i = 0; !err && i < nr; i++) {
		const unsigned char *p = buf + i * entry;
		uint64_t ids_off = ld64(p + entry - 16), ids_size = ld64(p + entry - 8);
		unsigned char *ids = NULL;

		err = kx_attr_add(cap, p, entry - 16, h->attrs.offset + i * entry);
		if (!err && ids_size % 8)
			err = kx_capture_fail(cap, -KVMEXIT_EFORMAT,
				   "attr %llu: its ids section has %llu bytes, not a multiple of 8",
				   (unsigned long long)i, (unsigned long long)ids_size);
		if (!err && ids_size > (uint64_t)KX_MAX_IDS * 8)
			err = kx_capture_fail(cap, -KVMEXIT_EFORMAT, "attr %llu: more than %u ids",
				   (unsigned long long)i, KX_MAX_IDS);
		if (!err)
			err = read_at(cap, ids_off, ids_size, &ids, "an attr's ids");
		if (!err)
			err = kx_ids_add(cap, ids, ids_size / 8, (uint32_t)i);
		free(ids);
	}
	free(buf);
	return err;
}

static int file_features(struct kvmexit_capture *cap, const struct file_header *h)
{
	unsigned nr = 0, k = 0;
	unsigned char *table = NULL;
	int err;

	for (unsigned b = 0; b < FEAT_BITS; b++)
		nr += (h->features[b / 64] >> (b % 64)) & 1;
	if (!nr)
		return 0;
	err = read_at(cap, cap->data_end, (uint64_t)nr * 16, &table, "the feature table");
	for (unsigned b = 0; !err && b < FEAT_BITS; b++) {
		uint64_t off, size;
		unsigned char *p = NULL;

		if (!((h->features[b / 64] >> (b % 64)) & 1))
			continue;
		off = ld64(table + 16 * k);
		size = ld64(table + 16 * k + 8);
		k++;
		/*
		 * Only sections read are checked, as perf does: a capture
		 * never closed carries a bit 0 entry that is really data.
		 */
		if (b != FEAT_TRACING_DATA && !kx_feature_wanted(b))
			continue;
		if (off > cap->file_size || size > cap->file_size - off) {
			err = kx_capture_fail(cap, -KVMEXIT_ETRUNC,
				   "feature section %u at offset 0x%llx, 0x%llx bytes, lies past the end of the file (0x%llx bytes)",
				   b, (unsigned long long)off, (unsigned long long)size,
				   (unsigned long long)cap->file_size);
		} else if (b == FEAT_TRACING_DATA) {
			err = kx_rd_seek(&cap->rd, off, off + size);
			if (!err)
				err = kx_tracing_read(cap, size);
		} else if (kx_feature_wanted(b)) {
			err = read_at(cap, off, size, &p, "a feature section");
			if (!err)
				err = kx_feature_process(cap, b, p, size, off);
			free(p);
		}
	}
	free(table);
	return err ? err : kx_meta_apply(cap);
}

int kx_file_open(struct kvmexit_capture *cap, const unsigned char *first16)
{
	struct file_header h;
	struct stat st;
	int err;

	if (!cap->rd.seekable)
		return kx_capture_fail(cap, -ESPIPE,
			    "a file-mode perf.data cannot be read from a pipe: give its path, or record with -o -");
	if (fstat(cap->rd.fd, &st))
		return kx_capture_fail(cap, -errno, "fstat: %s", strerror(errno));
	cap->file_size = (uint64_t)st.st_size;
	memcpy(&h, first16, 16);
	if (h.size != FILE_HEADER_SIZE)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "the header says its size is %llu; a perf.data header is 104 bytes (file mode) or 16 (pipe mode)",
			    (unsigned long long)h.size);
	err = kx_rd_read(&cap->rd, (unsigned char *)&h + 16, sizeof(h) - 16);
	if (err)
		return kx_capture_fail(cap, err, "the file ends inside its header (%llu bytes)",
			    (unsigned long long)cap->file_size);
	if (h.data.offset > cap->file_size || h.data.size > cap->file_size - h.data.offset)
		return kx_capture_fail(cap, -KVMEXIT_ETRUNC,
			    "truncated: the data section ends at 0x%llx but the file has only 0x%llx bytes: it was cut short (copy it again, or record again)",
			    (unsigned long long)(h.data.offset + h.data.size),
			    (unsigned long long)cap->file_size);
	cap->compressed = (h.features[FEAT_COMPRESSED / 64] >> (FEAT_COMPRESSED % 64)) & 1;
	cap->data_start = h.data.offset;
	cap->data_end = h.data.offset + h.data.size;
	err = file_attrs(cap, &h);
	if (!err)
		err = kx_attrs_check(cap);
	if (!err)
		err = file_features(cap, &h);
	if (err)
		return err;
	if (kx_attrs_need_formats(cap) && !cap->formats)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, h.data.size == 0 ?
			    "no data and no tracing data: was perf record stopped before it could finish the file?" :
			    "the capture has tracepoint events but no tracing data (HEADER_TRACING_DATA) to decode them");
	err = kx_rd_seek(&cap->rd, h.data.offset, cap->data_end);
	if (err)
		return kx_capture_fail(cap, err, "seeking to the data section: %s", kvmexit_strerror(err));
	return 0;
}
