// SPDX-License-Identifier: GPL-2.0-only
/*
 * The record walk: every record of the data section or the stream, in
 * order, into the queue (perfdata-order.c).
 *
 * Records.  Every header.size is checked: at least 8, within the data
 * section (file mode), and no field is read past its record.  SAMPLE,
 * LOST, LOST_SAMPLES, FINISHED_ROUND, and COMM for profiles, are used;
 * AUXTRACE's trailing data is skipped; COMPRESSED is decompressed
 * (perfdata-zstd.c) and the records in it handled in order, as if they
 * stood there; anything else is
 * skipped by its size.  A sample's attr is found by its id (IDENTIFIER, or
 * the ID position, which must be the same for every attr) when there are
 * several attrs; for other records by the sample_id_all trailer.  Sample
 * fields are walked in the kernel's order up to RAW, which is all kvmexit
 * needs.  Samples of events that are not the kvm events kvmexit decodes are
 * counted per attr (kx_capture_nr_samples()) and otherwise skipped.  A
 * sample without TID has pid = tid = -1, one without CPU cpu = UINT32_MAX.
 *
 * Speed.  Samples of kvm_exit and kvm_entry are decoded in one loop
 * (kx_samples_buffered()): fields at word positions computed once per attr,
 * a cached id lookup, one masked load per tracepoint field at offsets
 * resolved once per format (kx_layout_decode_loads()), straight into the
 * queue's ring, with the queue's counters in locals; no allocation, no
 * string work.  Events are never copied while queued, and a round that
 * came in time order is not sorted, nor even keyed.  A window of the file
 * costs a few page faults where read(2) copies every byte (BENCHMARKS.md).
 *
 * A problem inside the data section (a bad record size, a record cut
 * short, a truncated pipe stream) ends the walk: the events queued before
 * it are delivered first, then the walk returns the error
 * (-KVMEXIT_EFORMAT or -KVMEXIT_ETRUNC) with a message saying where.
 */
#include "perfdata-read.h"

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
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
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
	return kx_queue_push(cap, &ev);
}

/*
 * A COMM record (a thread's name: exec, prctl(PR_SET_NAME), or synthesized
 * by perf and kvmexit record for threads that existed before): pid, tid,
 * the name NUL-padded to 8 bytes, then the sample_id_all trailer.  Queued
 * as a KX_EV_COMM event for the profile (kx_capture_set_names()); a
 * malformed one is skipped, as a name is not worth failing a walk for.
 */
static int record_comm(struct kvmexit_capture *cap, const unsigned char *rec, size_t size)
{
	struct kvmexit_event ev = { .type = KX_EV_COMM };
	size_t len, own;
	struct sample_id sid;

	if (!cap->names || size < 24 || size % 8)
		return 0;
	len = strnlen((const char *)rec + 16, size - 16);
	own = 8 + ((len + 1 + 7) & ~(size_t)7);		/* pid, tid, the name */
	if (own > size - 8)
		return 0;
	parse_sample_id(cap, rec + 8, (size - 8) / 8, own / 8, &sid);
	ev.time = sid.has_time ? sid.time : cap->q.max_time;
	ev.pid = (int32_t)ld32(rec + 8);
	ev.tid = (int32_t)ld32(rec + 12);
	ev.cpu = sid.cpu;
	memcpy(kx_event_comm(&ev), rec + 16, len < 15 ? len : 15);
	return kx_queue_push(cap, &ev);
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
	return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "sample at offset 0x%llx: %s",
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
	err = kx_queue_round(cap);
	if (sync && pt->past_end) {
		pt->done = true;
	} else if (sync && pt->quiet) {
		pt->quiet = false;
		cap->batch = pt->batch;
	}
	return err;
}

static int record_process(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
			  uint64_t off, uint64_t *skip, uint64_t *tracing);

/*
 * A COMPRESSED record (perf record -z): its payload decompressed, then the
 * complete records in the output handled in order; a record cut at the end
 * waits for the next compressed record.  Messages name the compressed
 * record's offset.
 */
static int record_compressed(struct kvmexit_capture *cap, const unsigned char *rec, size_t size,
			     uint64_t off)
{
	char msg[KX_ERRMSG_SIZE];
	const unsigned char *p;
	size_t n;
	int err;

	if (cap->part.mid)
		return -EAGAIN;		/* one zstd stream: it cannot start mid-way */
	if (!cap->unzip && (err = kx_unzip_new(&cap->unzip)))
		return kx_capture_fail(cap, err, "compressed record at offset 0x%llx: %s",
				       (unsigned long long)off, kvmexit_strerror(err));
	err = kx_unzip_feed(cap->unzip, rec + 8, size - 8, msg);
	if (err)
		return kx_capture_fail(cap, err, "compressed record at offset 0x%llx: %s",
				       (unsigned long long)off,
				       err == -KVMEXIT_EFORMAT ? msg : kvmexit_strerror(err));
	p = kx_unzip_data(cap->unzip, &n);
	while (n >= 8 && !cap->stop) {
		uint64_t skip = 0, tracing = UINT64_MAX;
		uint32_t type = ld32(p);
		uint16_t rsize;

		memcpy(&rsize, p + 6, 2);
		if (rsize < 8 || type == REC_COMPRESSED)
			return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
					       "compressed record at offset 0x%llx: its data holds a record of type %u and size %u",
					       (unsigned long long)off, type, rsize);
		if (rsize > n)
			break;
		err = record_process(cap, p, rsize, off, &skip, &tracing);
		if (!err && (skip || tracing != UINT64_MAX))
			err = kx_capture_fail(cap, -KVMEXIT_EFORMAT,
					      "compressed record at offset 0x%llx: a record of type %u, which carries data after it, is not supported inside compressed data",
					      (unsigned long long)off, type);
		kx_unzip_consume(cap->unzip, rsize);
		if (err)
			return err;
		p += rsize;
		n -= rsize;
	}
	return 0;
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
	case PERF_RECORD_COMM:
		return record_comm(cap, rec, size);
	case REC_FINISHED_ROUND:
		return cap->part.on ? part_round(cap) : kx_queue_round(cap);
	case REC_HEADER_ATTR:
	case REC_HEADER_FEATURE:
	case REC_HEADER_TRACING_DATA:
		return kx_pipe_record(cap, rec, size, off, tracing);
	case REC_AUXTRACE:
		if (size < 16)
			return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "auxtrace record at offset 0x%llx is too small",
				    (unsigned long long)off);
		*skip = ld64(rec + 8);
		return 0;
	case REC_COMPRESSED:
		return record_compressed(cap, rec, size, off);
	default:
		return 0;
	}
}

/*
 * Reads and handles one record.  Returns 1 at a clean end of input (or,
 * with stop_at_kernel, before the first kernel record), 0 to go on, or a
 * negative error.
 */
int kx_record_next(struct kvmexit_capture *cap, bool stop_at_kernel)
{
	struct kx_rd *rd = &cap->rd;
	const unsigned char *rec;
	uint64_t off = rd->off, skip = 0, tracing = UINT64_MAX;
	uint16_t size;
	uint32_t type;
	int err;

	if (kx_rd_at_end(rd))
		return 1;
	err = rd_peek(rd, 8, &rec);
	if (err == -KVMEXIT_ETRUNC)
		return kx_capture_fail(cap, err, "truncated: a record header at offset 0x%llx is cut short (the %s ends at 0x%llx)",
			    (unsigned long long)off, cap->pipe ? "input" : "data section",
			    (unsigned long long)(cap->pipe ? off : cap->data_end));
	if (err)
		return kx_capture_fail(cap, err, "reading at offset 0x%llx: %s", (unsigned long long)off,
			    kvmexit_strerror(err));
	type = ld32(rec);
	memcpy(&size, rec + 6, 2);
	if (size < 8)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "record at offset 0x%llx has size %u, smaller than its header",
			    (unsigned long long)off, size);
	if (stop_at_kernel && type < REC_USER_TYPE_START)
		return 1;
	err = rd_peek(rd, size, &rec);
	if (err == -KVMEXIT_ETRUNC)
		return kx_capture_fail(cap, err, "truncated: record at offset 0x%llx has size %u, past the end of the %s",
			    (unsigned long long)off, size, cap->pipe ? "input" : "data section");
	if (err)
		return kx_capture_fail(cap, err, "reading at offset 0x%llx: %s", (unsigned long long)off,
			    kvmexit_strerror(err));
	err = record_process(cap, rec, size, off, &skip, &tracing);
	rd_consume(rd, size);
	if (err)
		return err;
	if (skip && (err = kx_rd_skip(rd, skip)))
		return kx_capture_fail(cap, err, "truncated: the auxtrace data after offset 0x%llx (%llu bytes) is cut short",
			    (unsigned long long)off, (unsigned long long)skip);
	if (tracing != UINT64_MAX && (err = kx_tracing_read(cap, tracing)))
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
 * bad size) is left to kx_record_next().
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

int kx_samples_buffered(struct kvmexit_capture *cap)
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

/* The walk of for_each and for_each_batch: cap->fn or cap->batch is set. */
int kx_capture_walk(struct kvmexit_capture *cap, void *arg)
{
	struct kx_rd_guard guard;
	int err, r = 0;

	if (cap->walked)
		return kx_capture_fail(cap, -EINVAL, "the capture was already walked (for_each runs once)");
	cap->walked = true;
	cap->arg = arg;
	if (!cap->pipe)
		kx_rd_map_windows(&cap->rd, cap->file_size);
	if (sigsetjmp(guard.env, 0)) {
		kx_rd_guard_disarm(&guard, true);
		return kx_rd_shrank(cap);
	}
	kx_rd_guard_arm(&guard, &cap->rd);
	while (!(err = kx_samples_buffered(cap)) && !cap->stop &&
	       !(err = kx_record_next(cap, false)) && !cap->stop)
		;
	kx_rd_guard_disarm(&guard, false);
	if (cap->stop)
		return cap->stop;
	if (err == 1 && cap->unzip) {
		size_t left;

		(void)kx_unzip_data(cap->unzip, &left);
		if (left)
			err = kx_capture_fail(cap, -KVMEXIT_ETRUNC,
					      "truncated: the compressed data ends inside a record (%zu bytes of it)",
					      left);
	}
	/* At the end, or on an error: deliver what came before, then report. */
	r = kx_queue_flush_to(cap, UINT64_MAX);
	kx_meta_times(cap);
	if (r)
		return r;
	return err < 0 ? err : 0;
}
