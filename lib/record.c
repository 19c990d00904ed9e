// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live recording: an evlist of kvm tracepoints (libperf), per-CPU rings
 * drained after poll, lost records counted, every event decoded for the
 * callback and written to the capture as it came.
 *
 * Targets.  System-wide and -p open one event per CPU for every process;
 * -p keeps only samples whose pid is a target (so vCPU threads created
 * later are caught without races, at the price of the kernel writing other
 * VMs' events into the rings too).  A command is recorded like perf
 * does for its workload: the events follow the child's pid with inherit,
 * enable_on_exec, and the child waits on a pipe until the recorder runs.
 *
 * Decoding.  Field offsets come from the format texts in tracefs, resolved
 * once by lib/format.c (the capture reader's parser; no libtraceevent
 * plugins); per event the hot path reads a few integers at those offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>

#include "internal.h"

/*
 * libperf 6.1's perf_evsel__delete() frees neither the sample ids that
 * perf_evlist__mmap() allocates nor the evsel's references to the maps
 * (perf's own evsel__exit() releases them); perf_evsel__free_id() is in
 * libperf.a but not in its public headers.
 */
void perf_evsel__free_id(struct perf_evsel *evsel);

#define REC_DEFAULT_PAGES	128
#define REC_TICK_MS		100

/* What we ask the kernel to put in every sample, and where it lands. */
#define REC_SAMPLE_TYPE	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
			 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW)
struct rec_sample {
	struct perf_event_header header;
	uint64_t id;
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
	uint64_t period;
	uint32_t raw_size;
	uint8_t raw[];
} __attribute__((packed));

/* sample_id_all trailer of non-sample records (e.g. LOST), same order. */
struct rec_sample_id {
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
	uint64_t id;
};

struct rec_event {
	enum kvmexit_event_type type;
	uint64_t tp_id;
	struct perf_evsel *evsel;
	char *format;
	size_t format_len;
	const struct kx_layout *layout;	/* its fields, from lib/format.c */
};

enum rec_state { REC_NEW, REC_RUNNING, REC_DONE };

struct kvmexit_recorder {
	struct kvmexit_record_opts opts;
	char errmsg[KX_ERRMSG_SIZE];
	char tracefs[PATH_MAX];
	enum rec_state state;
	volatile sig_atomic_t stop;
	int err;			/* first error while running */

	struct rec_event ev[KVMEXIT_EV_LOST];
	size_t nr_ev;
	struct kx_formats *formats;	/* the events' field layouts */

	struct perf_evlist *evlist;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;

	int32_t *pids;			/* KVMEXIT_TARGET_PIDS, sorted */
	size_t nr_pids;
	int *pidfds;			/* exit notification per target pid */
	size_t nr_alive;

	pid_t child;
	int child_pidfd;		/* readable once the command exited */
	int go_fd, err_fd;		/* release the child; its exec error */
	bool child_exited;
	int child_status;

	uint64_t start_ns, deadline_ns;
	struct kvmexit_record_stats st;
	struct kvmexit_meta meta;
	struct kvmexit_writer *w;
	int w_idx[KVMEXIT_EV_LOST];

	struct kx_rec_names names;	/* processes named (record-names.c) */
	uint64_t comm_id;		/* a sample id of ev[0], which has comm set */
	uint64_t drain_ns;		/* when the current drain pass began */
	uint64_t comm_ns;		/* the time of COMM records it synthesizes */

	struct kx_counter_set *cset;
	size_t nr_specs;
	struct kx_count_key *spec_key;
	struct kx_counts counts;

	struct kx_bpf *bpf;		/* --bpf: the BPF source */
};

/* ---------------------------------------------------------------- events */

static const struct {
	const char *name;
	uint32_t bits;
} event_sets[] = {
	{ "default", 0 },
	{ "ioport", KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO) | KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT) },
	{ "mmio", KVMEXIT_EVENT_BIT(KVMEXIT_EV_MMIO) | KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT) },
	{ "msr", KVMEXIT_EVENT_BIT(KVMEXIT_EV_MSR) | KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT) },
	{ "all", KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO) | KVMEXIT_EVENT_BIT(KVMEXIT_EV_MMIO) |
		 KVMEXIT_EVENT_BIT(KVMEXIT_EV_MSR) | KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT) },
};

static int parse_one_event(const char *word, size_t len, uint32_t *bits)
{
	for (size_t i = 0; i < KX_ARRAY_SIZE(event_sets); i++) {
		if (strlen(event_sets[i].name) == len && !strncasecmp(word, event_sets[i].name, len)) {
			*bits |= event_sets[i].bits;
			return 0;
		}
	}
	if (len > 4 && !strncasecmp(word, "kvm:", 4))
		word += 4, len -= 4;
	if (len > 4 && !strncasecmp(word, "kvm_", 4))
		word += 4, len -= 4;
	for (int t = 0; t < KVMEXIT_EV_LOST; t++) {
		const char *name = kx_event_name(t) + 4;

		if (strlen(name) == len && !strncasecmp(word, name, len)) {
			*bits |= KVMEXIT_EVENT_BIT(t);
			return 0;
		}
	}
	return -EINVAL;
}

KVMEXIT_API int kvmexit_record_events_parse(const char *text, uint32_t *events)
{
	uint32_t bits = KVMEXIT_EVENTS_DEFAULT;

	for (const char *p = text;;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || parse_one_event(p, len, &bits))
			return -EINVAL;
		if (!p[len])
			break;
		p += len + 1;
	}
	*events = bits;
	return 0;
}

/* ---------------------------------------------------------------- decode */

/* Resolves the event's fields once, with the reader's format parser. */
static int resolve_fields(struct kvmexit_recorder *rec, struct rec_event *e)
{
	char msg[KX_ERRMSG_SIZE];
	int err;

	if (!rec->formats) {
		err = kx_formats_new((int)sizeof(long), &rec->formats);
		if (err)
			return kx_error(rec->errmsg, err, "out of memory");
	}
	err = kx_formats_add(rec->formats, "kvm", e->format, e->format_len, msg);
	if (!err)
		e->layout = kx_formats_layout(rec->formats, e->tp_id);
	if (err || !e->layout)
		return kx_error(rec->errmsg, err ? err : -KVMEXIT_EFORMAT,
				"cannot parse %s/events/kvm/%s/format%s%s: is this a tracefs "
				"of a kernel with kvm?", rec->tracefs, kx_event_name(e->type),
				err ? ": " : "", err ? msg : "");
	return 0;
}

static const struct rec_event *event_of(const struct kvmexit_recorder *rec,
					const uint8_t *raw, uint32_t n)
{
	uint16_t common_type;

	if (n < 2)
		return NULL;
	memcpy(&common_type, raw, 2);
	for (size_t i = 0; i < rec->nr_ev; i++)
		if (rec->ev[i].tp_id == common_type)
			return &rec->ev[i];
	return NULL;
}

static bool pid_wanted(const struct kvmexit_recorder *rec, int32_t pid)
{
	size_t lo = 0, hi = rec->nr_pids;

	if (rec->opts.target != KVMEXIT_TARGET_PIDS)
		return true;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rec->pids[mid] == pid)
			return true;
		if (rec->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Keeps the first write error; the recording goes on without the file. */
static void writer_failed(struct kvmexit_recorder *rec, int err)
{
	if (!err || rec->err)
		return;
	/* the writer's message names the file, the offset and what is kept */
	rec->err = kx_error(rec->errmsg, err, "%s%s", kvmexit_writer_errmsg(rec->w),
			    err == -ENOSPC ? ": free space and record again" : "");
}

static inline void write_record(struct kvmexit_recorder *rec, const union perf_event *event)
{
	if (!rec->err)
		writer_failed(rec, kx_writer_write_record(rec->w, &event->header));
}

/* A process's first sample: its VM name, and its threads' names. */
static void name_process(struct kvmexit_recorder *rec, int32_t pid, uint64_t time, uint32_t cpu)
{
	struct kx_rec_comm_ctx ctx = { .time = time, .cpu = cpu, .id = rec->comm_id };
	/* a counts-only capture (--count, --bpf) holds no records: names go to its meta */
	bool records = rec->w && !rec->err && !rec->cset && !rec->bpf;
	int err = kx_rec_name_process(&rec->names, "/", pid, &ctx, &rec->meta,
				      records ? rec->w : NULL);

	if (err == -ENOMEM && !rec->err)
		rec->err = kx_error(rec->errmsg, err, "out of memory naming process %d", (int)pid);
	else if (rec->w)
		writer_failed(rec, err);
}

/*
 * COMM and FORK records (ev[0] has comm and task set): kept for processes
 * already named, so the capture follows renames ("CPU 0/KVM"), execs and
 * new threads; others' are noise (a process is named when first seen).
 */
static void handle_task(struct kvmexit_recorder *rec, const union perf_event *event)
{
	uint32_t pid = event->header.type == PERF_RECORD_COMM ? event->comm.pid : event->fork.pid;

	if (rec->w && !rec->cset && !rec->bpf && kx_rec_names_known(&rec->names, (int32_t)pid))
		write_record(rec, event);
}

/* Returns the callback's non-zero value (stop), or 0. */
static int handle_sample(struct kvmexit_recorder *rec, const union perf_event *event)
{
	const struct rec_sample *s = (const void *)event;
	const struct rec_event *e;
	struct kvmexit_event ev;
	uint32_t n;

	if (event->header.size < sizeof(*s))
		return 0;
	n = s->raw_size;
	if (n > event->header.size - sizeof(*s))
		n = event->header.size - sizeof(*s);
	e = event_of(rec, s->raw, n);
	if (!e || !pid_wanted(rec, (int32_t)s->pid))
		return 0;
	if (__builtin_expect(!kx_rec_names_known(&rec->names, (int32_t)s->pid), 0))
		name_process(rec, (int32_t)s->pid, rec->comm_ns, s->cpu);
	rec->st.events++;
	rec->st.by_type[e->type]++;
	if (rec->w)
		write_record(rec, event);
	if (!rec->opts.fn)
		return 0;
	ev.vcpu = 0;
	if (kx_layout_decode(e->layout, s->raw, n, &ev))
		return 0;		/* shorter than its format: not from this kernel */
	ev.time = s->time;
	ev.pid = (int32_t)s->pid;
	ev.tid = (int32_t)s->tid;
	ev.cpu = s->cpu;
	if (ev.type == KVMEXIT_EV_EXIT && ev.exit.isa == KVMEXIT_ISA_UNKNOWN)
		ev.exit.isa = rec->meta.isa;	/* kernels without the isa field */
	return rec->opts.fn(&ev, rec->opts.fn_arg);
}

static int handle_lost(struct kvmexit_recorder *rec, const union perf_event *event)
{
	struct kvmexit_event ev = { .type = KVMEXIT_EV_LOST };
	const struct rec_sample_id *sid;

	if (event->header.size < sizeof(event->lost) + sizeof(*sid))
		return 0;
	rec->st.lost += event->lost.lost;
	if (rec->w)
		write_record(rec, event);
	if (!rec->opts.fn)
		return 0;
	sid = (const void *)((const uint8_t *)event + sizeof(event->lost));
	ev.time = sid->time;
	ev.pid = (int32_t)sid->pid;
	ev.tid = (int32_t)sid->tid;
	ev.cpu = sid->cpu;
	ev.lost.count = event->lost.lost;
	return rec->opts.fn(&ev, rec->opts.fn_arg);
}

static uint64_t now_ns(clockid_t clk);

/*
 * Reads every ring once.  Not perf_mmap__read_done(): in the normal mode it
 * moves the read position to the current head, skipping records that
 * arrived during the pass without counting them as lost.
 */
static int drain(struct kvmexit_recorder *rec)
{
	struct perf_mmap *map;
	uint64_t before = rec->st.events + rec->st.lost;
	int stop = 0;

	/*
	 * COMM records synthesized in this pass take the time the previous
	 * pass began: every record of this pass is later (the previous pass
	 * read each ring to its head), and every record of the rounds before
	 * the previous one, which perf may have sorted out already, earlier.
	 */
	rec->comm_ns = rec->drain_ns ? rec->drain_ns : rec->start_ns;
	rec->drain_ns = now_ns(CLOCK_MONOTONIC);
	perf_evlist__for_each_mmap(rec->evlist, map, false) {
		union perf_event *event;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while ((event = perf_mmap__read_event(map))) {
			if (event->header.type == PERF_RECORD_SAMPLE)
				stop |= handle_sample(rec, event);
			else if (event->header.type == PERF_RECORD_LOST)
				stop |= handle_lost(rec, event);
			else if (event->header.type == PERF_RECORD_COMM ||
				 event->header.type == PERF_RECORD_FORK)
				handle_task(rec, event);
			perf_mmap__consume(map);
		}
	}
	if (rec->w && rec->st.events + rec->st.lost != before)
		writer_failed(rec, kvmexit_writer_finish_round(rec->w));
	return stop;
}

/* ---------------------------------------------------------------- setup */

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int permission_error(struct kvmexit_recorder *rec, int err, const char *what)
{
	return kx_error(rec->errmsg, err,
			"%s: permission denied: run as root or lower "
			"/proc/sys/kernel/perf_event_paranoid (now %d), or grant CAP_PERFMON",
			what, kx_perf_paranoid("/"));
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

/* Checks that every target process exists and watches for its exit. */
static int setup_pids(struct kvmexit_recorder *rec)
{
	const struct kvmexit_record_opts *o = &rec->opts;

	if (!o->nr_pids || !o->pids)
		return kx_error(rec->errmsg, -EINVAL, "no process to record: give at least one PID");
	rec->pids = malloc(o->nr_pids * sizeof(*rec->pids));
	rec->pidfds = malloc(o->nr_pids * sizeof(*rec->pidfds));
	if (!rec->pids || !rec->pidfds)
		return -ENOMEM;
	for (size_t i = 0; i < o->nr_pids; i++) {
		int fd = o->pids[i] > 0 ? (int)syscall(SYS_pidfd_open, o->pids[i], 0) : -1;

		if (fd < 0 && (o->pids[i] <= 0 || errno == ESRCH || errno == EINVAL))
			return kx_error(rec->errmsg, -ESRCH,
					"process %d not found: give the PID of a running VMM "
					"(e.g. pgrep qemu)", (int)o->pids[i]);
		rec->pids[i] = o->pids[i];
		rec->pidfds[rec->nr_pids++] = fd;	/* -1: pidfd unsupported, never ends */
	}
	rec->nr_alive = rec->nr_pids;
	qsort(rec->pids, rec->nr_pids, sizeof(*rec->pids), cmp_i32);
	return 0;
}

/*
 * Forks the command; the child waits for a byte on go_fd before exec, and
 * reports an exec failure (its errno) through err_fd, which closes on exec.
 */
static int setup_child(struct kvmexit_recorder *rec)
{
	int go[2], ep[2];

	if (!rec->opts.argv || !rec->opts.argv[0])
		return kx_error(rec->errmsg, -EINVAL, "no command to record: give one after --");
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	rec->child = fork();
	if (rec->child < 0) {
		int err = -errno;

		close(go[0]), close(go[1]), close(ep[0]), close(ep[1]);
		return kx_error(rec->errmsg, err, "cannot start %s: fork: %s",
				rec->opts.argv[0], strerror(-err));
	}
	if (rec->child == 0) {
		char c;
		int e;

		close(go[1]);
		close(ep[0]);
		/* the capture goes to standard output: the command's output must not */
		if (rec->opts.output && !strcmp(rec->opts.output, "-") &&
		    dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(rec->opts.argv[0], rec->opts.argv);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ep[1]);
	rec->child_pidfd = (int)syscall(SYS_pidfd_open, rec->child, 0);
	rec->go_fd = go[1];
	rec->err_fd = ep[0];
	rec->st.child_pid = rec->child;
	return 0;
}

static int load_event(struct kvmexit_recorder *rec, enum kvmexit_event_type type)
{
	struct rec_event *e = &rec->ev[rec->nr_ev];
	const char *name = kx_event_name(type);
	char dir[PATH_MAX + 16];
	int err;

	e->type = type;
	err = kx_tracefs_event_id(rec->tracefs, name, &e->tp_id);
	if (err == -ENOENT) {
		snprintf(dir, sizeof(dir), "%s/events/kvm", rec->tracefs);
		if (access(dir, F_OK))
			return kx_error(rec->errmsg, -ENOENT,
					"kvm tracepoints not found in %s: is kvm_intel or "
					"kvm_amd loaded?", dir);
		return kx_error(rec->errmsg, -ENOENT,
				"event kvm:%s not found in %s/events/kvm: this kernel does "
				"not have it; leave it out of -e", name, rec->tracefs);
	}
	if (err == -EACCES || err == -EPERM)
		return permission_error(rec, err, "reading tracefs event ids");
	if (!err)
		err = kx_tracefs_event_format(rec->tracefs, name, &e->format, &e->format_len);
	if (err)
		return kx_error(rec->errmsg, err, "reading %s/events/kvm/%s: %s",
				rec->tracefs, name, kvmexit_strerror(err));
	rec->nr_ev++;
	return resolve_fields(rec, e);
}

static int load_events(struct kvmexit_recorder *rec, uint32_t bits)
{
	int err = kx_tracefs_find(rec->opts.tracefs, rec->tracefs, sizeof(rec->tracefs),
				  rec->errmsg);

	for (int t = 0; !err && t < KVMEXIT_EV_LOST; t++)
		if (bits & KVMEXIT_EVENT_BIT(t))
			err = load_event(rec, t);
	return err;
}

static int open_writer(struct kvmexit_recorder *rec)
{
	struct kvmexit_writer_opts wo = {
		.sz = sizeof(wo), .force = rec->opts.overwrite, .meta = &rec->meta,
		.sample_type = REC_SAMPLE_TYPE,
	};
	char msg[KX_ERRMSG_SIZE];
	int err = kvmexit_writer_open(rec->opts.output, &wo, &rec->w, msg, sizeof(msg));

	if (err == -EEXIST)
		return kx_error(rec->errmsg, err, "%s exists: give -f to overwrite it, or "
				"another -o", rec->opts.output);
	if (err == -ELOOP || err == -EISDIR || err == -EINVAL)	/* not a regular file */
		return kx_error(rec->errmsg, err, "%s", msg);
	if (err)
		return kx_error(rec->errmsg, err, "cannot write %s: %s: check the directory "
				"exists and is writable", rec->opts.output, msg);
	for (size_t i = 0; i < rec->nr_ev; i++) {
		rec->w_idx[i] = kvmexit_writer_add_tracepoint(rec->w, "kvm", rec->ev[i].format);
		if (rec->w_idx[i] < 0)
			return kx_error(rec->errmsg, rec->w_idx[i], "%s: adding kvm:%s: %s",
					rec->opts.output, kx_event_name(rec->ev[i].type),
					kvmexit_writer_errmsg(rec->w));
	}
	return 0;
}

static void setup_attr(const struct kvmexit_recorder *rec, const struct rec_event *e,
		       struct perf_event_attr *a)
{
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = e->tp_id;
	a->sample_period = 1;
	a->sample_type = REC_SAMPLE_TYPE;
	a->read_format = PERF_FORMAT_ID;
	a->sample_id_all = 1;
	a->disabled = 1;
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	/* as perf's tracking event: thread names (COMM) and new threads (FORK) */
	if (e == &rec->ev[0]) {
		a->comm = 1;
		a->comm_exec = 1;
		a->task = 1;
	}
	if (rec->opts.target == KVMEXIT_TARGET_COMMAND) {
		a->inherit = 1;
		a->enable_on_exec = 1;
	}
}

/* Tells the writer which sample ids the kernel gave each event. */
static int register_ids(struct kvmexit_recorder *rec)
{
	int nr_cpus = perf_cpu_map__nr(rec->cpus), nr_threads = perf_thread_map__nr(rec->threads);
	uint64_t *ids = calloc((size_t)nr_cpus * nr_threads, sizeof(*ids));
	int err = ids ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < rec->nr_ev; i++) {
		size_t n = 0;

		for (int c = 0; !err && c < nr_cpus; c++) {
			for (int t = 0; !err && t < nr_threads; t++) {
				struct perf_counts_values cv;

				err = perf_evsel__read(rec->ev[i].evsel, c, t, &cv);
				ids[n++] = cv.id;
			}
		}
		if (!err)
			err = kx_writer_set_ids(rec->w, rec->w_idx[i], ids, n);
		if (!err && i == 0 && n)
			rec->comm_id = ids[0];
	}
	free(ids);
	return err ? kx_error(rec->errmsg, err, "reading the sample ids of the events: %s",
			      strerror(-err)) : 0;
}

static int open_error(struct kvmexit_recorder *rec, int err)
{
	if (err == -EACCES || err == -EPERM)
		return permission_error(rec, err, "opening the kvm tracepoints");
	if (err == -ESRCH)
		return kx_error(rec->errmsg, err, "opening the kvm tracepoints: the process "
				"to record is gone");
	if (err == -EMFILE)
		return kx_error(rec->errmsg, err, "opening the kvm tracepoints: too many open "
				"files: raise the limit (ulimit -n)");
	return kx_error(rec->errmsg, err, "opening the kvm tracepoints (perf_event_open): %s",
			strerror(-err));
}

static int open_events(struct kvmexit_recorder *rec)
{
	uint32_t pages = rec->opts.mmap_pages ? rec->opts.mmap_pages : REC_DEFAULT_PAGES;
	int err;

	if (pages & (pages - 1))
		return kx_error(rec->errmsg, -EINVAL, "ring of %u pages: give a power of 2 "
				"(e.g. 128)", pages);
	rec->evlist = perf_evlist__new();
	if (!rec->evlist)
		return -ENOMEM;
	for (size_t i = 0; i < rec->nr_ev; i++) {
		struct perf_event_attr a = { .size = sizeof(a) }, *wa = NULL;

		setup_attr(rec, &rec->ev[i], &a);
		if (rec->w && (wa = kx_writer_attr(rec->w, rec->w_idx[i]))) {
			uint32_t size = wa->size;

			/* The capture holds exactly the attr that was opened. */
			setup_attr(rec, &rec->ev[i], wa);
			memcpy(&a, wa, size < sizeof(a) ? size : sizeof(a));
			wa->size = size;
			a.size = sizeof(a);
		}
		rec->ev[i].evsel = perf_evsel__new(&a);
		if (!rec->ev[i].evsel)
			return -ENOMEM;
		perf_evlist__add(rec->evlist, rec->ev[i].evsel);
	}
	perf_evlist__set_maps(rec->evlist, rec->cpus, rec->threads);
	err = perf_evlist__open(rec->evlist);
	if (err)
		return open_error(rec, err < 0 ? err : -errno);
	err = perf_evlist__mmap(rec->evlist, pages);
	if (err)
		return kx_error(rec->errmsg, err < 0 ? err : -EINVAL,
				"mapping %u-page rings: %s: use fewer pages (-m) or raise "
				"/proc/sys/kernel/perf_event_mlock_kb", pages,
				strerror(err < 0 ? -err : EINVAL));
	return rec->w ? register_ids(rec) : 0;
}

/* ---------------------------------------------------------------- --count */

static int count_setup(struct kvmexit_recorder *rec)
{
	struct kx_counter_spec *specs;
	int nr_cpus = perf_cpu_map__nr(rec->cpus), *cpus, n, err;
	bool command = rec->opts.target == KVMEXIT_TARGET_COMMAND;

	if (rec->opts.target == KVMEXIT_TARGET_PIDS)
		return kx_error(rec->errmsg, -EINVAL, "--count counts system-wide (-a) or a "
				"command, not -p: record -p without --count");
	n = kx_count_exit_specs(rec->ev[0].tp_id, rec->meta.isa, &specs, &rec->spec_key);
	if (n == -EINVAL)
		return kx_error(rec->errmsg, n, "--count needs this CPU's exit reasons, but "
				"the vendor \"%s\" is neither Intel nor AMD: record without "
				"--count", rec->meta.vendor);
	if (n < 0)
		return n;
	rec->nr_specs = n;
	cpus = malloc(nr_cpus * sizeof(*cpus));
	if (!cpus) {
		free(specs);
		return -ENOMEM;
	}
	for (int c = 0; c < nr_cpus; c++)
		cpus[c] = perf_cpu_map__cpu(rec->cpus, c).cpu;
	err = kx_counter_set_open(specs, n, cpus, nr_cpus, command ? rec->child : -1, command,
				  &rec->cset, rec->errmsg);
	free(cpus);
	free(specs);
	return err;
}

/* Adds to the reason's count on @cpu (one entry per reason and CPU). */
static int count_add_total(struct kx_counts *counts, enum kvmexit_isa isa, uint32_t reason,
			   int32_t cpu, uint64_t v)
{
	for (size_t i = 0; i < counts->nr; i++) {
		struct kvmexit_count *c = &counts->v[i];

		if (c->isa == isa && c->exit_reason == reason && c->cpu == cpu) {
			c->count += v;
			return 0;
		}
	}
	return kx_counts_add(counts, isa, reason, cpu, v);
}

/*
 * Reads every counter into rec->counts (non-zero ones, per reason and CPU;
 * the parts of split reasons per detail as well).
 */
static int count_collect(struct kvmexit_recorder *rec)
{
	int nr_cpus = perf_cpu_map__nr(rec->cpus);

	/* The counters are cumulative: each read replaces the last. */
	rec->counts.nr = 0;
	rec->st.events = 0;
	rec->st.by_type[KVMEXIT_EV_EXIT] = 0;

	for (size_t i = 0; i < rec->nr_specs; i++) {
		for (int c = 0; c < nr_cpus; c++) {
			uint64_t v;
			int err = kx_counter_set_read(rec->cset, i, c, &v);

			if (err)
				return kx_error(rec->errmsg, err, "reading a counter: %s",
						strerror(-err));
			if (!v)
				continue;
			const struct kx_count_key *key = &rec->spec_key[i];
			int32_t cpu = perf_cpu_map__cpu(rec->cpus, c).cpu;

			err = count_add_total(&rec->counts, rec->meta.isa, key->exit_reason, cpu, v);
			if (!err && key->detail)
				err = kx_counts_add_detail(&rec->counts, rec->meta.isa,
							   key->exit_reason, key->detail, cpu, v);
			if (err)
				return err;
			rec->st.events += v;
			rec->st.by_type[KVMEXIT_EV_EXIT] += v;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- --bpf */

static int bpf_setup(struct kvmexit_recorder *rec)
{
	struct kx_bpf_opts o = {
		.isa = rec->meta.isa,
		.pio = rec->opts.events & KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO),
	};
	int32_t child = rec->child;

	if (rec->opts.count)
		return kx_error(rec->errmsg, -EINVAL, "--bpf and --count are two sources: "
				"give one");
	/* The program counts every process; these filter in the kernel. */
	if (rec->opts.target == KVMEXIT_TARGET_PIDS) {
		o.tgids = rec->pids;
		o.nr_tgids = rec->nr_pids;
	} else if (rec->opts.target == KVMEXIT_TARGET_COMMAND) {
		o.tgids = &child;
		o.nr_tgids = 1;
	}
	return kx_bpf_open(&o, &rec->bpf, rec->errmsg);
}

/* Reads the BPF maps into *into (cells and pio counts), and the stats. */
static int bpf_collect_into(struct kvmexit_recorder *rec, struct kx_counts *into)
{
	struct kx_bpf_stats st;
	int err = kx_bpf_read(rec->bpf, into, &st, rec->errmsg);

	if (err)
		return err;
	rec->st.events = st.exits + st.entries + st.pio;
	rec->st.by_type[KVMEXIT_EV_EXIT] = st.exits;
	rec->st.by_type[KVMEXIT_EV_ENTRY] = st.entries;
	rec->st.by_type[KVMEXIT_EV_PIO] = st.pio;
	rec->st.lost = st.full;		/* not counted: a map was full */
	return 0;
}

static int bpf_collect(struct kvmexit_recorder *rec)
{
	return bpf_collect_into(rec, &rec->counts);
}

static int setup_maps(struct kvmexit_recorder *rec)
{
	rec->cpus = perf_cpu_map__new(NULL);
	if (rec->opts.target == KVMEXIT_TARGET_COMMAND) {
		pid_t pid = rec->child;

		rec->threads = perf_thread_map__new_array(1, &pid);
	} else {
		rec->threads = perf_thread_map__new_dummy();
	}
	return rec->cpus && rec->threads ? 0 : -ENOMEM;
}

static void copy_opts(struct kvmexit_record_opts *dst, const struct kvmexit_record_opts *src)
{
	size_t n = src->sz < sizeof(*dst) ? src->sz : sizeof(*dst);

	memset(dst, 0, sizeof(*dst));
	memcpy(dst, src, n);
	dst->sz = sizeof(*dst);
}

static int recorder_setup(struct kvmexit_recorder *rec)
{
	uint32_t bits = rec->opts.events ? rec->opts.events : KVMEXIT_EVENTS_DEFAULT;
	int err;

	kx_host_meta("/", &rec->meta);
	if (rec->opts.cmdline)
		snprintf(rec->meta.cmdline, sizeof(rec->meta.cmdline), "%s", rec->opts.cmdline);
	if (rec->opts.target == KVMEXIT_TARGET_PIDS) {
		err = setup_pids(rec);
		if (err)
			return err;
	}
	if (rec->opts.count)
		bits = KVMEXIT_EVENT_BIT(KVMEXIT_EV_EXIT);
	if (rec->opts.bpf)
		bits &= KVMEXIT_EVENTS_DEFAULT | KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO);
	err = load_events(rec, bits);
	if (err)
		return err;
	if (rec->opts.output) {
		err = open_writer(rec);
		if (err)
			return err;
	}
	if (rec->opts.target == KVMEXIT_TARGET_COMMAND) {
		err = setup_child(rec);
		if (err)
			return err;
	}
	if (rec->opts.bpf)
		return bpf_setup(rec);
	err = setup_maps(rec);
	if (err)
		return err;
	if (rec->opts.count)
		return count_setup(rec);
	return open_events(rec);
}

KVMEXIT_API int kvmexit_recorder_new(const struct kvmexit_record_opts *opts,
				     struct kvmexit_recorder **out,
				     char *errbuf, size_t errlen)
{
	struct kvmexit_recorder *rec;
	int err;

	*out = NULL;
	if (!opts || opts->sz < offsetof(struct kvmexit_record_opts, cmdline)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "kvmexit_record_opts: set .sz = sizeof(opts)");
		return -EINVAL;
	}
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	copy_opts(&rec->opts, opts);
	rec->go_fd = rec->err_fd = rec->child_pidfd = -1;
	libperf_init(NULL);
	err = recorder_setup(rec);
	if (err) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", rec->errmsg[0] ? rec->errmsg :
				 kvmexit_strerror(err));
		kx_writer_discard(rec->w);	/* a capture of nothing: removed */
		rec->w = NULL;
		kvmexit_recorder_free(rec);
		return err;
	}
	*out = rec;
	return 0;
}

/* ---------------------------------------------------------------- running */

/* Releases the command; returns its exec error, if any. */
static int start_child(struct kvmexit_recorder *rec)
{
	int e = 0;
	ssize_t n;

	if (write(rec->go_fd, "g", 1) != 1)
		return -errno;
	close(rec->go_fd);
	rec->go_fd = -1;
	do
		n = read(rec->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(rec->err_fd);
	rec->err_fd = -1;
	if (n == sizeof(e))
		return kx_error(rec->errmsg, -e, "cannot run %s: %s", rec->opts.argv[0],
				strerror(e));
	return 0;
}

static int start(struct kvmexit_recorder *rec)
{
	uint64_t t0;
	int err = 0;

	rec->state = REC_RUNNING;
	rec->st.running = true;
	rec->meta.start_epoch_ns = now_ns(CLOCK_REALTIME);
	rec->start_ns = rec->meta.start_ns = now_ns(CLOCK_MONOTONIC);
	if (rec->opts.duration_ns)
		rec->deadline_ns = rec->start_ns + rec->opts.duration_ns;
	/* -p targets are named at once: they may exit before a sample */
	for (size_t i = 0; !rec->cset && i < rec->nr_pids; i++)
		name_process(rec, rec->pids[i], rec->start_ns, 0);
	if (rec->bpf)
		err = kx_bpf_attach(rec->bpf, rec->errmsg);
	else if (rec->cset)
		err = kx_counter_set_enable(rec->cset);
	else if (rec->opts.target != KVMEXIT_TARGET_COMMAND)
		perf_evlist__enable(rec->evlist);
	t0 = now_ns(CLOCK_MONOTONIC);
	if (!err && rec->child > 0)
		err = start_child(rec);
	/*
	 * exec'd now: named before it can end (a short command ends before a
	 * drain), at a time before its first event (events start at its exec)
	 */
	if (!err && rec->child > 0 && !rec->cset)
		name_process(rec, rec->child, t0, 0);
	return err;
}

static bool child_done(struct kvmexit_recorder *rec)
{
	if (rec->child <= 0 || rec->child_exited)
		return rec->child_exited;
	if (waitpid(rec->child, &rec->child_status, WNOHANG) == rec->child) {
		rec->child_exited = true;
		rec->st.child_exited = true;
		rec->st.child_status = rec->child_status;
	}
	return rec->child_exited;
}

/* Whether every target process (-p) has exited. */
static bool pids_done(struct kvmexit_recorder *rec)
{
	for (size_t i = 0; i < rec->nr_pids; i++) {
		struct pollfd p = { .fd = rec->pidfds[i], .events = POLLIN };

		if (p.fd >= 0 && poll(&p, 1, 0) == 1) {
			close(rec->pidfds[i]);
			rec->pidfds[i] = -1;
			rec->nr_alive--;
		}
	}
	return rec->nr_pids && !rec->nr_alive;
}

static bool should_end(struct kvmexit_recorder *rec, uint64_t now)
{
	if (rec->stop || rec->err)
		return true;
	if (rec->deadline_ns && now >= rec->deadline_ns)
		return true;
	if (rec->opts.target == KVMEXIT_TARGET_COMMAND)
		return child_done(rec);
	if (rec->opts.target == KVMEXIT_TARGET_PIDS)
		return pids_done(rec);
	return false;
}

static void end_child(struct kvmexit_recorder *rec)
{
	if (rec->go_fd >= 0) {
		close(rec->go_fd);	/* never started: it exits on EOF */
		rec->go_fd = -1;
	}
	if (rec->err_fd >= 0) {
		close(rec->err_fd);
		rec->err_fd = -1;
	}
	if (rec->child <= 0 || child_done(rec))
		return;
	if (rec->state != REC_NEW)
		kill(rec->child, SIGTERM);
	while (waitpid(rec->child, &rec->child_status, 0) < 0 && errno == EINTR)
		;
	rec->child_exited = true;
	rec->st.child_exited = true;
	rec->st.child_status = rec->child_status;
}

static void finish(struct kvmexit_recorder *rec)
{
	int err;

	if (rec->state == REC_RUNNING) {
		if (rec->bpf) {
			kx_bpf_detach(rec->bpf);
			err = bpf_collect(rec);
			if (err && !rec->err)
				rec->err = err;
		} else if (rec->cset) {
			kx_counter_set_disable(rec->cset);
			err = count_collect(rec);
			if (err && !rec->err)
				rec->err = err;
		} else {
			perf_evlist__disable(rec->evlist);
			drain(rec);
		}
		rec->meta.end_ns = now_ns(CLOCK_MONOTONIC);
		rec->st.elapsed_ns = rec->meta.end_ns - rec->start_ns;
	}
	end_child(rec);
	rec->meta.lost = rec->st.lost;
	if (rec->w) {
		char msg[KX_ERRMSG_SIZE];

		if (rec->cset && !rec->err)
			writer_failed(rec, kvmexit_writer_set_counts(rec->w, rec->counts.v,
								     rec->counts.nr));
		if (rec->cset && !rec->err)
			writer_failed(rec, kx_writer_set_detail_counts(rec->w, &rec->counts));
		if (rec->bpf && !rec->err)
			writer_failed(rec, kx_writer_add_cells(rec->w, &rec->counts));
		if (!rec->err)
			writer_failed(rec, kvmexit_writer_set_meta(rec->w, &rec->meta));
		err = kvmexit_writer_close(rec->w, msg, sizeof(msg));
		rec->w = NULL;
		if (err && !rec->err)
			rec->err = kx_error(rec->errmsg, err, "finishing %s: %s",
					    rec->opts.output, msg);
	}
	rec->state = REC_DONE;
	rec->st.running = false;
}

/* Counting mode sleeps until the tick, a signal, or the command's exit. */
static int wait_tick(struct kvmexit_recorder *rec, int ms)
{
	if (rec->cset || rec->bpf) {
		struct pollfd p = { .fd = rec->child_pidfd, .events = POLLIN };

		poll(&p, 1, ms);	/* fd -1 is ignored: then a plain sleep */
		return 0;
	}
	perf_evlist__poll(rec->evlist, ms);
	return drain(rec);
}

KVMEXIT_API int kvmexit_recorder_run(struct kvmexit_recorder *rec, int timeout_ms)
{
	uint64_t until = UINT64_MAX, now;

	if (rec->state == REC_DONE)
		return rec->err;
	if (rec->state == REC_NEW) {
		int err = start(rec);

		if (err) {
			rec->err = err;
			finish(rec);
			return err;
		}
	}
	now = now_ns(CLOCK_MONOTONIC);
	if (timeout_ms >= 0)
		until = now + (uint64_t)timeout_ms * 1000000;
	while (!should_end(rec, now)) {
		uint64_t left = until - now;
		int ms = REC_TICK_MS;

		if (now >= until)
			return 1;
		if (left < (uint64_t)ms * 1000000)
			ms = (int)(left / 1000000) + 1;
		if (rec->deadline_ns && rec->deadline_ns - now < (uint64_t)ms * 1000000)
			ms = (int)((rec->deadline_ns - now) / 1000000) + 1;
		if (wait_tick(rec, ms))
			rec->stop = 1;
		now = now_ns(CLOCK_MONOTONIC);
		rec->st.elapsed_ns = now - rec->start_ns;
	}
	finish(rec);
	return rec->err;
}

KVMEXIT_API void kvmexit_recorder_stop(struct kvmexit_recorder *rec)
{
	rec->stop = 1;
}

KVMEXIT_API void kvmexit_recorder_stats(const struct kvmexit_recorder *rec,
					struct kvmexit_record_stats *stats)
{
	*stats = rec->st;
	if (rec->state == REC_RUNNING)
		stats->elapsed_ns = now_ns(CLOCK_MONOTONIC) - rec->start_ns;
	if (rec->opts.output) {
		struct stat sb;

		stats->bytes = stat(rec->opts.output, &sb) ? 0 : (uint64_t)sb.st_size;
	}
}

KVMEXIT_API const struct kvmexit_meta *kvmexit_recorder_meta(const struct kvmexit_recorder *rec)
{
	return &rec->meta;
}

KVMEXIT_API size_t kvmexit_recorder_counts(const struct kvmexit_recorder *rec,
					   const struct kvmexit_count **counts)
{
	*counts = rec->counts.v;
	return rec->counts.nr;
}

KVMEXIT_API int kvmexit_recorder_read_counts(struct kvmexit_recorder *rec)
{
	if (!rec->cset)
		return -EINVAL;
	if (rec->state != REC_RUNNING)
		return 0;	/* before: none; after: finish() read them */
	return count_collect(rec);
}

KVMEXIT_API int kvmexit_recorder_read_profile(struct kvmexit_recorder *rec,
					      struct kvmexit_profile *prof)
{
	struct kx_counts now = { 0 };
	const struct kx_counts *c = &rec->counts;
	int err;

	if (!rec->bpf)
		return kx_error(rec->errmsg, -EOPNOTSUPP, "reading a profile from the recorder: "
				"only --bpf aggregates in the kernel; feed the profile from the "
				"callback (sampled) or use kvmexit_recorder_counts() (--count)");
	if (rec->state == REC_RUNNING) {
		err = bpf_collect_into(rec, &now);
		if (err) {
			kx_counts_release(&now);
			return err;
		}
		c = &now;
	}
	err = kx_profile_set_cells(prof, c);
	kx_counts_release(&now);
	return err;
}

KVMEXIT_API int kvmexit_recorder_forget_pid(struct kvmexit_recorder *rec, int32_t pid)
{
	int n = 0;

	if (!rec || pid < 0)
		return -EINVAL;
	if (rec->bpf && rec->state == REC_RUNNING) {
		n = kx_bpf_forget_tgid(rec->bpf, (uint32_t)pid);
		if (n < 0)
			return kx_error(rec->errmsg, n, "--bpf: deleting process %d from the BPF "
					"maps: %s", (int)pid, strerror(-n));
	}
	kx_rec_names_forget(&rec->names, pid);
	return n;
}

KVMEXIT_API const char *kvmexit_recorder_errmsg(const struct kvmexit_recorder *rec)
{
	return rec->errmsg;
}

KVMEXIT_API void kvmexit_recorder_free(struct kvmexit_recorder *rec)
{
	if (!rec)
		return;
	if (rec->state != REC_DONE)
		finish(rec);
	if (rec->evlist) {
		struct perf_evsel *evsel;

		perf_evlist__munmap(rec->evlist);
		perf_evlist__close(rec->evlist);
		perf_evlist__for_each_evsel(rec->evlist, evsel) {
			perf_evsel__free_id(evsel);
			perf_cpu_map__put(perf_evsel__cpus(evsel));
			perf_thread_map__put(perf_evsel__threads(evsel));
		}
		perf_evlist__delete(rec->evlist);	/* deletes the evsels */
	} else {
		for (size_t i = 0; i < rec->nr_ev; i++)
			perf_evsel__delete(rec->ev[i].evsel);
	}
	perf_cpu_map__put(rec->cpus);
	perf_thread_map__put(rec->threads);
	for (size_t i = 0; i < rec->nr_ev; i++)
		free(rec->ev[i].format);
	kx_formats_free(rec->formats);
	for (size_t i = 0; i < rec->nr_pids; i++)
		if (rec->pidfds[i] >= 0)
			close(rec->pidfds[i]);
	if (rec->child_pidfd >= 0)
		close(rec->child_pidfd);
	free(rec->pids);
	free(rec->pidfds);
	kx_counter_set_free(rec->cset);
	kx_bpf_free(rec->bpf);
	free(rec->spec_key);
	kx_counts_release(&rec->counts);
	kx_rec_names_release(&rec->names);
	free(rec);
}
