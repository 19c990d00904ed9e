/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces between the files of lib/.  Not installed; nothing
 * here is exported from libkvmexit.so (no KVMEXIT_API).
 */
#ifndef KVMEXIT_INTERNAL_H
#define KVMEXIT_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmexit.h"

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every object that reads outside input keeps its last error here. */
#define KX_ERRMSG_SIZE 512

/* Formats an error message into buf (size KX_ERRMSG_SIZE) and returns err. */
static inline int __attribute__((format(printf, 3, 4)))
kx_error(char *buf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, KX_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

/* meta.c: kvmexit's own metadata section, a text of "key=value" lines. */
/* Part of a reason's count on a CPU: the exits with one detail key. */
struct kx_detail_count {
	enum kvmexit_isa isa;
	uint32_t exit_reason, detail;
	int32_t cpu;
	uint64_t count;
};

/*
 * An aggregated cell of a --bpf capture: the exits of one (ISA, reason,
 * detail, pid, vCPU) with their times, and its histogram's non-empty
 * buckets, kx_counts.buckets[first .. first + nr).
 */
struct kx_cell_rec {
	enum kvmexit_isa isa;
	uint32_t reason;		/* basic reason (VMX) or code (SVM) */
	uint32_t detail;
	int32_t pid, vcpu;		/* -1: unknown */
	uint64_t count, timed, total, min, max;
	size_t first, nr;
};

struct kx_bucket {
	uint32_t idx;			/* kx_hist_index() */
	uint64_t count;
};

/* kvm_pio events of one process, direction (1: out), port and size. */
struct kx_pio_rec {
	int32_t pid;
	uint32_t rw, port, size;
	uint64_t count;
};

/*
 * Counts per reason and CPU (v: what kvmexit_capture_counts() returns) and,
 * for the reasons --count splits, their parts per detail key (d), which
 * sum to the reason's count.  Encoded as count= and count_detail= lines:
 * readers that predate count_detail= skip it and still see the totals.
 */
struct kx_counts {
	size_t nr, alloc;
	struct kvmexit_count *v;
	size_t nr_detail, alloc_detail;
	struct kx_detail_count *d;
	/* --bpf captures (kvmexit-capture(5), "count", "cell", "pio" lines) */
	struct kx_cell_rec *cells;
	size_t nr_cells, alloc_cells;
	struct kx_bucket *buckets;
	size_t nr_buckets, alloc_buckets;
	struct kx_pio_rec *pios;
	size_t nr_pios, alloc_pios;
};

/* Appends a cell and its buckets (b[0..nb)); 0 or -ENOMEM. */
int kx_counts_add_cell(struct kx_counts *counts, const struct kx_cell_rec *cell,
		       const struct kx_bucket *b, size_t nb);
int kx_counts_add_pio(struct kx_counts *counts, const struct kx_pio_rec *pio);
/* Appends src's cells and pio counts to dst; 0 or -ENOMEM. */
int kx_counts_add_cells_of(struct kx_counts *dst, const struct kx_counts *src);

/* Appends one count; returns 0 or -ENOMEM. */
int kx_counts_add(struct kx_counts *counts, enum kvmexit_isa isa,
		  uint32_t exit_reason, int32_t cpu, uint64_t count);
/* Appends one part (to d only); returns 0 or -ENOMEM. */
int kx_counts_add_detail(struct kx_counts *counts, enum kvmexit_isa isa,
			 uint32_t exit_reason, uint32_t detail, int32_t cpu, uint64_t count);
void kx_counts_release(struct kx_counts *counts);

/* Encodes meta (and counts, may be NULL) into a new malloc'd text. */
int kx_meta_encode(const struct kvmexit_meta *meta, const struct kx_counts *counts,
		   char **text, size_t *len);
/*
 * Decodes a section written by kx_meta_encode() into meta (fields it names
 * overwrite meta's) and counts (may be NULL).  Unknown keys are skipped,
 * so later versions can add keys.  Returns 0, -KVMEXIT_EFORMAT or -ENOMEM.
 */
int kx_meta_decode(const char *text, size_t len, struct kvmexit_meta *meta,
		   struct kx_counts *counts);
/* Sets (or replaces) a module parameter; -ENOSPC when the table is full. */
int kx_meta_set_param(struct kvmexit_meta *meta, const char *name, const char *value);
/*
 * Sets (or replaces) the VM name of process pid, truncated to the meta's
 * size ("vm.PID=NAME" keys of the section, NAME with control bytes and '%'
 * as %XX); -ENOSPC when the table is full.
 */
int kx_meta_set_vm(struct kvmexit_meta *meta, int32_t pid, const char *name);
/* The ISA a CPU vendor string implies: GenuineIntel -> VMX, AuthenticAMD/HygonGenuine -> SVM. */
enum kvmexit_isa kx_isa_from_vendor(const char *vendor);

/*
 * reason.c: the bits of info1 and intr_info kvmexit_exit_detail() reads for
 * (isa, reason); both 0 for reasons without details.
 */
void kx_exit_detail_masks(enum kvmexit_isa isa, uint32_t reason, uint64_t *info1,
			  uint32_t *intr_info);

/* reader */
/* Everything the capture's kvmexit section carries: counts, cells, pio counts. */
const struct kx_counts *kx_capture_all_counts(const struct kvmexit_capture *cap);
/* kvmexit 0.1's feature bit for its metadata section (kx_meta_*): read, no longer written. */
#define KX_FEAT_KVMEXIT 250
/*
 * How kvmexit's metadata text begins (kx_meta_encode()); since 0.2 it follows
 * the version string in the VERSION feature section, not at bit 250.
 */
#define KX_META_TEXT_MAGIC "kvmexit-meta "

/* perf.data feature bits kvmexit reads or writes (tools/perf/util/header.h). */
enum {
	FEAT_RESERVED = 0,
	FEAT_TRACING_DATA = 1,
	FEAT_HOSTNAME = 3,
	FEAT_OSRELEASE = 4,
	FEAT_VERSION = 5,
	FEAT_ARCH = 6,
	FEAT_NRCPUS = 7,
	FEAT_CPUDESC = 8,
	FEAT_CPUID = 9,
	FEAT_CMDLINE = 11,
	FEAT_SAMPLE_TIME = 21,
	FEAT_BITS = 256,
};

/* format.c: tracepoint formats -> field layouts of the kvm events decoded. */
#define KX_FIELDS_MAX 8
#define KX_FORMATS_MAX_LAYOUTS 32

struct kx_field {
	uint16_t offset;
	uint8_t size;			/* 0: the format lacks the field */
	bool is_signed;
	uint64_t mask;			/* of an 8-byte load at offset; 0: absent */
};

struct kx_layout {
	enum kvmexit_event_type type;
	uint32_t id;			/* the format's ID: perf_event_attr.config */
	uint32_t min_size;		/* raw data must hold this many bytes */
	uint32_t fields_end;		/* where the format's last field ends */
	struct kx_field common_type, common_pid;
	struct kx_field f[KX_FIELDS_MAX];	/* per type, see format.c */
	bool loadable;			/* kx_layout_decode_loads() may decode it */
};

struct kx_formats;

/* A set of formats for one kernel; long_size is the kernel's (8 on x86-64). */
int kx_formats_new(int long_size, struct kx_formats **out);
void kx_formats_free(struct kx_formats *f);
/* Parses one format text of system sys; -KVMEXIT_EFORMAT with a message. */
int kx_formats_add(struct kx_formats *f, const char *sys, const char *text,
		   size_t len, char *errmsg);
/* The tracepoint ID a format text states ("ID: N"); -KVMEXIT_EFORMAT if none. */
int kx_format_id(const char *text, size_t len, uint64_t *id);
/* The layout of the kvm event with tracepoint ID id, or NULL. */
const struct kx_layout *kx_formats_layout(const struct kx_formats *f, uint64_t id);
/* Name (and system) of any parsed event, or NULL. */
const char *kx_formats_name(const struct kx_formats *f, uint64_t id, const char **sys);
/*
 * Decodes raw tracepoint data into ev's type, vcpu and union; the caller
 * fills time, pid, tid, cpu.  -KVMEXIT_EFORMAT when size < lay->min_size.
 */
int kx_layout_decode(const struct kx_layout *lay, const void *raw, size_t size,
		     struct kvmexit_event *ev);
/* One field by a masked 8-byte load: 8 bytes from its offset must be readable. */
static inline uint64_t kx_field_load(const struct kx_field *fl, const unsigned char *raw)
{
	uint64_t v;

	memcpy(&v, raw + fl->offset, 8);
	return v & fl->mask;
}

/*
 * kx_layout_decode() of a kvm_exit or kvm_entry, for the reader's hot loop:
 * no branch per field, one load each, so raw must be followed by 8
 * readable bytes (the reader's buffer has them); lay->loadable (the type
 * is exit or entry, every field unsigned or 8 bytes), raw's size checked.
 * Sets ev's type, vcpu and exit or entry; the rest of the union is left.
 * Without rips, the guest RIPs are 0 (a walk that does not need them).
 */
static inline void kx_layout_decode_loads(const struct kx_layout *lay, const unsigned char *raw,
					  struct kvmexit_event *ev, bool rips)
{
	const struct kx_field *f = lay->f;
	uint32_t isa;

	ev->type = lay->type;
	ev->vcpu = (uint32_t)kx_field_load(&f[7], raw);
	if (lay->type == KVMEXIT_EV_ENTRY) {
		ev->entry.rip = rips ? kx_field_load(&f[0], raw) : 0;
		return;
	}
	ev->exit.exit_reason = (uint32_t)kx_field_load(&f[0], raw);
	ev->exit.guest_rip = rips ? kx_field_load(&f[1], raw) : 0;
	isa = (uint32_t)kx_field_load(&f[2], raw);
	ev->exit.isa = isa > KVMEXIT_ISA_SVM ? KVMEXIT_ISA_UNKNOWN : (enum kvmexit_isa)isa;
	ev->exit.info1 = kx_field_load(&f[3], raw);
	ev->exit.info2 = kx_field_load(&f[4], raw);
	ev->exit.intr_info = (uint32_t)kx_field_load(&f[5], raw);
	ev->exit.error_code = (uint32_t)kx_field_load(&f[6], raw);
}

/*
 * The inverse, for writers: stores common_type (the ID), common_pid (tid)
 * and ev's fields at their offsets in raw, which holds lay->fields_end
 * zeroed bytes.  Fields the format lacks are left out.
 */
void kx_layout_encode(const struct kx_layout *lay, const struct kvmexit_event *ev,
		      void *raw);

/* perfdata-input.c: bounded, buffered input (a file or a pipe). */
struct kx_rd;
/* Reads exactly n bytes: 0, -KVMEXIT_ETRUNC at the end or limit, -errno. */
int kx_rd_read(struct kx_rd *rd, void *dst, size_t n);
/* Skips n bytes (seeks when it can): same returns as kx_rd_read(). */
int kx_rd_skip(struct kx_rd *rd, uint64_t n);
/* Offset in the input of the next byte kx_rd_read() returns. */
uint64_t kx_rd_offset(const struct kx_rd *rd);

/*
 * tracedata.c: walks a HEADER_TRACING_DATA blob of size bytes from rd (the
 * version, endianness, long and page size, header_page, header_event, ftrace
 * formats, event formats, kallsyms, printk formats and saved cmdlines) and
 * adds every event format to a new *formats.  Little-endian blobs only.
 * Returns 0 or a negative error with a message naming the offset.
 */
int kx_tracedata_read(struct kx_rd *rd, uint64_t size, struct kx_formats **formats,
		      char *errmsg);
/* The same, adding only the formats whose tracepoint ID wanted(id, arg) wants. */
int kx_tracedata_read_wanted(struct kx_rd *rd, uint64_t size, struct kx_formats **formats,
			     char *errmsg, bool (*wanted)(uint64_t id, void *arg), void *arg);
/* Formats given to libtraceevent so far (kx_formats_add()): tests bound the work. */
size_t kx_formats_parsed(const struct kx_formats *f);
size_t kx_capture_formats_parsed(const struct kvmexit_capture *cap);

/*
 * Samples seen per event, for tests and diagnostics: how many samples of
 * the tracepoint sys:name kvmexit_capture_for_each() has walked so far.
 */
uint64_t kx_capture_nr_samples(const struct kvmexit_capture *cap, const char *sys,
			       const char *name);

/*
 * Events in runs: v[0..n), in delivery order, which within a run is time
 * order (a run is a stretch of the queue's ring while it is in time order,
 * or one event).  Non-zero stops the walk, as kvmexit_event_fn's does
 * (after the whole run).
 */
typedef int (*kx_events_fn)(const struct kvmexit_event *v, size_t n, void *arg);
/* kvmexit_capture_for_each() with the events in runs: fewer calls. */
int kx_capture_for_each_batch(struct kvmexit_capture *cap, kx_events_fn fn, void *arg);
/*
 * The walk's events need no CPU and no guest RIPs (a profile without top
 * RIPs): they may be UINT32_MAX and 0, which saves loads.  Before the walk;
 * parts made afterwards inherit it.
 */
void kx_capture_set_lean(struct kvmexit_capture *cap);
/* A counting capture's parts of counts per detail (struct kx_counts). */
size_t kx_capture_detail_counts(const struct kvmexit_capture *cap,
				const struct kx_detail_count **d);
/*
 * The walk's batch callback also gets the capture's COMM records, as
 * KX_EV_COMM events in time order (a profile names threads with them).
 * Before the walk; parts made afterwards inherit it.
 */
void kx_capture_set_names(struct kvmexit_capture *cap);

/*
 * Parallel walks of a file-mode capture (profile-parallel.c), in parts cut
 * at FINISHED_ROUND records.  The parts' deliveries, concatenated in part
 * order, are those of kvmexit_capture_for_each() on the whole capture, when
 * every pair of neighbours agrees.
 *
 * kx_capture_split() fills starts[0..m] with the offsets of at most n parts
 * of at least min_part bytes each (starts[m] is the end of the data) and
 * returns m; 1 when the capture cannot be split (pipe mode, no round
 * records found, too small).  Call it on a capture opened but not walked.
 */
unsigned int kx_capture_split(struct kvmexit_capture *cap, unsigned int n, uint64_t min_part,
			      uint64_t *starts);
/*
 * A reader of the part [start, end) of cap's data (offsets from
 * kx_capture_split()); it shares cap's descriptor, formats and ids, so cap
 * must outlive it.  Closed with kvmexit_capture_close().
 */
int kx_capture_part_new(const struct kvmexit_capture *cap, uint64_t start, uint64_t end,
			struct kvmexit_capture **out);
/*
 * Walks a part: fn gets its deliveries.  Any error (-EAGAIN: the next part
 * has too few rounds) means the parallel walk cannot be used.
 */
int kx_capture_part_walk(struct kvmexit_capture *part, kx_events_fn fn, void *arg);
/* Whether neighbouring parts, both walked, delivered what a single walk would. */
bool kx_capture_parts_agree(const struct kvmexit_capture *prev, const struct kvmexit_capture *next);
/*
 * kvmexit_capture_open() of a descriptor (which the capture owns from now
 * on, even on failure), named name in messages, from where it is; prefix
 * holds the n bytes (at most 1 MiB) the caller has read from it already,
 * so a stream is read once.  errmsg: KX_ERRMSG_SIZE bytes.
 */
int kx_capture_open_fd(int fd, const char *name, const void *prefix, size_t n,
		       struct kvmexit_capture **out, char *errmsg);
/*
 * The capture's events, "sys:name, ..." into buf (size bytes, cut when
 * longer); returns how many of them are kvm events kvmexit decodes.
 */
size_t kx_capture_describe(const struct kvmexit_capture *cap, char *buf, size_t size);
/* Adds the parts' counts (samples, lost records, times) to cap, as if cap had been walked. */
void kx_capture_parts_fold(struct kvmexit_capture *cap, struct kvmexit_capture *const *parts,
			   unsigned int n);

/* writer */
/*
 * Makes a counts-only capture that carries aggregated cells (a --bpf
 * capture): appends the cells and pio counts of @cells to the kvmexit
 * section.  -EINVAL after samples, -ENOMEM.
 */
int kx_writer_add_cells(struct kvmexit_writer *w, const struct kx_counts *cells);

struct perf_event_attr;
struct perf_event_header;

/*
 * kvmexit 0.1's metadata section in perf.data: feature bit 250 (HEADER_FEAT_BITS
 * is 256; perf 6.1 knows bits below HEADER_LAST_FEATURE = 31).  perf script,
 * report and kvm stat skip it, but perf inject writes every set bit through
 * its feature table (perf_header__adds_write(): feat_ops[250]) and crashes.
 * Since 0.2 the metadata rides in the VERSION section (perfdata-write.c).
 */
#define KX_FEAT_KVMEXIT 250

/* The attr size stored in captures: perf 6.1 rejects attrs larger than its own. */
#define KX_ATTR_FILE_SIZE 128

/*
 * The attr the writer stores for event @idx (from _add_tracepoint()).  The
 * live recorder opens exactly this attr (it may change it, e.g. set
 * disabled or read_format, before the first record), so that records it
 * copies with kx_writer_write_record() match it.  NULL for a bad index or
 * after the first record.
 */
struct perf_event_attr *kx_writer_attr(struct kvmexit_writer *w, int idx);

/*
 * The sample ids the kernel gave event @idx (PERF_EVENT_IOC_ID, one per
 * opened fd).  Replaces the writer's own single id.  Before the first record.
 */
int kx_writer_set_ids(struct kvmexit_writer *w, int idx, const uint64_t *ids, size_t nr);

/*
 * Copies a ring-buffer record as it is (the hot path: a memcpy into the
 * output buffer).  Samples must be in the format of the attrs; the
 * writer reads their time (for SAMPLE_TIME) when all attrs share one
 * sample_type that has TIME.
 */
int kx_writer_write_record(struct kvmexit_writer *w, const struct perf_event_header *rec);
/* Adds the per-detail parts of the counts (after kvmexit_writer_set_counts()). */
int kx_writer_set_detail_counts(struct kvmexit_writer *w, const struct kx_counts *counts);

/*
 * Gives up a writer that should leave nothing behind (a recording that
 * never started): removes the file it created; a file it was to replace
 * (force) stays as it was.
 */
void kx_writer_discard(struct kvmexit_writer *w);

/* profile */
/*
 * histogram.c: a fixed log-linear histogram of durations (ns), HDR-like.
 * Values below 2 * KX_HIST_SUB are exact; above, each power of two is split
 * into KX_HIST_SUB linear buckets, so a bucket spans at most 1/32 of its
 * lower bound, and its midpoint (what percentiles report) is within 1/64
 * (1.6%) of any value in it.  Values from 2^KX_HIST_MAX_SHIFT ns (4.9 hours)
 * share the last bucket.
 */
#define KX_HIST_SUB_BITS	5
#define KX_HIST_SUB		(1u << KX_HIST_SUB_BITS)
#define KX_HIST_MAX_SHIFT	44
#define KX_HIST_BUCKETS		((KX_HIST_MAX_SHIFT - KX_HIST_SUB_BITS + 1) * KX_HIST_SUB)

static inline unsigned int kx_hist_index(uint64_t v)
{
	unsigned int e;

	if (v < KX_HIST_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	if (e >= KX_HIST_MAX_SHIFT)
		return KX_HIST_BUCKETS - 1;
	return ((e - KX_HIST_SUB_BITS) << KX_HIST_SUB_BITS) +
	       (unsigned int)(v >> (e - KX_HIST_SUB_BITS));
}

#define KX_HIST_GROUPS		(KX_HIST_BUCKETS / KX_HIST_SUB)

/* Counters in groups of KX_HIST_SUB buckets, each allocated at first use. */
struct kx_hist {
	uint64_t *group[KX_HIST_GROUPS];
};

/* Counts one value; 0 or -ENOMEM (a group is allocated once). */
static inline int kx_hist_add(struct kx_hist *h, uint64_t v)
{
	unsigned int i = kx_hist_index(v);
	uint64_t **g = &h->group[i >> KX_HIST_SUB_BITS];

	if (__builtin_expect(!*g, 0)) {
		*g = calloc(KX_HIST_SUB, sizeof(**g));
		if (!*g)
			return -ENOMEM;
	}
	(*g)[i & (KX_HIST_SUB - 1)]++;
	return 0;
}

/* The lowest value of bucket i, and how many values it holds. */
uint64_t kx_hist_bucket_low(unsigned int i);
uint64_t kx_hist_bucket_width(unsigned int i);
/* The value a percentile in bucket i reports: its midpoint (exact below 64). */
uint64_t kx_hist_bucket_value(unsigned int i);
/* The count of bucket i. */
uint64_t kx_hist_count(const struct kx_hist *h, unsigned int i);
/* Adds n values to bucket i; 0, -EINVAL (no such bucket) or -ENOMEM. */
int kx_hist_add_bucket(struct kx_hist *h, unsigned int i, uint64_t n);
/* Adds src's counts to dst; 0 or -ENOMEM. */
int kx_hist_merge(struct kx_hist *dst, const struct kx_hist *src);
void kx_hist_release(struct kx_hist *h);
/*
 * The nearest-rank percentile (the value at rank ceil(n * pct / 100)) of
 * the n values counted in h, as its bucket's value clamped to [min, max]
 * (which callers keep exactly).  0 when n is 0.
 */
uint64_t kx_hist_percentile(const struct kx_hist *h, uint64_t n, unsigned int pct,
			    uint64_t min, uint64_t max);
/*
 * Whether each of nr rising bounds (ns, inclusive) ends a bucket, so that
 * counts under it are exact; and those counts: counts[j] += the values of
 * h above bounds[j - 1] and <= bounds[j] (values above the last: none).
 */
bool kx_hist_bounds_ok(const uint64_t *bounds, size_t nr);
void kx_hist_count_under(const struct kx_hist *h, const uint64_t *bounds, size_t nr,
			 uint64_t *counts);
/*
 * profile-parallel.c: a file-mode capture, opened but not walked, into a new
 * profile *out, read in parts on several threads (opts->threads).  Returns
 * 0; 1 when it was not done that way (not worth it, not possible, or a
 * part failed: walk the capture on one thread); or -ENOMEM.
 */
int kx_profile_load_parts(struct kvmexit_capture *cap, const struct kvmexit_profile_opts *opts,
			  struct kvmexit_profile **out);

/* The caller's options, of its size (sz), the rest zero; opts may be NULL. */
static inline struct kvmexit_profile_opts kx_profile_opts_copy(const struct kvmexit_profile_opts *opts)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o) };

	if (opts && opts->sz > sizeof(opts->sz))
		memcpy((char *)&o + sizeof(o.sz), (const char *)opts + sizeof(opts->sz),
		       (opts->sz < sizeof(o) ? opts->sz : sizeof(o)) - sizeof(o.sz));
	return o;
}

/* names.c: thread names (comm) by tid, the last one set wins. */
struct kx_name {
	int32_t pid, tid;
	char comm[16];			/* TASK_COMM_LEN, NUL-terminated */
};

struct kx_names {
	struct kx_name *v;		/* in the order first set */
	size_t nr;
	uint32_t *slots;		/* open addressing by tid: index + 1, 0 empty */
	size_t mask;
};

/* Sets tid's name (at most len bytes, up to a NUL, 15 kept); 0 or -ENOMEM. */
int kx_names_set(struct kx_names *n, int32_t pid, int32_t tid, const char *comm, size_t len);
const struct kx_name *kx_names_find(const struct kx_names *n, int32_t tid);
/* Sets every name of src in dst (src's are later: they win). */
int kx_names_merge(struct kx_names *dst, const struct kx_names *src);
void kx_names_release(struct kx_names *n);
/* Forgets the names of pid's threads (the table shrinks); out of memory, keeps them. */
void kx_names_forget_pid(struct kx_names *n, int32_t pid);

/*
 * A thread's name, as an event inside the library: the reader delivers a
 * COMM record to the profile in time order, among the kvm events, with
 * this type (never to kvmexit_capture_for_each()'s callback: the public
 * enum has no such type), pid and tid set, and the name in the union's
 * bytes (kx_event_comm()).
 */
#define KX_EV_COMM ((enum kvmexit_event_type)(KVMEXIT_EV__MAX + 2))
static inline char *kx_event_comm(struct kvmexit_event *ev)
{
	_Static_assert(sizeof(ev->exit) >= 16, "a comm fits in the event's union");
	return (char *)&ev->exit;
}

/* access.c: port, MMIO and MSR accesses, timed as perf kvm stat does. */
struct acc_thread;
struct kx_access {
	struct acc_thread *threads;
	size_t nr_threads, alloc_threads, last;
	struct kvmexit_access_stat *cells;	/* sorted by kind, key, write */
	double *sumsq;				/* per cell: sum of squared times */
	size_t nr_cells, alloc_cells;
};

/* Feeds one event (exits and entries too: they end and begin accesses). */
int kx_access_add(struct kx_access *a, const struct kvmexit_event *ev);
/* The rows of one kind, in a new array; returns how many, or -errno. */
int kx_access_rows(const struct kx_access *a, enum kvmexit_access_kind kind,
		   struct kvmexit_access_stat **out);
void kx_access_release(struct kx_access *a);

/* profile.c: whether the profile filters on pid or vCPU (counts cannot). */
bool kx_profile_filters_ids(const struct kvmexit_profile *prof);
/* Slots the capture's sample id table looked at (inserts and lookups past the cache). */
uint64_t kx_capture_id_probes(const struct kvmexit_capture *cap);
/* hash-key.c: n odd secret multipliers (getrandom) for tables keyed by input. */
void kx_hash_key(uint64_t *out, size_t n);
/* Slots the profile's maps and thread tables looked at: tests bound the work with it. */
uint64_t kx_profile_probes(const struct kvmexit_profile *prof);
/*
 * Part profiles, for a walk of a capture in parts (one thread each).
 * prof aggregates a part of a capture that does not start it (see
 * kx_profile_merge()).  Call it on a new profile, before its first event;
 * give it the same meta as the others (exits without an ISA take the meta's).
 */
void kx_profile_set_part(struct kvmexit_profile *prof);

/* A count table's "# exit_span:": the profile's rates are over it. */
void kx_profile_set_exit_span(struct kvmexit_profile *prof, uint64_t span_ns);
/*
 * Adds src, the profile of the part of the capture that follows dst's part,
 * into dst, as if src's events had been fed to dst after dst's own: every
 * row, total and pairing comes out as in one profile of both parts, and
 * top_rips too while no reason has more than 4096 distinct RIPs.  src was
 * made with kx_profile_set_part(), dst was not (it starts the capture; merge
 * left to right: p0 += p1, p0 += p2, ...), and both have the same opts.
 * src is not changed.  Returns 0, -EINVAL (dst is a part, src is not, or
 * their opts differ) or -ENOMEM (then dst is partly merged: free it).
 */
int kx_profile_merge(struct kvmexit_profile *dst, const struct kvmexit_profile *src);
/*
 * Adds an aggregated cell (a --bpf source or capture) with its times and
 * histogram buckets b[0..cell->nr), subject to the profile's filters (cells
 * have a pid and vCPU).  KVMEXIT_ISA_UNKNOWN means the meta's ISA.  Returns
 * 0, -EINVAL (bad ISA or bucket) or -ENOMEM.
 */
int kx_profile_add_cell(struct kvmexit_profile *prof, const struct kx_cell_rec *cell,
			const struct kx_bucket *b);
/* Adds counted kvm_pio events of a process (other events, in the totals). */
void kx_profile_add_pio(struct kvmexit_profile *prof, const struct kx_pio_rec *pio);
/*
 * Replaces everything prof aggregated with the cells and pio counts of c
 * (a --bpf source's running totals); its options and meta stay.  0,
 * -EINVAL or -ENOMEM.
 */
int kx_profile_set_cells(struct kvmexit_profile *prof, const struct kx_counts *c);
/* The row of group g a cell goes to, as kvmexit_profile_stats() groups (profile.c). */
void kx_row_key(enum kvmexit_group g, uint64_t c_k1, uint32_t detail, uint64_t k3,
		uint64_t *k1, uint64_t *k2);
/* kvmexit_profile_add_event() of a run in time order, as a kx_events_fn (prof). */
int kx_profile_add_events(const struct kvmexit_event *v, size_t n, void *prof);

/* diff */
/*
 * counts-table.c: reads a count table (kvmexit-capture(5), COUNT TABLES)
 * from @path ("-" for standard input) into @prof with
 * kvmexit_profile_add_count(), and what its comments say into @meta (which
 * it fills; the caller passes it to kvmexit_profile_set_meta()).  Returns
 * 0, -KVMEXIT_EFORMAT with "path:line: ..." in @errbuf, -errno, or
 * -KVMEXIT_ENOEVENTS for a table without rows.
 */
int kx_counts_table_read(const char *path, struct kvmexit_profile *prof,
			 struct kvmexit_meta *meta, char *errbuf, size_t errlen);
/* Same, from a stream already opened (@name only labels messages). */
int kx_counts_table_read_file(FILE *f, const char *name, struct kvmexit_profile *prof,
			      struct kvmexit_meta *meta, char *errbuf, size_t errlen);
/*
 * Whether the first bytes of an input look like a count table: text (no NUL,
 * no perf.data magic).  For kvmexit_profile_load() to choose a reader.
 */
bool kx_counts_table_sniff(const void *head, size_t len);
/*
 * prom-json.c: a Prometheus query API answer (JSON, buf[len] must be a NUL)
 * into counts per reason; what kx_counts_table_read() does for tables.
 */
int kx_prom_json_read(const char *buf, size_t len, const char *name,
		      struct kvmexit_profile *prof, struct kvmexit_meta *meta,
		      char *errbuf, size_t errlen);
bool kx_prom_json_sniff(const void *head, size_t len);

/* record */
/* tracefs.c: where the kernel's kvm tracepoints and kvm's settings live. */

/* The kvm events kvmexit records, by enum kvmexit_event_type (not LOST). */
const char *kx_event_name(enum kvmexit_event_type type);

/*
 * Finds tracefs: @hint if not NULL (used as given), else /sys/kernel/tracing,
 * else /sys/kernel/debug/tracing, else mounts tracefs at /sys/kernel/tracing.
 * Writes the directory into @path.  Returns 0 or a negative errno, with a
 * message in @errmsg (KX_ERRMSG_SIZE).
 */
int kx_tracefs_find(const char *hint, char *path, size_t size, char *errmsg);

/* The id in TRACEFS/events/kvm/EVENT/id.  Returns 0, -ENOENT or -errno. */
int kx_tracefs_event_id(const char *tracefs, const char *event, uint64_t *id);

/*
 * The format text in TRACEFS/events/kvm/EVENT/format, malloc'd and NUL
 * terminated.  Returns 0 or a negative errno.
 */
int kx_tracefs_event_format(const char *tracefs, const char *event,
			    char **text, size_t *len);

/*
 * Host facts under @root ("/" on a live system, a fixture directory in
 * tests): vendor, cpuid, model name and nr_cpus from ROOT/proc/cpuinfo,
 * osrelease and hostname from ROOT/proc/sys/kernel/, the kvm vendor module
 * (kvm_intel, kvm_amd, else another loaded kvm_* module) and its parameters
 * from ROOT/sys/module/MODULE/parameters/.  Fills what it finds, leaves the
 * rest as it was; returns 0 or -ENOMEM.
 */
int kx_host_meta(const char *root, struct kvmexit_meta *meta);

/* ROOT/proc/sys/kernel/perf_event_paranoid, or INT_MIN when unreadable. */
int kx_perf_paranoid(const char *root);

/* record-names.c: the recorder's process and thread names. */
struct kx_rec_names {
	int32_t *pids;			/* processes named so far, sorted */
	size_t nr, alloc;
	int32_t last;			/* the last one looked up */
};

/* The sample_id_all trailer of synthesized COMM records. */
struct kx_rec_comm_ctx {
	uint64_t time;
	uint32_t cpu;
	uint64_t id;			/* a sample id of the attr with comm set */
};

/* Whether process pid was named already (a hot-path check). */
bool kx_rec_names_known(struct kx_rec_names *n, int32_t pid);
/*
 * Names process pid, once: its VM name from ROOT/proc/PID/cmdline into
 * meta, and, with w, a COMM record per thread of ROOT/proc/PID/task.
 * Returns 0, -ENOMEM, or the writer's error.
 */
int kx_rec_name_process(struct kx_rec_names *n, const char *root, int32_t pid,
			const struct kx_rec_comm_ctx *ctx, struct kvmexit_meta *meta,
			struct kvmexit_writer *w);
void kx_rec_names_release(struct kx_rec_names *n);
/* Forgets that pid was named (a gone process; its pid may come back as another). */
void kx_rec_names_forget(struct kx_rec_names *n, int32_t pid);
/*
 * Writes a COMM record of thread tid of process pid, its trailer in the
 * recorder's sample_type (also the writer's default): TID, TIME, CPU,
 * IDENTIFIER from ctx.
 */
int kx_rec_write_comm(struct kvmexit_writer *w, const struct kx_rec_comm_ctx *ctx,
		      int32_t pid, int32_t tid, const char *comm);

/* count.c: one counting event per (tracepoint, filter) per CPU. */
struct kx_counter_set;

struct kx_counter_spec {
	uint64_t tp_id;			/* tracepoint id */
	char filter[256];		/* tracepoint filter, "" for none */
};

/* What a --count counter counts: a reason, or one detail key of it. */
struct kx_count_key {
	uint32_t exit_reason, detail;	/* detail 0: the whole reason */
};

/*
 * Filters on kvm_exit, one per reason in the table of @isa, except that
 * VMX EXCEPTION_NMI is split into #PF and the rest, and VMX CR_ACCESS into
 * mov-to-cr3, mov-from-cr3 and the rest (SVM has reasons of their own for
 * these); @keys receives what each counts.  Both malloc'd; returns the
 * number of specs or a negative errno.
 */
int kx_count_exit_specs(uint64_t exit_tp_id, enum kvmexit_isa isa,
			struct kx_counter_spec **specs, struct kx_count_key **keys);

/*
 * Opens one counter per spec on every CPU of @cpus, following task @pid
 * and its children (inherit) or, with @pid -1, every task.  Disabled until
 * kx_counter_set_enable(), or until @pid execs when @on_exec.
 */
int kx_counter_set_open(const struct kx_counter_spec *specs, size_t nr_specs,
			const int *cpus, size_t nr_cpus, int pid, bool on_exec,
			struct kx_counter_set **out, char *errmsg);
int kx_counter_set_enable(struct kx_counter_set *set);
int kx_counter_set_disable(struct kx_counter_set *set);
/* The value of spec @i on CPU index @c. */
int kx_counter_set_read(const struct kx_counter_set *set, size_t i, size_t c, uint64_t *value);
void kx_counter_set_free(struct kx_counter_set *set);

/*
 * bpf.c: the BPF source.  A program on kvm_exit and kvm_entry (and kvm_pio)
 * aggregates exits per process, vCPU, reason and detail, with times, in the
 * kernel (lib/bpf/kvmexit.bpf.c); this loads it, attaches it and reads its
 * maps.  Built without BPF (configure found no clang, bpftool or libbpf),
 * kx_bpf_open() returns -EOPNOTSUPP with a message saying what to use.
 */
struct kx_bpf;

struct kx_bpf_opts {
	enum kvmexit_isa isa;		/* for kernels whose kvm_exit lacks isa */
	bool pio;			/* count kvm_pio events too */
	const int32_t *tgids;		/* only these processes; */
	size_t nr_tgids;		/*   none: every process */
};

/* The program's own counters, summed over CPUs. */
struct kx_bpf_stats {
	uint64_t exits, entries, unpaired, full, pio;
};

/*
 * Loads the program, not attached.  On failure a negative errno and a
 * message in errmsg (KX_ERRMSG_SIZE): what failed, why (no BTF, no
 * permission, lockdown) and which source to use instead.
 */
int kx_bpf_open(const struct kx_bpf_opts *opts, struct kx_bpf **out, char *errmsg);
/* Attaches to the tracepoints: counting starts. */
int kx_bpf_attach(struct kx_bpf *b, char *errmsg);
/* Detaches: counting stops; the maps stay readable. */
void kx_bpf_detach(struct kx_bpf *b);
/*
 * Appends the maps' cells (detail keys made from the masked fields, times,
 * buckets) and pio counts to *out, and sums the program's counters into
 * *stats (may be NULL).  Callable while attached (a snapshot).
 */
int kx_bpf_read(struct kx_bpf *b, struct kx_counts *out, struct kx_bpf_stats *stats,
		char *errmsg);
void kx_bpf_free(struct kx_bpf *b);
/* Deletes tgid's entries from the maps keyed by process; the entries deleted or -errno. */
int kx_bpf_forget_tgid(struct kx_bpf *b, uint32_t tgid);

/* snapshot: a profile's cells, read by lib/snapshot.c (profile.c owns them). */
struct kx_cell_view {
	uint64_t k1;			/* ISA << 32 | reason */
	uint32_t detail;
	uint64_t k3;			/* (uint32_t)pid << 32 | vcpu; counted exits: all ones */
	uint64_t count, timed, total, min, max;	/* min UINT64_MAX until timed */
	uint64_t life;			/* its pid's life: another after a reuse; 0: no pid */
	const struct kx_hist *hist;
};
/* Calls fn for every cell of prof, in the order made; non-zero stops (returned). */
int kx_profile_for_each_cell(const struct kvmexit_profile *prof,
			     int (*fn)(const struct kx_cell_view *cell, void *arg), void *arg);
/* How many cells prof has. */
size_t kx_profile_nr_cells(const struct kvmexit_profile *prof);
/* How many vCPU threads prof keeps (tests). */
size_t kx_profile_nr_threads(const struct kvmexit_profile *prof);
/* How many processes kvmexit_profile_retire_pid() retired (snapshots keep it). */
uint64_t kx_profile_nr_retired(const struct kvmexit_profile *prof);

#endif /* KVMEXIT_INTERNAL_H */
