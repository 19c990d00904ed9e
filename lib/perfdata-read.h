/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The perf.data reader's own interfaces, shared by its files and by no
 * other: the capture object, its input, attrs and queue, and the functions
 * one reader file offers the next.  The files, each one job, and who calls
 * whom (never back up):
 *
 *   perfdata-read.c    the public API: open (file or pipe mode), for_each, close
 *    ├─ perfdata-parts.c   a file-mode capture walked in parts (parallel walks)
 *    └─ perfdata-walk.c    the record walk: samples, lost records, the hot loop
 *        ├─ perfdata-order.c   time ordering: the queue, rounds
 *        ├─ perfdata-zstd.c    compressed records (perf record -z): decompression
 *        ├─ perfdata-pipe.c    the pipe stream's in-band header records
 *        └─ perfdata-header.c  the file header, attrs section, feature sections
 *            ├─ perfdata-attrs.c   attrs and sample ids
 *            └─ tracedata.c        the tracing data blob (formats)
 *                └─ perfdata-input.c   bounded buffered input: read, pread, mapped windows
 *
 * (A file lower down may be used by any above it; perfdata-input.c and
 * perfdata-attrs.c use nothing of the reader's.)
 */
#ifndef KVMEXIT_PERFDATA_READ_H
#define KVMEXIT_PERFDATA_READ_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

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
	bool hot;			/* kx_samples_buffered() decodes it inline */
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
	bool mid;			/* starts after the data's start */
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
	struct kx_id *ids;		/* the id table (perfdata-attrs.c); .attr + 1, 0: empty */
	size_t nr_ids, id_mask;
	uint64_t id_mul;		/* secret, odd */
	unsigned int id_shift;
	uint64_t id_probes;		/* slots looked at (tests) */
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
	bool names;			/* kx_capture_set_names() */
	struct kx_unzip *unzip;		/* compressed records met so far, or NULL */
	bool compressed;		/* the COMPRESSED feature: no parallel walk */
	char *meta_text;		/* from VERSION, until kx_meta_apply() */
	size_t meta_len;
	uint64_t meta_off;
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

static inline int __attribute__((format(printf, 3, 4)))
kx_capture_fail(struct kvmexit_capture *cap, int err, const char *fmt, ...)
{
	char msg[KX_ERRMSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kx_error(cap->errmsg, err, "%s: %s", cap->path, msg);
}

/* perfdata-input.c */
int kx_rd_init(struct kx_rd *rd, int fd);
void kx_rd_unmap(struct kx_rd *rd);
void kx_rd_map_windows(struct kx_rd *rd, uint64_t file_size);
int kx_rd_fill(struct kx_rd *rd, size_t n);
bool kx_rd_at_end(struct kx_rd *rd);
int kx_rd_seek(struct kx_rd *rd, uint64_t off, uint64_t limit);
/*
 * A walk over mapped windows survives the file shrinking under it:
 *
 *	struct kx_rd_guard g;
 *
 *	if (sigsetjmp(g.env, 0)) {
 *		kx_rd_guard_disarm(&g, true);
 *		return kx_rd_shrank(cap);
 *	}
 *	kx_rd_guard_arm(&g, &cap->rd);
 *	... the walk ...
 *	kx_rd_guard_disarm(&g, false);
 *
 * A SIGBUS in a window of rd (on this thread) returns to the sigsetjmp()
 * with 1.  The walk's locals changed after sigsetjmp() are lost then.
 */
struct kx_rd_guard {
	sigjmp_buf env;
	const struct kx_rd *rd;
	struct kx_rd_guard *prev;
};
void kx_rd_guard_arm(struct kx_rd_guard *g, const struct kx_rd *rd);
void kx_rd_guard_disarm(struct kx_rd_guard *g, bool faulted);
int kx_rd_shrank(struct kvmexit_capture *cap);


/* perfdata-attrs.c */
int kx_attr_add(struct kvmexit_capture *cap, const unsigned char *p, size_t size, uint64_t off);
int kx_ids_add(struct kvmexit_capture *cap, const unsigned char *p, size_t nr, uint32_t attr);
struct kx_attr *kx_attr_by_id_slow(struct kvmexit_capture *cap, uint64_t id);
int kx_attrs_check(struct kvmexit_capture *cap);
void kx_attrs_resolve(struct kvmexit_capture *cap);
bool kx_attrs_need_formats(const struct kvmexit_capture *cap);

/* perfdata-header.c */
int kx_file_open(struct kvmexit_capture *cap, const unsigned char *first16);
bool kx_feature_wanted(unsigned feat);
int kx_feature_process(struct kvmexit_capture *cap, unsigned feat, const unsigned char *p,
		       size_t len, uint64_t off);
int kx_tracing_read(struct kvmexit_capture *cap, uint64_t size);
int kx_meta_apply(struct kvmexit_capture *cap);
void kx_meta_finish(struct kvmexit_capture *cap);
void kx_meta_times(struct kvmexit_capture *cap);

/* perfdata-pipe.c */
int kx_pipe_record(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
		   uint64_t off, uint64_t *tracing);

/* perfdata-order.c */
int kx_queue_flush_to(struct kvmexit_capture *cap, uint64_t limit);
int kx_queue_round(struct kvmexit_capture *cap);
int kx_queue_room(struct kvmexit_capture *cap);
void kx_queue_key(struct kx_queue *q);
int kx_queue_push(struct kvmexit_capture *cap, const struct kvmexit_event *ev);

/* perfdata-zstd.c: decompression of PERF_RECORD_COMPRESSED payloads */
struct kx_unzip;
int kx_unzip_new(struct kx_unzip **out);
void kx_unzip_free(struct kx_unzip *u);
/* Decompresses n bytes of the stream and appends them: 0 or an error with a message. */
int kx_unzip_feed(struct kx_unzip *u, const void *src, size_t n, char *errmsg);
/* The bytes decompressed and not yet consumed. */
const unsigned char *kx_unzip_data(const struct kx_unzip *u, size_t *len);
void kx_unzip_consume(struct kx_unzip *u, size_t n);

/* perfdata-walk.c */
int kx_record_next(struct kvmexit_capture *cap, bool stop_at_kernel);
int kx_samples_buffered(struct kvmexit_capture *cap);
int kx_capture_walk(struct kvmexit_capture *cap, void *arg);

/* The hot paths' helpers, inline. */

static inline int rd_peek(struct kx_rd *rd, size_t n, const unsigned char **p)
{
	if (n > KX_RD_BUF)
		return -KVMEXIT_EFORMAT;
	if (rd->off + n > rd->limit || rd->off + n < rd->off)
		return -KVMEXIT_ETRUNC;
	if (rd->tail - rd->head < n) {
		int err = kx_rd_fill(rd, n);

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

static inline struct kx_attr *attr_by_id(struct kvmexit_capture *cap, uint64_t id)
{
	struct kx_id *c = &cap->idcache[id % KX_ARRAY_SIZE(cap->idcache)];
	struct kx_attr *a;

	if (c->attr && c->id == id)
		return &cap->attrs[c->attr - 1];
	a = kx_attr_by_id_slow(cap, id);
	if (a)
		*c = (struct kx_id){ .id = id, .attr = (uint32_t)(a - cap->attrs) + 1 };
	return a;
}

/* A free slot to decode an event into, or NULL (error or stop in cap). */
static inline struct kvmexit_event *queue_slot(struct kvmexit_capture *cap, int *err)
{
	struct kx_queue *q = &cap->q;

	if (__builtin_expect(q->tail - q->head == q->alloc, 0)) {
		*err = kx_queue_room(cap);
		if (*err) {
			if (!cap->stop)
				*err = kx_capture_fail(cap, *err, "queueing events: %s",
					    kvmexit_strerror(*err));
			return NULL;
		}
	}
	return &q->v[q->tail & (q->alloc - 1)];
}

/* Queues the event just decoded into queue_slot()'s slot. */
static inline void queue_commit(struct kx_queue *q, uint64_t time)
{
	if (__builtin_expect(time < q->last_time && q->nr, 0) && !q->keyed)
		kx_queue_key(q);
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

#endif
