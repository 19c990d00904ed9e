// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading perf.data captures: ours or stock perf's, file or pipe mode.
 *
 * Input.  A path, or "-" for standard input.  The first 16 bytes decide:
 * "PERFILE2" and a header size of 16 is pipe mode (`perf record -o -`),
 * read as a stream even from a regular file; a header size of 104 is file
 * mode, which needs a seekable input.  Only little-endian captures are read.
 * Headers, features and pipes go through one buffer of KX_RD_BUF bytes
 * (read(2), or pread(2) so that parts of one file can share its
 * descriptor); a file-mode data section is read through mapped windows of
 * KX_MAP_WINDOW bytes, one at a time (the page cache mapped, not copied).
 * Memory does not grow with the file.
 *
 * File mode.  The header's attrs (each with its section of ids), the data
 * section, and the feature sections: a table of {offset, size} at
 * data.offset + data.size, one entry per set bit of the feature bitmap in
 * bit order; every payload is read at its own offset.  Features used:
 * TRACING_DATA (formats, lib/tracedata.c), HOSTNAME, OSRELEASE, ARCH,
 * NRCPUS, CPUDESC, CPUID, CMDLINE, SAMPLE_TIME and kvmexit's own section
 * (bit KX_FEAT_KVMEXIT, decoded by kx_meta_decode()); others are skipped.
 *
 * Pipe mode.  kvmexit_capture_open() consumes the leading synthesized
 * records (HEADER_ATTR, HEADER_FEATURE, HEADER_TRACING_DATA whose blob
 * follows the record in the stream, ...) up to the first kernel record or
 * FINISHED_INIT; later ones are handled during the walk as they come.
 *
 * Records.  Every header.size is checked: at least 8, within the data
 * section (file mode), and no field is read past its record.  SAMPLE,
 * LOST, LOST_SAMPLES, FINISHED_ROUND are used; AUXTRACE's trailing data is
 * skipped; COMPRESSED is an error (re-record without -z); anything else is
 * skipped by its size.  A sample's attr is found by its id (IDENTIFIER, or
 * the ID position, which must be the same for every attr) when there are
 * several attrs; for other records by the sample_id_all trailer.  Sample
 * fields are walked in the kernel's order up to RAW, which is all kvmexit
 * needs.  Samples of events that are not the kvm events kvmexit decodes are
 * counted per attr (kx_capture_nr_samples()) and otherwise skipped.  A
 * sample without TID has pid = tid = -1, one without CPU cpu = UINT32_MAX.
 *
 * Ordering.  As perf's ordered events: decoded kvm events and lost records
 * are queued; at each FINISHED_ROUND the queue is stably sorted by time and
 * the events up to the previous round's largest timestamp are delivered
 * (later ones may still be overtaken by the next round's data).  At the end
 * everything left is delivered.  Records without a time (no sample_id_all)
 * are queued at the largest time seen so far, so they stay in file order
 * relative to what came before them.  Memory is bounded: the queue holds at
 * most KX_QUEUE_MAX (131072) events, 23 MiB with its spare arrays; when a
 * round is larger (files without FINISHED_ROUND, or rounds of many CPUs),
 * the older half of the queue is sorted and delivered, as perf does when it
 * reaches its ordered-events memory limit (OE_FLUSH__HALF).  Events arriving
 * older than what was already delivered are then delivered late, out of
 * order, as perf does.  Only kvm events and lost records are queued, decoded
 * (72 bytes each); other samples are counted and dropped at once.
 *
 * Speed.  Samples of kvm_exit and kvm_entry are decoded in one loop
 * (samples_buffered()): fields at word positions computed once per attr,
 * a cached id lookup, one masked load per tracepoint field at offsets
 * resolved once per format (kx_layout_decode_loads()), straight into the
 * queue's ring, with the queue's counters in locals; no allocation, no
 * string work.  Events are never copied while queued, and a round that
 * came in time order is not sorted, nor even keyed.  A window of the file
 * costs a few page faults where read(2) copies every byte (BENCHMARKS.md).
 *
 * Parallel walks.  A file-mode capture can be walked in parts cut at
 * FINISHED_ROUND records, each by its own reader (kx_capture_split(),
 * struct kx_part): lib/profile-parallel.c runs them on threads and merges
 * their profiles.  (A pipeline, one thread reading and ordering and the
 * caller's aggregating, was tried and was slower on a 2-CPU guest: the
 * events crossing cores cost more than the thread saved.)  Measured on a
 * synthetic capture of 10M kvm_exit+kvm_entry pairs (2.24 GB, page cache
 * warm), `kvmexit report`: see BENCHMARKS.md.
 *
 * Errors and partial input.  Headers, attrs and feature sections must be
 * complete and valid: any problem fails kvmexit_capture_open() with a
 * message naming the offset.  A file-mode data section extending past the
 * end of the file is an error at open (the feature sections, which hold the
 * formats, would be missing).  A problem inside the data section (a bad
 * record size, a record cut short, a truncated pipe stream) ends the walk:
 * the events queued before it are delivered first, then
 * kvmexit_capture_for_each() returns the error (-KVMEXIT_EFORMAT or
 * -KVMEXIT_ETRUNC) and kvmexit_capture_errmsg() says where; callers may use
 * the partial result.  Size fields are capped by the file size and by fixed
 * limits (KX_MAX_*) before anything is allocated, and every loop consumes
 * input, so no input makes the reader crash, hang or allocate without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "internal.h"

#define KX_RD_BUF		(1u << 20)	/* > the largest record, 64 KiB */
#define KX_RD_SLACK		8		/* readable past the data: kx_field_load() */
#define KX_MAP_WINDOW		(16u << 20)	/* > KX_RD_BUF + KX_MAP_ALIGN */
#define KX_MAP_ALIGN		(64u << 10)	/* a multiple of any page size */
#define KX_QUEUE_MAX		(1u << 17)	/* queued events: 23 MiB at most */
#define KX_MAX_ATTRS		4096
#define KX_MAX_IDS		(1u << 20)
#define KX_MAX_FEATURE		(16u << 20)	/* a feature payload we read */
#define KX_MAX_ATTR_SIZE	4096
#define KX_PATH_MAX		256

#define PERF_MAGIC2		0x32454c4946524550ULL	/* "PERFILE2" */
#define PERF_MAGIC2_SWAPPED	0x50455246494c4532ULL
#define PIPE_HEADER_SIZE	16
#define FILE_HEADER_SIZE	104

/* perf's own records (tools/perf/util/event.h), not in the uapi header. */
enum {
	REC_HEADER_ATTR = 64,
	REC_HEADER_EVENT_TYPE = 65,
	REC_HEADER_TRACING_DATA = 66,
	REC_HEADER_BUILD_ID = 67,
	REC_FINISHED_ROUND = 68,
	REC_AUXTRACE = 71,
	REC_HEADER_FEATURE = 80,
	REC_COMPRESSED = 81,
	REC_FINISHED_INIT = 82,
	REC_USER_TYPE_START = 64,
};


struct kx_rd {
	int fd;
	bool seekable;
	unsigned char *buf;		/* heap, or the mapped window */
	unsigned char *heap;		/* KX_RD_BUF + KX_RD_SLACK bytes */
	unsigned char *map;		/* a window of the file, or NULL */
	size_t map_len;
	uint64_t map_size;		/* the file's size while windows are used; 0 */
	size_t head, tail;		/* valid bytes: buf[head..tail) */
	uint64_t off;			/* input offset of buf[head] */
	uint64_t limit;			/* nothing is read at or past this */
};

struct kx_attr {
	struct perf_event_attr attr;
	const struct kx_layout *layout;	/* NULL: not a kvm event we decode */
	bool resolved;
	bool fixed;			/* only fixed-size fields before RAW */
	int8_t tid_w, time_w, cpu_w;	/* u64 index of TID, TIME, CPU; -1 */
	uint8_t raw_w;			/* of RAW, when .fixed */
	bool hot;			/* samples_buffered() decodes it inline */
	uint16_t raw_off;		/* of RAW's size in the record, when .hot */
	uint32_t raw_min;		/* layout->min_size, when .hot */
	uint64_t nr_samples;
};

struct kx_id {
	uint64_t id;
	uint32_t attr;
};

struct kx_key {
	uint64_t time;
	uint32_t idx;			/* ring position: v[idx & (alloc - 1)] */
};

struct kx_queue {
	struct kvmexit_event *v, *vtmp;	/* ring of events in arrival order, spare */
	struct kx_key *k, *ktmp;	/* when .keyed: keys of the queued events
					 * (sorted when .sorted); spare */
	size_t nr, alloc;		/* queued events, ring size (a power of 2) */
	uint32_t head, tail;		/* ring positions in use: [head, tail) */
	bool keyed;			/* else the ring is in time order, no holes */
	bool sorted;
	uint64_t last_time;		/* of the last event queued */
	uint64_t max_time;		/* largest time queued so far */
	uint64_t queued;		/* events queued so far */
	uint64_t next_flush;		/* a round delivers up to this time */
};

/*
 * A part of a parallel walk (kx_capture_part_new()).  It owns the records
 * from its start to its end, the next part's start.  A part that does not
 * start the data begins at a round record with an empty queue, so it cannot
 * know what its first rounds' flushes would deliver; the previous part,
 * which can, reads on past its end for that, up to the "sync" round record:
 * the one after the end of the 2nd round with events.  Until then the
 * next part delivers nothing ("quiet"); after it, its queue holds what a
 * single walk's would, provided its largest time at the round record
 * before the sync one is at least the largest time before it began, and
 * its queue never filled while quiet (kx_capture_parts_agree() checks).
 */
struct kx_part {
	bool on, last;
	bool quiet;			/* deliveries belong to the previous part */
	bool quiet_halved;		/* the queue was half-flushed while quiet */
	bool past_end;			/* reading the next part's first rounds */
	bool done;			/* ... through its sync round record */
	bool armed;			/* the next round record is the sync one */
	unsigned int rounds;		/* rounds with events: own, then past the end */
	uint64_t queued_at_round;	/* q.queued at the last round record */
	uint64_t end;			/* the next part's start */
	uint64_t max_at_arm;		/* q.max_time when armed (own rounds) */
	uint64_t max_at_end;		/* q.max_time at the end of its own range */
	uint64_t *nr_samples;		/* per attr, in its own range */
	uint64_t lost0, lost;		/* meta.lost at the start; own lost */
	uint64_t nr_unknown_id;		/* in its own range */
	kx_events_fn batch;		/* the caller's, once not quiet */
};

struct kvmexit_capture {
	struct kx_rd rd;
	char path[KX_PATH_MAX];
	char errmsg[KX_ERRMSG_SIZE];
	struct kvmexit_meta meta;
	struct kx_counts counts;
	struct kx_formats *formats;
	struct kx_attr *attrs;
	size_t nr_attrs;
	struct kx_id *ids;
	size_t nr_ids;
	bool ids_sorted;
	struct kx_id idcache[64];	/* direct mapped by id; .attr + 1, 0: empty */
	int id_pos;			/* u64 index of the id in a sample; -1 */
	int is_pos;			/* same, counted from the end of a trailer */
	bool pipe, own_fd, walked, has_tracing;
	uint64_t data_end;		/* file mode; UINT64_MAX in pipe mode */
	uint64_t file_size;		/* file mode */
	uint64_t first_time, last_time;	/* of samples; UINT64_MAX, 0: none */
	uint64_t nr_unknown_id;		/* samples whose id no attr has */
	struct kx_queue q;
	kvmexit_event_fn fn;		/* gets the events one by one, */
	kx_events_fn batch;		/* or, when set, in runs */
	void *arg;
	int stop;			/* the callback's non-zero return */
	uint64_t data_start;		/* file mode */
	bool lean;			/* kx_capture_set_lean() */
	struct kx_part part;
};

static inline uint64_t ld64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t ld32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct kvmexit_capture *cap, int err, const char *fmt, ...)
{
	char msg[KX_ERRMSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kx_error(cap->errmsg, err, "%s: %s", cap->path, msg);
}

/* ------------------------------------------------------------ input */

static int rd_init(struct kx_rd *rd, int fd)
{
	struct stat st;

	rd->fd = fd;
	rd->seekable = !fstat(fd, &st) && S_ISREG(st.st_mode) &&
		       lseek(fd, 0, SEEK_CUR) == 0;
	rd->buf = rd->heap = malloc(KX_RD_BUF + KX_RD_SLACK);
	rd->limit = UINT64_MAX;
	if (rd->seekable)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return rd->buf ? 0 : -ENOMEM;
}

static void rd_unmap(struct kx_rd *rd)
{
	if (rd->map)
		munmap(rd->map, rd->map_len);
	rd->map = NULL;
	rd->buf = rd->heap;
	rd->head = rd->tail = 0;
}

/*
 * Windows of the file instead of read(2) into the buffer, from now on (a
 * file-mode data walk): page cache pages are mapped, not copied, which
 * costs next to nothing when the cache holds the file in large folios.
 * Each window is KX_MAP_WINDOW bytes and replaced by the next, so memory
 * does not grow with the file.
 */
static void rd_map_windows(struct kx_rd *rd, uint64_t file_size)
{
	if (rd->seekable)
		rd->map_size = file_size;
}

/* Maps the window holding [off, off + n); 1 when windows cannot be used. */
static int rd_map_fill(struct kx_rd *rd, size_t n)
{
	uint64_t base = rd->off & ~(uint64_t)(KX_MAP_ALIGN - 1);
	size_t len;
	void *m;

	if (rd->off + n > rd->map_size)
		return -KVMEXIT_ETRUNC;
	len = rd->map_size - base < KX_MAP_WINDOW ? (size_t)(rd->map_size - base) : KX_MAP_WINDOW;
	rd_unmap(rd);
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, rd->fd, (off_t)base);
	if (m == MAP_FAILED) {
		rd->map_size = 0;	/* read(2) from now on */
		return 1;
	}
	(void)madvise(m, len, MADV_SEQUENTIAL);
	rd->map = m;
	rd->map_len = len;
	rd->buf = m;
	rd->head = (size_t)(rd->off - base);
	rd->tail = len;
	return 0;
}

/* Makes n bytes (n <= KX_RD_BUF) available at buf[head]. */
static int rd_fill(struct kx_rd *rd, size_t n)
{
	if (rd->map_size) {
		int r = rd_map_fill(rd, n);

		if (r <= 0)
			return r;
	}
	if (rd->head + n > KX_RD_BUF) {
		memmove(rd->buf, rd->buf + rd->head, rd->tail - rd->head);
		rd->tail -= rd->head;
		rd->head = 0;
	}
	while (rd->tail - rd->head < n) {
		/* pread: the parts of a parallel walk share the descriptor */
		ssize_t r = rd->seekable ?
			pread(rd->fd, rd->buf + rd->tail, KX_RD_BUF - rd->tail,
			      (off_t)(rd->off + (rd->tail - rd->head))) :
			read(rd->fd, rd->buf + rd->tail, KX_RD_BUF - rd->tail);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -KVMEXIT_ETRUNC;
		rd->tail += r;
	}
	return 0;
}

static inline int rd_peek(struct kx_rd *rd, size_t n, const unsigned char **p)
{
	if (n > KX_RD_BUF)
		return -KVMEXIT_EFORMAT;
	if (rd->off + n > rd->limit || rd->off + n < rd->off)
		return -KVMEXIT_ETRUNC;
	if (rd->tail - rd->head < n) {
		int err = rd_fill(rd, n);

		if (err)
			return err;
	}
	*p = rd->buf + rd->head;
	return 0;
}

static inline void rd_consume(struct kx_rd *rd, size_t n)
{
	rd->head += n;
	rd->off += n;
}

/* True at a clean end of input (no byte left before the limit or EOF). */
static bool rd_at_end(struct kx_rd *rd)
{
	if (rd->off >= rd->limit)
		return true;
	if (rd->tail > rd->head || rd->limit != UINT64_MAX)
		return false;	/* a limited range must reach its limit */
	return rd_fill(rd, 1) == -KVMEXIT_ETRUNC;
}

static int rd_seek(struct kx_rd *rd, uint64_t off, uint64_t limit)
{
	if (!rd->seekable || off > INT64_MAX)
		return -ESPIPE;
	rd->head = rd->tail = 0;
	rd->off = off;
	rd->limit = limit;
	return 0;
}

uint64_t kx_rd_offset(const struct kx_rd *rd)
{
	return rd->off;
}

int kx_rd_read(struct kx_rd *rd, void *dst, size_t n)
{
	unsigned char *d = dst;

	while (n) {
		size_t chunk = n < KX_RD_BUF / 2 ? n : KX_RD_BUF / 2;
		const unsigned char *p;
		int err = rd_peek(rd, chunk, &p);

		if (err)
			return err;
		memcpy(d, p, chunk);
		rd_consume(rd, chunk);
		d += chunk;
		n -= chunk;
	}
	return 0;
}

int kx_rd_skip(struct kx_rd *rd, uint64_t n)
{
	size_t avail = rd->tail - rd->head;

	if (rd->off + n > rd->limit || rd->off + n < rd->off)
		return -KVMEXIT_ETRUNC;
	if (n <= avail) {
		rd_consume(rd, n);
		return 0;
	}
	if (rd->seekable)
		return rd_seek(rd, rd->off + n, rd->limit);
	while (n) {
		size_t chunk = n < KX_RD_BUF / 2 ? n : KX_RD_BUF / 2;
		const unsigned char *p;
		int err = rd_peek(rd, chunk, &p);

		if (err)
			return err;
		rd_consume(rd, chunk);
		n -= chunk;
	}
	return 0;
}

/* Reads [off, off + size) of a file-mode capture into a new buffer. */
static int read_at(struct kvmexit_capture *cap, uint64_t off, uint64_t size,
		   unsigned char **out, const char *what)
{
	unsigned char *buf;
	int err;

	if (off > cap->file_size || size > cap->file_size - off)
		return fail(cap, -KVMEXIT_ETRUNC,
			    "%s at offset 0x%llx, 0x%llx bytes, lies past the end of the file (0x%llx bytes)",
			    what, (unsigned long long)off, (unsigned long long)size,
			    (unsigned long long)cap->file_size);
	if (size > KX_MAX_FEATURE)
		return fail(cap, -KVMEXIT_EFORMAT, "%s at offset 0x%llx is too large (0x%llx bytes)",
			    what, (unsigned long long)off, (unsigned long long)size);
	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	err = rd_seek(&cap->rd, off, off + size);
	if (!err)
		err = kx_rd_read(&cap->rd, buf, size);
	if (err) {
		free(buf);
		return fail(cap, err, "reading %s at offset 0x%llx: %s", what,
			    (unsigned long long)off, kvmexit_strerror(err));
	}
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------ attrs */

/* perf's id position of a sample: __evsel__calc_id_pos(). */
static int calc_id_pos(uint64_t st)
{
	int idx = 0;

	if (st & PERF_SAMPLE_IDENTIFIER)
		return 0;
	if (!(st & PERF_SAMPLE_ID))
		return -1;
	idx += !!(st & PERF_SAMPLE_IP);
	idx += !!(st & PERF_SAMPLE_TID);
	idx += !!(st & PERF_SAMPLE_TIME);
	idx += !!(st & PERF_SAMPLE_ADDR);
	return idx;
}

/* Position from the end of the sample_id trailer: __evsel__calc_is_pos(). */
static int calc_is_pos(uint64_t st)
{
	int idx = 1;

	if (st & PERF_SAMPLE_IDENTIFIER)
		return 1;
	if (!(st & PERF_SAMPLE_ID))
		return -1;
	idx += !!(st & PERF_SAMPLE_CPU);
	idx += !!(st & PERF_SAMPLE_STREAM_ID);
	return idx;
}

/*
 * The positions of a sample's fields, in the kernel's order: IDENTIFIER,
 * IP, TID, TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, READ, CALLCHAIN, RAW.
 * With neither READ nor CALLCHAIN (variable sizes), RAW is at a fixed word.
 */
static void attr_positions(struct kx_attr *a)
{
	uint64_t st = a->attr.sample_type;
	int i = !!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP);

	a->tid_w = st & PERF_SAMPLE_TID ? i++ : -1;
	a->time_w = st & PERF_SAMPLE_TIME ? i++ : -1;
	i += !!(st & PERF_SAMPLE_ADDR) + !!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID);
	a->cpu_w = st & PERF_SAMPLE_CPU ? i++ : -1;
	i += !!(st & PERF_SAMPLE_PERIOD);
	a->raw_w = (uint8_t)i;
	a->fixed = (st & PERF_SAMPLE_RAW) && !(st & (PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN));
}

/* Copies an on-disk attr of size bytes (its own size field may differ). */
static int attr_add(struct kvmexit_capture *cap, const unsigned char *p, size_t size,
		    uint64_t off)
{
	struct kx_attr *a;
	size_t n = size < sizeof(a->attr) ? size : sizeof(a->attr);

	if (cap->nr_attrs == KX_MAX_ATTRS)
		return fail(cap, -KVMEXIT_EFORMAT, "attr at offset 0x%llx: more than %u attrs",
			    (unsigned long long)off, KX_MAX_ATTRS);
	if (size < PERF_ATTR_SIZE_VER0)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "attr at offset 0x%llx has size %zu, smaller than the first version's 64",
			    (unsigned long long)off, size);
	a = realloc(cap->attrs, (cap->nr_attrs + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	cap->attrs = a;
	a = &cap->attrs[cap->nr_attrs];
	memset(a, 0, sizeof(*a));
	memcpy(&a->attr, p, n);
	/* Fields beyond its own size are not its (size 0: the first version). */
	if (a->attr.size >= PERF_ATTR_SIZE_VER0 && a->attr.size < n)
		memset((char *)&a->attr + a->attr.size, 0, sizeof(a->attr) - a->attr.size);
	attr_positions(a);
	cap->nr_attrs++;
	return 0;
}

static int ids_add(struct kvmexit_capture *cap, const unsigned char *p, size_t nr,
		   uint32_t attr)
{
	struct kx_id *v;

	if (nr > KX_MAX_IDS - cap->nr_ids)
		return fail(cap, -KVMEXIT_EFORMAT, "more than %u sample ids", KX_MAX_IDS);
	if (!nr)
		return 0;
	v = realloc(cap->ids, (cap->nr_ids + nr) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cap->ids = v;
	for (size_t i = 0; i < nr; i++)
		v[cap->nr_ids++] = (struct kx_id){ .id = ld64(p + 8 * i), .attr = attr };
	cap->ids_sorted = false;
	memset(cap->idcache, 0, sizeof(cap->idcache));
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	const struct kx_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static __attribute__((noinline)) struct kx_attr *attr_by_id_slow(struct kvmexit_capture *cap,
								 uint64_t id)
{
	size_t lo = 0, hi;

	if (!cap->ids_sorted && cap->nr_ids) {
		qsort(cap->ids, cap->nr_ids, sizeof(*cap->ids), id_cmp);
		cap->ids_sorted = true;
	}
	hi = cap->nr_ids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cap->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cap->nr_ids && cap->ids[lo].id == id)
		return &cap->attrs[cap->ids[lo].attr];
	return NULL;
}

static inline struct kx_attr *attr_by_id(struct kvmexit_capture *cap, uint64_t id)
{
	struct kx_id *c = &cap->idcache[id % KX_ARRAY_SIZE(cap->idcache)];
	struct kx_attr *a;

	if (c->attr && c->id == id)
		return &cap->attrs[c->attr - 1];
	a = attr_by_id_slow(cap, id);
	if (a)
		*c = (struct kx_id){ .id = id, .attr = (uint32_t)(a - cap->attrs) + 1 };
	return a;
}

/* Every attr must put the id at the same place, as perf requires. */
static int attrs_check(struct kvmexit_capture *cap)
{
	if (!cap->nr_attrs)
		return 0;
	cap->id_pos = calc_id_pos(cap->attrs[0].attr.sample_type);
	cap->is_pos = calc_is_pos(cap->attrs[0].attr.sample_type);
	if (cap->nr_attrs == 1)
		return 0;
	for (size_t i = 1; i < cap->nr_attrs; i++) {
		uint64_t st = cap->attrs[i].attr.sample_type;

		if (calc_id_pos(st) != cap->id_pos || calc_is_pos(st) != cap->is_pos)
			return fail(cap, -KVMEXIT_EFORMAT,
				    "attrs 0 and %zu place the sample id differently (sample_type 0x%llx and 0x%llx)",
				    i, (unsigned long long)cap->attrs[0].attr.sample_type,
				    (unsigned long long)st);
	}
	if (cap->id_pos < 0)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "%zu attrs but samples carry no id (neither PERF_SAMPLE_ID nor IDENTIFIER)",
			    cap->nr_attrs);
	return 0;
}

static void attrs_resolve(struct kvmexit_capture *cap)
{
	if (!cap->formats)
		return;
	for (size_t i = 0; i < cap->nr_attrs; i++) {
		struct kx_attr *a = &cap->attrs[i];

		if (a->resolved)
			continue;
		a->resolved = true;
		if (a->attr.type == PERF_TYPE_TRACEPOINT)
			a->layout = kx_formats_layout(cap->formats, a->attr.config);
		a->hot = a->fixed && a->tid_w >= 0 && a->time_w >= 0 && a->layout &&
			 a->layout->loadable;
		a->raw_off = (uint16_t)(8 + 8 * a->raw_w);
		a->raw_min = a->layout ? a->layout->min_size : 0;
	}
}

static bool attrs_need_formats(const struct kvmexit_capture *cap)
{
	for (size_t i = 0; i < cap->nr_attrs; i++)
		if (cap->attrs[i].attr.type == PERF_TYPE_TRACEPOINT)
			return true;
	return false;
}

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

static int feature_process(struct kvmexit_capture *cap, unsigned feat,
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
	case KX_FEAT_KVMEXIT:
		err = kx_meta_decode((const char *)p, len, m, &cap->counts);
		if (err == -ENOMEM)
			return err;
		break;
	default:
		break;
	}
	if (err)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "feature section %u at offset 0x%llx (%zu bytes) is malformed",
			    feat, (unsigned long long)off, len);
	return 0;
}

static bool feature_wanted(unsigned feat)
{
	switch (feat) {
	case FEAT_HOSTNAME: case FEAT_OSRELEASE: case FEAT_ARCH: case FEAT_NRCPUS:
	case FEAT_CPUDESC: case FEAT_CPUID: case FEAT_CMDLINE: case FEAT_SAMPLE_TIME:
	case KX_FEAT_KVMEXIT:
		return true;
	default:
		return false;
	}
}

static int tracing_read(struct kvmexit_capture *cap, uint64_t size)
{
	uint64_t off = cap->rd.off;
	struct kx_formats *f = NULL;
	char msg[KX_ERRMSG_SIZE];
	int err;

	if (cap->has_tracing)
		return fail(cap, -KVMEXIT_EFORMAT, "second tracing data at offset 0x%llx",
			    (unsigned long long)off);
	err = kx_tracedata_read(&cap->rd, size, &f, msg);
	if (err)
		return fail(cap, err, "%s", msg);
	cap->formats = f;
	cap->has_tracing = true;
	attrs_resolve(cap);
	return 0;
}

static void meta_finish(struct kvmexit_capture *cap)
{
	struct kvmexit_meta *m = &cap->meta;

	if (!m->vendor[0] && m->cpuid[0])
		copy_text(m->vendor, sizeof(m->vendor), (const unsigned char *)m->cpuid,
			  strcspn(m->cpuid, ","));
	if (m->isa == KVMEXIT_ISA_UNKNOWN)
		m->isa = kx_isa_from_vendor(m->vendor);
}

/* The capture's start and end, when its meta does not have them: its samples'. */
static void meta_times(struct kvmexit_capture *cap)
{
	if (!cap->meta.start_ns && cap->first_time != UINT64_MAX)
		cap->meta.start_ns = cap->first_time;
	if (!cap->meta.end_ns)
		cap->meta.end_ns = cap->last_time;
	meta_finish(cap);
}

/* ------------------------------------------------------------ file mode */

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
		return fail(cap, -KVMEXIT_EFORMAT,
			    "the header's attr_size is %llu (expected 80 to %u)",
			    (unsigned long long)entry, KX_MAX_ATTR_SIZE);
	if (h->attrs.size % entry)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "the attrs section (%llu bytes) is not a multiple of attr_size %llu",
			    (unsigned long long)h->attrs.size, (unsigned long long)entry);
	nr = h->attrs.size / entry;
	if (nr > KX_MAX_ATTRS)
		return fail(cap, -KVMEXIT_EFORMAT, "%llu attrs (at most %u)",
			    (unsigned long long)nr, KX_MAX_ATTRS);
	err = read_at(cap, h->attrs.offset, h->attrs.size, &buf, "the attrs section");
	for (uint64_t i = 0; !err && i < nr; i++) {
		const unsigned char *p = buf + i * entry;
		uint64_t ids_off = ld64(p + entry - 16), ids_size = ld64(p + entry - 8);
		unsigned char *ids = NULL;

		err = attr_add(cap, p, entry - 16, h->attrs.offset + i * entry);
		if (!err && ids_size % 8)
			err = fail(cap, -KVMEXIT_EFORMAT,
				   "attr %llu: its ids section has %llu bytes, not a multiple of 8",
				   (unsigned long long)i, (unsigned long long)ids_size);
		if (!err && ids_size > (uint64_t)KX_MAX_IDS * 8)
			err = fail(cap, -KVMEXIT_EFORMAT, "attr %llu: more than %u ids",
				   (unsigned long long)i, KX_MAX_IDS);
		if (!err)
			err = read_at(cap, ids_off, ids_size, &ids, "an attr's ids");
		if (!err)
			err = ids_add(cap, ids, ids_size / 8, (uint32_t)i);
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
		if (b != FEAT_TRACING_DATA && !feature_wanted(b))
			continue;
		if (off > cap->file_size || size > cap->file_size - off) {
			err = fail(cap, -KVMEXIT_ETRUNC,
				   "feature section %u at offset 0x%llx, 0x%llx bytes, lies past the end of the file (0x%llx bytes)",
				   b, (unsigned long long)off, (unsigned long long)size,
				   (unsigned long long)cap->file_size);
		} else if (b == FEAT_TRACING_DATA) {
			err = rd_seek(&cap->rd, off, off + size);
			if (!err)
				err = tracing_read(cap, size);
		} else if (feature_wanted(b)) {
			err = read_at(cap, off, size, &p, "a feature section");
			if (!err)
				err = feature_process(cap, b, p, size, off);
			free(p);
		}
	}
	free(table);
	return err;
}

static int file_open(struct kvmexit_capture *cap, const unsigned char *first16)
{
	struct file_header h;
	struct stat st;
	int err;

	if (!cap->rd.seekable)
		return fail(cap, -ESPIPE,
			    "a file-mode perf.data cannot be read from a pipe: give its path, or record with -o -");
	if (fstat(cap->rd.fd, &st))
		return fail(cap, -errno, "fstat: %s", strerror(errno));
	cap->file_size = (uint64_t)st.st_size;
	memcpy(&h, first16, 16);
	if (h.size != FILE_HEADER_SIZE)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "the header says its size is %llu; a perf.data header is 104 bytes (file mode) or 16 (pipe mode)",
			    (unsigned long long)h.size);
	err = kx_rd_read(&cap->rd, (unsigned char *)&h + 16, sizeof(h) - 16);
	if (err)
		return fail(cap, err, "the file ends inside its header (%llu bytes)",
			    (unsigned long long)cap->file_size);
	if (h.data.offset > cap->file_size || h.data.size > cap->file_size - h.data.offset)
		return fail(cap, -KVMEXIT_ETRUNC,
			    "truncated: the data section ends at 0x%llx but the file has only 0x%llx bytes: it was cut short (copy it again, or record again)",
			    (unsigned long long)(h.data.offset + h.data.size),
			    (unsigned long long)cap->file_size);
	cap->data_start = h.data.offset;
	cap->data_end = h.data.offset + h.data.size;
	err = file_attrs(cap, &h);
	if (!err)
		err = attrs_check(cap);
	if (!err)
		err = file_features(cap, &h);
	if (err)
		return err;
	if (attrs_need_formats(cap) && !cap->formats)
		return fail(cap, -KVMEXIT_EFORMAT, h.data.size == 0 ?
			    "no data and no tracing data: was perf record stopped before it could finish the file?" :
			    "the capture has tracepoint events but no tracing data (HEADER_TRACING_DATA) to decode them");
	err = rd_seek(&cap->rd, h.data.offset, cap->data_end);
	if (err)
		return fail(cap, err, "seeking to the data section: %s", kvmexit_strerror(err));
	return 0;
}

/* ------------------------------------------------------------ ordering */

/*
 * Events are decoded straight into a ring, v[], in arrival order.  While
 * they arrive in time order (our captures; perf's with one CPU) the ring
 * is the order: a flush delivers its first events and moves its head, with
 * no key, no sort and no copy.  The first event older than the one before
 * it makes the queue "keyed": 16-byte keys holding ring positions are
 * made for the queued events, and sorting moves only them.  A keyed flush
 * delivers v[k[0].idx], v[k[1].idx]... and marks their slots done; the
 * ring's head moves past done slots, so in the common case (a round's
 * events are all delivered at the next round) no event is copied.  An
 * empty queue is in ring order again.  When the ring is full of live
 * events and holes (slots delivered out of ring order), it is compacted:
 * the live events, in key order, into the spare array.
 */
#define KX_EV_DONE ((enum kvmexit_event_type)(KVMEXIT_EV__MAX + 1))

static void merge(const struct kx_key *a, size_t na, const struct kx_key *b, size_t nb,
		  struct kx_key *out)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb)
		*out++ = b[j].time < a[i].time ? b[j++] : a[i++];
	memcpy(out, a + i, (na - i) * sizeof(*a));
	memcpy(out + (na - i), b + j, (nb - j) * sizeof(*b));
}

static size_t run_end(const struct kx_key *k, size_t i, size_t n)
{
	for (i++; i < n && k[i].time >= k[i - 1].time; i++)
		;
	return i;
}

/* Stable natural merge sort by time: a round is a few sorted runs (CPUs). */
static void queue_sort(struct kx_queue *q)
{
	struct kx_key *src = q->k, *dst = q->ktmp, *t;
	size_t runs;

	if (!q->keyed || q->sorted)
		return;
	do {
		runs = 0;
		for (size_t i = 0; i < q->nr;) {
			size_t m = run_end(src, i, q->nr);
			size_t e = m < q->nr ? run_end(src, m, q->nr) : q->nr;

			merge(src + i, m - i, src + m, e - m, dst + i);
			runs++;
			i = e;
		}
		t = src;
		src = dst;
		dst = t;
	} while (runs > 1);
	q->k = src;
	q->ktmp = dst;
	q->sorted = true;
}

/* The time of the i-th queued event in delivery order (sorted). */
static inline uint64_t queue_time(const struct kx_queue *q, size_t i)
{
	if (q->keyed)
		return q->k[i].time;
	return q->v[(q->head + i) & (q->alloc - 1)].time;
}

/* Hands n events from ring position pos to the batch callback, in runs. */
static int deliver_runs(struct kvmexit_capture *cap, uint32_t pos, size_t n)
{
	struct kx_queue *q = &cap->q;

	while (n) {
		size_t at = pos & (q->alloc - 1), run = q->alloc - at < n ? q->alloc - at : n;
		int r = cap->batch(&q->v[at], run, cap->arg);

		if (r)
			return r;
		pos += (uint32_t)run;
		n -= run;
	}
	return 0;
}

/* Delivers the first n events in delivery order (sorted) and keeps the rest. */
static int queue_pop(struct kvmexit_capture *cap, size_t n)
{
	struct kx_queue *q = &cap->q;
	uint32_t mask = (uint32_t)q->alloc - 1;

	if (cap->batch && !q->keyed && n) {
		cap->stop = deliver_runs(cap, q->head, n);
		q->nr -= n;
		q->head += (uint32_t)n;
		return cap->stop;
	}
	for (size_t i = 0; i < n; i++) {
		struct kvmexit_event *ev = &q->v[(q->keyed ? q->k[i].idx : q->head + i) & mask];
		int r = cap->batch ? cap->batch(ev, 1, cap->arg) : cap->fn(ev, cap->arg);

		if (q->keyed)
			ev->type = KX_EV_DONE;
		if (r) {
			n = i + 1;
			cap->stop = r;
			break;
		}
	}
	if (!n)
		return cap->stop;
	q->nr -= n;
	if (!q->keyed) {
		q->head += (uint32_t)n;
		return cap->stop;
	}
	memmove(q->k, q->k + n, q->nr * sizeof(*q->k));
	while (q->head != q->tail && q->v[q->head & mask].type == KX_EV_DONE)
		q->head++;
	if (!q->nr)
		q->keyed = false;	/* head == tail: every slot was done */
	return cap->stop;
}

static int queue_flush_to(struct kvmexit_capture *cap, uint64_t limit)
{
	struct kx_queue *q = &cap->q;
	size_t lo = 0, hi;

	queue_sort(q);
	hi = q->nr;
	while (lo < hi) {		/* first event later than limit */
		size_t mid = lo + (hi - lo) / 2;

		if (queue_time(q, mid) <= limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return queue_pop(cap, lo);
}

static int queue_round(struct kvmexit_capture *cap)
{
	int r = queue_flush_to(cap, cap->q.next_flush);

	cap->q.next_flush = cap->q.max_time;
	return r;
}

/*
 * Moves the queued events, in delivery order, to the front of a ring of n
 * slots (n >= q->nr): the spare array, grown to n first when larger.
 */
static int queue_compact(struct kx_queue *q, size_t n)
{
	uint32_t mask = (uint32_t)q->alloc - 1;
	struct kvmexit_event *t;
	void *p;

#define GROW(field) do {						\
		p = realloc(q->field, n * sizeof(*q->field));		\
		if (!p)							\
			return -ENOMEM;					\
		q->field = p;						\
	} while (0)
	if (n > q->alloc) {
		GROW(vtmp);
		GROW(k);
		GROW(ktmp);
	}
	for (size_t i = 0; i < q->nr; i++) {
		if (q->keyed) {
			q->vtmp[i] = q->v[q->k[i].idx & mask];
			q->k[i].idx = (uint32_t)i;
		} else {
			q->vtmp[i] = q->v[(q->head + i) & mask];
		}
	}
	t = q->v;
	q->v = q->vtmp;
	q->vtmp = t;
	q->head = 0;
	q->tail = (uint32_t)q->nr;
	if (n > q->alloc)
		GROW(vtmp);
#undef GROW
	q->alloc = n;
	return 0;
}

/* Makes room for one more event in the ring. */
static int queue_room(struct kvmexit_capture *cap)
{
	struct kx_queue *q = &cap->q;
	int err;

	if (!q->alloc)
		return queue_compact(q, 4096);
	if (q->nr < q->alloc / 2)
		return queue_compact(q, q->alloc);	/* mostly holes */
	if (q->alloc < KX_QUEUE_MAX)
		return queue_compact(q, q->alloc * 2);
	/* Full: deliver the older half, as perf's OE_FLUSH__HALF. */
	if (cap->part.quiet)
		cap->part.quiet_halved = true;
	queue_sort(q);
	err = queue_pop(cap, q->nr / 2);
	if (err)
		return err;
	return q->tail - q->head < q->alloc ? 0 : queue_compact(q, q->alloc);
}

/* A free slot to decode an event into, or NULL (error or stop in cap). */
static inline struct kvmexit_event *queue_slot(struct kvmexit_capture *cap, int *err)
{
	struct kx_queue *q = &cap->q;

	if (__builtin_expect(q->tail - q->head == q->alloc, 0)) {
		*err = queue_room(cap);
		if (*err) {
			if (!cap->stop)
				*err = fail(cap, *err, "queueing events: %s",
					    kvmexit_strerror(*err));
			return NULL;
		}
	}
	return &q->v[q->tail & (q->alloc - 1)];
}

/* Keys for the queued events, in ring order: the first one out of order came. */
static void queue_key(struct kx_queue *q)
{
	uint32_t mask = (uint32_t)q->alloc - 1;

	for (size_t i = 0; i < q->nr; i++)
		q->k[i] = (struct kx_key){ .time = q->v[(q->head + i) & mask].time,
					   .idx = q->head + (uint32_t)i };
	q->keyed = true;
	q->sorted = true;
}

/* Queues the event just decoded into queue_slot()'s slot. */
static inline void queue_commit(struct kx_queue *q, uint64_t time)
{
	if (__builtin_expect(time < q->last_time && q->nr, 0) && !q->keyed)
		queue_key(q);
	if (q->keyed) {
		if (q->nr && time < q->k[q->nr - 1].time)
			q->sorted = false;
		q->k[q->nr] = (struct kx_key){ .time = time, .idx = q->tail };
	}
	q->tail++;
	q->nr++;
	q->queued++;
	q->last_time = time;
	if (time > q->max_time)
		q->max_time = time;
}

static int queue_push(struct kvmexit_capture *cap, const struct kvmexit_event *ev)
{
	int err = 0;
	struct kvmexit_event *slot = queue_slot(cap, &err);

	if (!slot)
		return err;
	*slot = *ev;
	queue_commit(&cap->q, ev->time);
	return 0;
}

/* ------------------------------------------------------------ records */

struct sample_id {
	int32_t pid, tid;
	uint32_t cpu;
	uint64_t time;
	bool has_time;
};

/*
 * The sample_id_all trailer of a non-sample record: p holds n u64 words, of
 * which the first fixed are the record's own.  Read from the end: TID,
 * TIME, ID, STREAM_ID, CPU, IDENTIFIER are its fields in order.
 */
static void parse_sample_id(struct kvmexit_capture *cap, const unsigned char *p, size_t n,
			    size_t fixed, struct sample_id *sid)
{
	const struct kx_attr *a = NULL;
	size_t avail = n - fixed, k = 0;	/* trailer words, words used */
	uint64_t st;

	*sid = (struct sample_id){ .pid = -1, .tid = -1, .cpu = UINT32_MAX };
	if (cap->nr_attrs == 1)
		a = &cap->attrs[0];
	else if (cap->is_pos > 0 && (size_t)cap->is_pos <= avail)
		a = attr_by_id(cap, ld64(p + 8 * (n - cap->is_pos)));
	if (!a || !a->attr.sample_id_all)
		return;
	st = a->attr.sample_type;
	k = !!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_CPU) +
	    !!(st & PERF_SAMPLE_STREAM_ID) + !!(st & PERF_SAMPLE_ID) +
	    !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_TID);
	if (k > avail)
		return;
	p += 8 * (n - k);	/* the trailer, in order */
	if (st & PERF_SAMPLE_TID) {
		sid->pid = (int32_t)ld32(p);
		sid->tid = (int32_t)ld32(p + 4);
		p += 8;
	}
	if (st & PERF_SAMPLE_TIME) {
		sid->time = ld64(p);
		sid->has_time = true;
		p += 8;
	}
	p += 8 * (!!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID));
	if (st & PERF_SAMPLE_CPU)
		sid->cpu = ld32(p);
}

static int record_lost(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
		       uint32_t type, uint64_t off)
{
	size_t fixed = type == PERF_RECORD_LOST ? 2 : 1;	/* u64 words after the header */
	struct kvmexit_event ev = { .type = KVMEXIT_EV_LOST };
	struct sample_id sid;

	if (size < 8 + 8 * fixed)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "lost record at offset 0x%llx has size %zu, too small",
			    (unsigned long long)off, size);
	ev.lost.count = ld64(rec + 8 + 8 * (fixed - 1));
	parse_sample_id(cap, rec + 8, (size - 8) / 8, fixed, &sid);
	ev.time = sid.has_time ? sid.time : cap->q.max_time;
	ev.pid = sid.pid;
	ev.tid = sid.tid;
	ev.cpu = sid.cpu;
	/* kvmexit's section has the recorder's own total: not added twice */
	if (!cap->meta.has_kvmexit)
		cap->meta.lost += ev.lost.count;
	return queue_push(cap, &ev);
}

/* Words of a PERF_SAMPLE_READ block at p[i], or 0 when it does not fit. */
static size_t read_words(uint64_t rf, const unsigned char *p, size_t i, size_t n)
{
	size_t per = 1 + !!(rf & PERF_FORMAT_ID) + !!(rf & (1u << 4) /* LOST */);
	size_t head = !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
		      !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING);
	uint64_t nr;

	if (!(rf & PERF_FORMAT_GROUP))
		return head + per;
	if (i >= n)
		return 0;
	nr = ld64(p + 8 * i);
	if (nr > (n - i) / per)
		return 0;
	return 1 + head + (size_t)nr * per;
}

static int sample_bad(struct kvmexit_capture *cap, uint64_t off, const char *what)
{
	return fail(cap, -KVMEXIT_EFORMAT, "sample at offset 0x%llx: %s",
		    (unsigned long long)off, what);
}

static inline __attribute__((always_inline)) int
record_sample(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
			 uint64_t off)
{
	const unsigned char *p = rec + 8, *raw;
	size_t n = (size - 8) / 8, i = 0;
	int32_t pid = -1, tid = -1;
	uint32_t cpu = UINT32_MAX, raw_size;
	uint64_t st, time = 0;
	struct kvmexit_event *ev;
	struct kx_attr *a;
	int err = 0;

	if (cap->nr_attrs == 1) {
		a = &cap->attrs[0];
	} else if (cap->nr_attrs == 0) {
		return sample_bad(cap, off, "a sample before any attr");
	} else {
		if ((size_t)cap->id_pos >= n)
			return sample_bad(cap, off, "too short to hold its id");
		a = attr_by_id(cap, ld64(p + 8 * cap->id_pos));
		if (!a) {
			cap->nr_unknown_id++;
			return 0;
		}
	}
	a->nr_samples++;
	if (a->fixed && a->raw_w < n) {
		/* The common case: every field before RAW at a known word. */
		if (a->tid_w >= 0) {
			pid = (int32_t)ld32(p + 8 * a->tid_w);
			tid = (int32_t)ld32(p + 8 * a->tid_w + 4);
		}
		if (a->time_w >= 0) {
			time = ld64(p + 8 * a->time_w);
			if (time < cap->first_time)
				cap->first_time = time;
			if (time > cap->last_time)
				cap->last_time = time;
		}
		if (a->cpu_w >= 0)
			cpu = ld32(p + 8 * a->cpu_w);
		if (!a->layout)
			return 0;
		i = a->raw_w;
		goto raw;
	}
	st = a->attr.sample_type;
	i += !!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP);
	if (st & PERF_SAMPLE_TID) {
		if (i >= n)
			return sample_bad(cap, off, "too short for its sample_type");
		pid = (int32_t)ld32(p + 8 * i);
		tid = (int32_t)ld32(p + 8 * i + 4);
		i++;
	}
	if (st & PERF_SAMPLE_TIME) {
		if (i >= n)
			return sample_bad(cap, off, "too short for its sample_type");
		time = ld64(p + 8 * i++);
		if (time < cap->first_time)
			cap->first_time = time;
		if (time > cap->last_time)
			cap->last_time = time;
	}
	i += !!(st & PERF_SAMPLE_ADDR) + !!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID);
	if (st & PERF_SAMPLE_CPU) {
		if (i >= n)
			return sample_bad(cap, off, "too short for its sample_type");
		cpu = ld32(p + 8 * i++);
	}
	i += !!(st & PERF_SAMPLE_PERIOD);
	if (!a->layout || !(st & PERF_SAMPLE_RAW))
		return 0;
	if (st & PERF_SAMPLE_READ) {
		size_t w = read_words(a->attr.read_format, p, i, n);

		if (!w)
			return sample_bad(cap, off, "its read values do not fit in the record");
		i += w;
	}
	if (st & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr;

		if (i >= n)
			return sample_bad(cap, off, "too short for its sample_type");
		nr = ld64(p + 8 * i++);
		if (nr > n - i)
			return sample_bad(cap, off, "its callchain does not fit in the record");
		i += nr;
	}
	if (i >= n)
		return sample_bad(cap, off, "too short for its sample_type");
raw:
	raw_size = ld32(p + 8 * i);
	raw = p + 8 * i + 4;
	if (raw_size > size - 8 - 8 * i - 4)
		return sample_bad(cap, off, "its raw data does not fit in the record");
	if (raw_size < a->layout->min_size)
		return sample_bad(cap, off, "its raw data is shorter than its format says");
	ev = queue_slot(cap, &err);
	if (!ev)
		return err;
	*ev = (struct kvmexit_event){ .time = time, .pid = pid, .tid = tid, .cpu = cpu };
	(void)kx_layout_decode(a->layout, raw, raw_size, ev);	/* cannot fail now */
	if (ev->type == KVMEXIT_EV_EXIT && ev->exit.isa == KVMEXIT_ISA_UNKNOWN)
		ev->exit.isa = cap->meta.isa;
	queue_commit(&cap->q, time);
	return 0;
}

static int record_attr(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
		       uint64_t off)
{
	uint32_t asize;
	int err;

	if (size < 8 + PERF_ATTR_SIZE_VER0)
		return fail(cap, -KVMEXIT_EFORMAT, "attr record at offset 0x%llx is too small (%zu)",
			    (unsigned long long)off, size);
	asize = ld32(rec + 8 + 4);
	if (asize < PERF_ATTR_SIZE_VER0 || asize > size - 8)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "attr record at offset 0x%llx: attr size %u does not fit in the record (%zu)",
			    (unsigned long long)off, asize, size);
	err = attr_add(cap, rec + 8, asize, off);
	if (!err)
		err = ids_add(cap, rec + 8 + asize, (size - 8 - asize) / 8,
			      (uint32_t)(cap->nr_attrs - 1));
	if (!err)
		err = attrs_check(cap);
	attrs_resolve(cap);
	return err;
}

static int quiet_fn(const struct kvmexit_event *ev, size_t n, void *arg)
{
	(void)ev;
	(void)n;
	(void)arg;
	return 0;
}

/* A round record in a part: see struct kx_part. */
static int part_round(struct kvmexit_capture *cap)
{
	struct kx_part *pt = &cap->part;
	bool sync = pt->armed;
	int err;

	if (!sync && cap->q.queued != pt->queued_at_round && ++pt->rounds == 2) {
		pt->armed = true;
		pt->max_at_arm = cap->q.max_time;
	}
	pt->queued_at_round = cap->q.queued;
	err = queue_round(cap);
	if (sync && pt->past_end) {
		pt->done = true;
	} else if (sync && pt->quiet) {
		pt->quiet = false;
		cap->batch = pt->batch;
	}
	return err;
}

/* Handles one record; *skip receives the bytes following it that belong to it. */
static int record_process(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
			  uint64_t off, uint64_t *skip, uint64_t *tracing)
{
	uint32_t type = ld32(rec);

	switch (type) {
	case PERF_RECORD_SAMPLE:
		return record_sample(cap, rec, size, off);
	case PERF_RECORD_LOST:
	case PERF_RECORD_LOST_SAMPLES:
		return record_lost(cap, rec, size, type, off);
	case REC_FINISHED_ROUND:
		return cap->part.on ? part_round(cap) : queue_round(cap);
	case REC_HEADER_ATTR:
		return record_attr(cap, rec, size, off);
	case REC_HEADER_FEATURE:
		if (size < 16)
			return fail(cap, -KVMEXIT_EFORMAT, "feature record at offset 0x%llx is too small",
				    (unsigned long long)off);
		if (ld64(rec + 8) < FEAT_BITS && feature_wanted((unsigned)ld64(rec + 8)))
			return feature_process(cap, (unsigned)ld64(rec + 8), rec + 16, size - 16,
					       off + 16);
		return 0;
	case REC_HEADER_TRACING_DATA:
		if (size < 12)
			return fail(cap, -KVMEXIT_EFORMAT,
				    "tracing data record at offset 0x%llx is too small",
				    (unsigned long long)off);
		*tracing = ld32(rec + 8);
		return 0;
	case REC_AUXTRACE:
		if (size < 16)
			return fail(cap, -KVMEXIT_EFORMAT, "auxtrace record at offset 0x%llx is too small",
				    (unsigned long long)off);
		*skip = ld64(rec + 8);
		return 0;
	case REC_COMPRESSED:
		return fail(cap, -KVMEXIT_EFORMAT,
			    "compressed record at offset 0x%llx: compressed captures (perf record -z) are not supported; record without -z or convert with perf inject",
			    (unsigned long long)off);
	default:
		return 0;
	}
}

/*
 * Reads and handles one record.  Returns 1 at a clean end of input (or,
 * with stop_at_kernel, before the first kernel record), 0 to go on, or a
 * negative error.
 */
static int record_next(struct kvmexit_capture *cap, bool stop_at_kernel)
{
	struct kx_rd *rd = &cap->rd;
	const unsigned char *rec;
	uint64_t off = rd->off, skip = 0, tracing = UINT64_MAX;
	uint16_t size;
	uint32_t type;
	int err;

	if (rd_at_end(rd))
		return 1;
	err = rd_peek(rd, 8, &rec);
	if (err == -KVMEXIT_ETRUNC)
		return fail(cap, err, "truncated: a record header at offset 0x%llx is cut short (the %s ends at 0x%llx)",
			    (unsigned long long)off, cap->pipe ? "input" : "data section",
			    (unsigned long long)(cap->pipe ? off : cap->data_end));
	if (err)
		return fail(cap, err, "reading at offset 0x%llx: %s", (unsigned long long)off,
			    kvmexit_strerror(err));
	type = ld32(rec);
	memcpy(&size, rec + 6, 2);
	if (size < 8)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "record at offset 0x%llx has size %u, smaller than its header",
			    (unsigned long long)off, size);
	if (stop_at_kernel && type < REC_USER_TYPE_START)
		return 1;
	err = rd_peek(rd, size, &rec);
	if (err == -KVMEXIT_ETRUNC)
		return fail(cap, err, "truncated: record at offset 0x%llx has size %u, past the end of the %s",
			    (unsigned long long)off, size, cap->pipe ? "input" : "data section");
	if (err)
		return fail(cap, err, "reading at offset 0x%llx: %s", (unsigned long long)off,
			    kvmexit_strerror(err));
	err = record_process(cap, rec, size, off, &skip, &tracing);
	rd_consume(rd, size);
	if (err)
		return err;
	if (skip && (err = kx_rd_skip(rd, skip)))
		return fail(cap, err, "truncated: the auxtrace data after offset 0x%llx (%llu bytes) is cut short",
			    (unsigned long long)off, (unsigned long long)skip);
	if (tracing != UINT64_MAX && (err = tracing_read(cap, tracing)))
		return err;
	if (stop_at_kernel && type == REC_FINISHED_INIT)
		return 1;
	return 0;
}

/* The attr of a sample of size bytes (whole in the buffer), or NULL. */
static inline struct kx_attr *sample_attr(struct kvmexit_capture *cap, const unsigned char *rec,
					  size_t size)
{
	if (cap->nr_attrs == 1)
		return &cap->attrs[0];
	if (cap->nr_attrs == 0 || (size_t)cap->id_pos >= (size - 8) / 8)
		return NULL;
	return attr_by_id(cap, ld64(rec + 8 + 8 * cap->id_pos));
}

/*
 * The hot loop: the complete samples already in the buffer, in place.
 * Samples of hot attrs (the fields before RAW at known words, TID and TIME
 * among them, a kvm_exit or kvm_entry decoded by loads) go straight into
 * the ring while the queue is in time order; the queue's and the input's
 * counters live in locals meanwhile.  Any other sample goes through
 * record_sample(), which also says what is wrong with a bad one; anything
 * else (another record type, a record the buffer does not hold whole, a
 * bad size) is left to record_next().
 */
struct hot {
	size_t head;			/* rd->head */
	uint32_t tail;			/* q->tail */
	uint32_t full;			/* q->head + q->alloc: tail there, no room */
	uint32_t mask;			/* q->alloc - 1 */
	bool keyed;			/* q->keyed: not for the hot loop */
	struct kvmexit_event *v;	/* q->v */
	size_t nr;			/* q->nr */
	uint64_t last, max;		/* q->last_time, q->max_time */
	uint64_t first_time, last_time;	/* cap's */
};

static inline void hot_load(struct kvmexit_capture *cap, struct hot *h)
{
	*h = (struct hot){ .head = cap->rd.head, .tail = cap->q.tail, .nr = cap->q.nr,
			   .full = cap->q.head + (uint32_t)cap->q.alloc,
			   .mask = (uint32_t)cap->q.alloc - 1, .keyed = cap->q.keyed, .v = cap->q.v,
			   .last = cap->q.last_time, .max = cap->q.max_time,
			   .first_time = cap->first_time, .last_time = cap->last_time };
}

static inline void hot_store(struct kvmexit_capture *cap, const struct hot *h)
{
	struct kx_queue *q = &cap->q;

	cap->rd.off += h->head - cap->rd.head;
	cap->rd.head = h->head;
	q->queued += h->tail - q->tail;
	q->tail = h->tail;
	q->nr = h->nr;
	q->last_time = h->last;
	q->max_time = h->max;
	cap->first_time = h->first_time;
	cap->last_time = h->last_time;
}

/* A sample the hot loop does not take, out of its way. */
static __attribute__((noinline)) int sample_slow(struct kvmexit_capture *cap, struct hot *h,
						 const unsigned char *rec, size_t size)
{
	int err;

	hot_store(cap, h);
	err = record_sample(cap, rec, size, cap->rd.off);
	hot_load(cap, h);
	h->head += size;
	return err;
}

static int samples_buffered(struct kvmexit_capture *cap)
{
	const unsigned char *buf = cap->rd.buf;
	const bool lean = cap->lean;
	struct hot h;
	/* kx_field_load() reads past a record: in a window, within it */
	size_t tail = !cap->rd.map ? cap->rd.tail :
		      cap->rd.tail > KX_RD_SLACK ? cap->rd.tail - KX_RD_SLACK : 0;
	size_t end, avail = tail > cap->rd.head ? tail - cap->rd.head : 0;
	uint64_t room = cap->rd.limit - cap->rd.off;
	int err = 0;

	hot_load(cap, &h);
	end = h.head + (room < avail ? (size_t)room : avail);
	while (end - h.head >= 8) {
		const unsigned char *rec = buf + h.head, *p = rec + 8;
		uint64_t hdr = ld64(rec), time, tid;
		size_t size = (size_t)(hdr >> 48);
		struct kvmexit_event *ev;
		struct kx_attr *a;
		uint32_t raw_size;

		if ((uint32_t)hdr != PERF_RECORD_SAMPLE || size < 8 || size > end - h.head)
			break;
		a = sample_attr(cap, rec, size);
		if (!a || !a->hot || h.keyed || h.tail == h.full || size < (size_t)a->raw_off + 4)
			goto slow;
		raw_size = ld32(rec + a->raw_off);
		if (raw_size > size - a->raw_off - 4 || raw_size < a->raw_min)
			goto slow;
		time = ld64(p + 8 * a->time_w);
		if (time < h.max)
			goto slow;	/* maybe out of order: queue_commit() sees */
		tid = ld64(p + 8 * a->tid_w);
		ev = &h.v[h.tail & h.mask];
		ev->time = time;
		ev->pid = (int32_t)(uint32_t)tid;
		ev->tid = (int32_t)(uint32_t)(tid >> 32);
		ev->cpu = a->cpu_w >= 0 && !lean ? ld32(p + 8 * a->cpu_w) : UINT32_MAX;
		kx_layout_decode_loads(a->layout, rec + a->raw_off + 4, ev, !lean);
		if (ev->type == KVMEXIT_EV_EXIT && ev->exit.isa == KVMEXIT_ISA_UNKNOWN)
			ev->exit.isa = cap->meta.isa;
		a->nr_samples++;
		if (__builtin_expect(time < h.first_time, 0))
			h.first_time = time;
		if (time > h.last_time)
			h.last_time = time;
		h.max = h.last = time;
		h.tail++;
		h.nr++;
		h.head += size;
		continue;
slow:
		err = sample_slow(cap, &h, rec, size);
		if (err || cap->stop)
			break;
	}
	hot_store(cap, &h);
	return err;
}

/* ------------------------------------------------------------ public API */

static int pipe_open(struct kvmexit_capture *cap)
{
	int r;

	cap->pipe = true;
	cap->data_end = UINT64_MAX;
	while (!(r = record_next(cap, true)))
		;
	return r < 0 ? r : 0;
}

static int capture_open(struct kvmexit_capture *cap, const char *path)
{
	const unsigned char *p;
	uint64_t magic, size;
	int fd = 0, err;

	snprintf(cap->path, sizeof(cap->path), "%s", strcmp(path, "-") ? path : "<stdin>");
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(cap, -errno, "cannot open: %s", strerror(errno));
		cap->own_fd = true;
	}
	err = rd_init(&cap->rd, fd);
	if (err)
		return fail(cap, err, "%s", kvmexit_strerror(err));
	err = rd_peek(&cap->rd, 16, &p);
	if (err == -KVMEXIT_ETRUNC)
		return fail(cap, err, "too short for a perf.data header (16 bytes at least)");
	if (err)
		return fail(cap, err, "reading the header: %s", kvmexit_strerror(err));
	magic = ld64(p);
	size = ld64(p + 8);
	if (magic == PERF_MAGIC2_SWAPPED)
		return fail(cap, -KVMEXIT_EFORMAT, "a big-endian perf.data: not supported");
	if (magic != PERF_MAGIC2)
		return fail(cap, -KVMEXIT_EFORMAT,
			    "not a perf.data file (no PERFILE2 magic at offset 0; perf's older PERFFILE format is not supported)");
	if (size == PIPE_HEADER_SIZE) {
		rd_consume(&cap->rd, 16);
		err = pipe_open(cap);
	} else {
		unsigned char first[16];

		memcpy(first, p, 16);
		rd_consume(&cap->rd, 16);
		err = file_open(cap, first);
	}
	if (!err)
		meta_finish(cap);
	return err;
}

KVMEXIT_API int kvmexit_capture_open(const char *path, struct kvmexit_capture **out,
				     char *errbuf, size_t errlen)
{
	struct kvmexit_capture *cap;
	int err;

	if (!path || !out)
		return -EINVAL;
	cap = calloc(1, sizeof(*cap));
	if (!cap) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	cap->id_pos = cap->is_pos = -1;
	cap->rd.fd = -1;
	cap->first_time = UINT64_MAX;
	err = capture_open(cap, path);
	if (err) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", cap->errmsg[0] ? cap->errmsg :
				 kvmexit_strerror(err));
		kvmexit_capture_close(cap);
		return err;
	}
	*out = cap;
	return 0;
}

/* The walk of for_each and for_each_batch: cap->fn or cap->batch is set. */
static int capture_walk(struct kvmexit_capture *cap, void *arg)
{
	int err, r = 0;

	if (cap->walked)
		return fail(cap, -EINVAL, "the capture was already walked (for_each runs once)");
	cap->walked = true;
	cap->arg = arg;
	if (!cap->pipe)
		rd_map_windows(&cap->rd, cap->file_size);
	while (!(err = samples_buffered(cap)) && !cap->stop &&
	       !(err = record_next(cap, false)) && !cap->stop)
		;
	if (cap->stop)
		return cap->stop;
	/* At the end, or on an error: deliver what came before, then report. */
	r = queue_flush_to(cap, UINT64_MAX);
	meta_times(cap);
	if (r)
		return r;
	return err < 0 ? err : 0;
}

void kx_capture_set_lean(struct kvmexit_capture *cap)
{
	cap->lean = true;
}

int kx_capture_for_each_batch(struct kvmexit_capture *cap, kx_events_fn fn, void *arg)
{
	if (!cap || !fn)
		return -EINVAL;
	cap->batch = fn;
	return capture_walk(cap, arg);
}

KVMEXIT_API int kvmexit_capture_for_each(struct kvmexit_capture *cap, kvmexit_event_fn fn,
					 void *arg)
{
	if (!cap || !fn)
		return -EINVAL;
	cap->fn = fn;
	return capture_walk(cap, arg);
}

KVMEXIT_API const struct kvmexit_meta *kvmexit_capture_meta(const struct kvmexit_capture *cap)
{
	return &cap->meta;
}

const struct kx_counts *kx_capture_all_counts(const struct kvmexit_capture *cap)
{
	return &cap->counts;
}

KVMEXIT_API size_t kvmexit_capture_counts(const struct kvmexit_capture *cap,
					  const struct kvmexit_count **counts)
{
	*counts = cap->counts.v;
	return cap->counts.nr;
}

KVMEXIT_API const char *kvmexit_capture_errmsg(const struct kvmexit_capture *cap)
{
	return cap->errmsg;
}

KVMEXIT_API void kvmexit_capture_close(struct kvmexit_capture *cap)
{
	if (!cap)
		return;
	if (cap->own_fd && cap->rd.fd >= 0)
		close(cap->rd.fd);
	rd_unmap(&cap->rd);
	free(cap->rd.heap);
	if (!cap->part.on) {		/* a part shares these with its capture */
		kx_formats_free(cap->formats);
		kx_counts_release(&cap->counts);
		free(cap->ids);
	}
	free(cap->part.nr_samples);
	free(cap->attrs);
	free(cap->q.v);
	free(cap->q.vtmp);
	free(cap->q.k);
	free(cap->q.ktmp);
	free(cap);
}

uint64_t kx_capture_nr_samples(const struct kvmexit_capture *cap, const char *sys,
			       const char *name)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cap->nr_attrs; i++) {
		const struct kx_attr *a = &cap->attrs[i];
		const char *s = NULL, *nm;

		if (a->attr.type != PERF_TYPE_TRACEPOINT || !cap->formats)
			continue;
		nm = kx_formats_name(cap->formats, a->attr.config, &s);
		if (nm && s && !strcmp(nm, name) && !strcmp(s, sys))
			n += a->nr_samples;
	}
	return n;
}

/* ------------------------------------------------------------ parallel walks */

/* The 8 bytes of a FINISHED_ROUND record: type 68, misc 0, size 8. */
#define ROUND_WORD ((uint64_t)REC_FINISHED_ROUND | (8ULL << 48))
#define SPLIT_CHAIN 16			/* records checked after a candidate */
#define SPLIT_BLOCK (64u << 10)

/* Whether the records from off on look like a record stream. */
static bool chain_plausible(const struct kvmexit_capture *cap, uint64_t off)
{
	for (int i = 0; i < SPLIT_CHAIN && off < cap->data_end; i++) {
		unsigned char h[8];
		uint32_t type;
		uint16_t size;

		if (pread(cap->rd.fd, h, 8, (off_t)off) != 8)
			return false;
		type = ld32(h);
		memcpy(&size, h + 6, 2);
		if (size < 8 || size % 8 || size > cap->data_end - off ||
		    !type || (type >= 32 && type < REC_USER_TYPE_START) || type >= 128)
			return false;
		if (type == REC_AUXTRACE)
			return true;	/* data of its own follows */
		off += size;
	}
	return true;
}

/* The first round record at or after from (8-aligned in the data), or 0. */
static uint64_t split_point(const struct kvmexit_capture *cap, uint64_t from, uint64_t to,
			    unsigned char *blk)
{
	from = cap->data_start + (from - cap->data_start + 7) / 8 * 8;
	while (from + 8 <= to) {
		size_t n = to - from < SPLIT_BLOCK ? (size_t)(to - from) : SPLIT_BLOCK;
		ssize_t r = pread(cap->rd.fd, blk, n, (off_t)from);

		if (r < 8)
			return 0;
		for (size_t i = 0; i + 8 <= (size_t)r; i += 8)
			if (ld64(blk + i) == ROUND_WORD && chain_plausible(cap, from + i))
				return from + i;
		from += (uint64_t)r / 8 * 8;
	}
	return 0;
}

unsigned int kx_capture_split(struct kvmexit_capture *cap, unsigned int n, uint64_t min_part,
			      uint64_t *starts)
{
	uint64_t size = cap->data_end - cap->data_start;
	unsigned char *blk;
	unsigned int m = 1;

	starts[0] = cap->data_start;
	if (cap->pipe || cap->walked || n < 2 || !(blk = malloc(SPLIT_BLOCK))) {
		starts[1] = cap->data_end;
		return 1;
	}
	if (!cap->ids_sorted && cap->nr_ids) {	/* parts share the ids: sorted now */
		qsort(cap->ids, cap->nr_ids, sizeof(*cap->ids), id_cmp);
		cap->ids_sorted = true;
	}
	for (unsigned int k = 1; k < n; k++) {
		uint64_t from = cap->data_start + size / n * k, at;

		if (from < starts[m - 1] + min_part)
			from = starts[m - 1] + min_part;
		if (from >= cap->data_end || cap->data_end - from < min_part)
			break;
		at = split_point(cap, from, cap->data_end - min_part, blk);
		if (!at)
			break;
		starts[m++] = at;
	}
	free(blk);
	starts[m] = cap->data_end;
	return m;
}

int kx_capture_part_new(const struct kvmexit_capture *cap, uint64_t start, uint64_t end,
			struct kvmexit_capture **out)
{
	struct kvmexit_capture *p = malloc(sizeof(*p));
	size_t asz = cap->nr_attrs * sizeof(*cap->attrs);

	if (!p)
		return -ENOMEM;
	*p = *cap;
	p->rd.buf = p->rd.heap = p->rd.map = NULL;
	p->attrs = NULL;
	p->q = (struct kx_queue){ 0 };
	p->part = (struct kx_part){ .on = true, .last = end == cap->data_end,
				    .quiet = start != cap->data_start, .end = end,
				    .lost0 = cap->meta.lost };
	p->own_fd = false;
	p->errmsg[0] = '\0';
	p->first_time = UINT64_MAX;
	p->last_time = 0;
	p->nr_unknown_id = 0;
	p->rd.buf = p->rd.heap = malloc(KX_RD_BUF + KX_RD_SLACK);
	p->attrs = malloc(asz ? asz : 1);
	p->part.nr_samples = calloc(cap->nr_attrs ? cap->nr_attrs : 1, sizeof(uint64_t));
	if (!p->rd.buf || !p->attrs || !p->part.nr_samples) {
		kvmexit_capture_close(p);
		return -ENOMEM;
	}
	memcpy(p->attrs, cap->attrs, asz);
	p->rd.head = p->rd.tail = 0;
	p->rd.off = start;
	p->rd.limit = end;
	rd_map_windows(&p->rd, cap->file_size);
	*out = p;
	return 0;
}

/* What the part owns, counted up to here: its own range ends. */
static void part_snapshot(struct kvmexit_capture *cap)
{
	struct kx_part *pt = &cap->part;

	for (size_t i = 0; i < cap->nr_attrs; i++)
		pt->nr_samples[i] = cap->attrs[i].nr_samples;
	pt->lost = cap->meta.lost - pt->lost0;
	pt->nr_unknown_id = cap->nr_unknown_id;
}

int kx_capture_part_walk(struct kvmexit_capture *cap, kx_events_fn fn, void *arg)
{
	struct kx_part *pt = &cap->part;
	int err;

	if (!pt->on || cap->walked)
		return -EINVAL;
	cap->walked = true;
	pt->batch = fn;
	cap->batch = pt->quiet ? quiet_fn : fn;
	cap->arg = arg;
	for (;;) {
		err = samples_buffered(cap);
		if (!err && !cap->stop && !pt->done)
			err = record_next(cap, false);
		if (err < 0 || cap->stop || pt->done)
			break;
		if (err == 0)
			continue;
		/* At its limit: the end of its own range, or of the data. */
		if (pt->past_end || pt->quiet)
			return -EAGAIN;	/* this or the next part has too few rounds */
		part_snapshot(cap);
		if (pt->last)
			return queue_flush_to(cap, UINT64_MAX);
		pt->past_end = true;
		pt->armed = false;
		pt->rounds = 0;
		pt->queued_at_round = cap->q.queued;
		pt->max_at_end = cap->q.max_time;
		cap->rd.limit = cap->data_end;
	}
	if (cap->stop)
		return cap->stop;
	return err < 0 ? err : 0;
}

bool kx_capture_parts_agree(const struct kvmexit_capture *prev, const struct kvmexit_capture *next)
{
	return prev->part.done && !next->part.quiet && !next->part.quiet_halved &&
	       next->part.max_at_arm >= prev->part.max_at_end;
}

void kx_capture_parts_fold(struct kvmexit_capture *cap, struct kvmexit_capture *const *parts,
			   unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		const struct kvmexit_capture *p = parts[k];

		for (size_t i = 0; i < cap->nr_attrs; i++)
			cap->attrs[i].nr_samples += p->part.nr_samples[i];
		cap->meta.lost += p->part.lost;
		cap->nr_unknown_id += p->part.nr_unknown_id;
		if (p->first_time < cap->first_time)
			cap->first_time = p->first_time;
		if (p->last_time > cap->last_time)
			cap->last_time = p->last_time;
	}
	cap->walked = true;
	meta_times(cap);
}
