/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live sources: one interface over everything that feeds a profile while
 * a view (top, serve) watches it in intervals.
 *
 *   sampled  kvm_exit + kvm_entry rings (libkvmexit's recorder): counts,
 *            times, details, per VM and vCPU
 *   count    kernel counters per reason (the recorder's --count): counts
 *            only, host-wide, lowest cost
 *   bpf      a BPF program aggregating in the kernel (the recorder's
 *            --bpf): counts, times, details, per VM and vCPU, at the
 *            lowest cost of all; read at each snapshot
 *   replay   a capture, driven in capture time at --speed X: whatever the
 *            capture holds; deterministic (intervals are capture time)
 *
 * A source owns its profile.  The view calls source_run() in short slices
 * (it returns within timeout_ms, so keys stay responsive), and, at the end
 * of each interval, source_snapshot(), which makes an immutable
 * kvmexit_snapshot stamped with the source's clock; deltas between
 * snapshots (kvmexit_delta_new()) are what the view shows.  Everything
 * here runs on the caller's thread but for the replay reader, which feeds
 * the profile under the source's lock; snapshots, once made, may be handed
 * to any thread.
 *
 * Adding a source (e.g. BPF): write a `struct source_ops` in its own file
 * (tool/source-NAME.c), set s->caps and s->meta in its open function, feed
 * s->prof from run() or sync(), and add a branch in source_open().
 */
#ifndef KVMEXIT_TOOL_SOURCE_H
#define KVMEXIT_TOOL_SOURCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvmexit.h"

/* What a source can show, for the view and its header. */
struct source_caps {
	bool times;			/* exit-handling times (kvm_entry pairs) */
	bool per_vm;			/* exits per VMM process and vCPU */
	bool details;			/* detail keys (#PF, port, ...) */
	bool live;			/* a running host (not a capture) */
	const char *shows;		/* e.g. "counts, times, per VM" */
	const char *lacks;		/* e.g. "no times, no per-VM split"; "" */
};

struct source;

struct source_ops {
	const char *name;		/* "sampled", "count", "replay", "bpf" */
	/* Starts the events (the first run() may do it instead). */
	int (*start)(struct source *s);
	/*
	 * Feeds the profile until the source's clock reaches until_ns or
	 * timeout_ms passes, whichever is first.  Returns 1 while the source
	 * runs, 0 once it has ended (command exited, capture read), or a
	 * negative errno with s->errmsg set.
	 */
	int (*run)(struct source *s, uint64_t until_ns, int timeout_ms);
	/* Optional: bring the profile up to date (read counters or maps). */
	int (*sync)(struct source *s);
	/* The source's clock, in the profile's time base (ns). */
	uint64_t (*now)(const struct source *s);
	/* Optional: freeze (true) or resume the clock (replay). */
	void (*pause)(struct source *s, bool paused);
	/* Ends the source (from the view's thread); run() then returns 0 soon. */
	void (*stop)(struct source *s);
	/* Releases what the source holds but the struct and its profile. */
	void (*release)(struct source *s);
	/*
	 * Optional: pid's VM is gone; retire it from the profile
	 * (kvmexit_profile_retire_pid()) and drop what the source keeps of it
	 * (the BPF maps' entries, the recorder's names).  Runs on the view's
	 * thread, between run()s.  NULL: the source keeps history (replay).
	 */
	int (*retire)(struct source *s, int32_t pid);
};

struct source {
	const struct source_ops *ops;
	struct kvmexit_profile *prof;	/* owned; read through snapshots */
	pthread_mutex_t lock;		/* held while the profile changes */
	struct source_caps caps;
	struct kvmexit_meta meta;	/* host or capture facts */
	char label[128];		/* e.g. "sampled -a", "replay x.data 10x" */
	uint64_t by_type[KVMEXIT_EV__MAX]; /* events seen per type, so far */
	uint64_t lost;			/* records the kernel dropped, so far */
	size_t cells;			/* the profile's cells at the last snapshot */
	char errmsg[512];
	void *priv;
	/* VMs named when their first event came (live): they may be gone by a snapshot. */
	struct source_vm {
		int32_t pid;
		char name[96];
	} *vms;
	size_t nr_vms, alloc_vms;
};

enum source_kind { SOURCE_SAMPLED, SOURCE_COUNT, SOURCE_REPLAY, SOURCE_BPF };

struct source_opts {
	enum source_kind kind;
	/* live */
	enum kvmexit_record_target target;
	const int32_t *pids;
	size_t nr_pids;
	char *const *argv;
	uint32_t events;		/* KVMEXIT_EVENT_BIT()s; 0: default */
	uint32_t mmap_pages;
	const char *cmdline;
	/* replay */
	const char *path;
	double speed;			/* capture seconds per second; 0: 1 */
};

/* Opens a source; on failure a message in err (what failed, what to do). */
int source_open(const struct source_opts *o, struct source **out, char *err, size_t len);
/* Starts it: the events are on, the replay clock runs. */
int source_start(struct source *s);
/* See source_ops.run. */
int source_run(struct source *s, uint64_t until_ns, int timeout_ms);
uint64_t source_now(const struct source *s);
void source_pause(struct source *s, bool paused);
void source_stop(struct source *s);
/*
 * A snapshot of the profile now, stamped with source_now(), after sync();
 * by_type and lost (may be NULL) get the events per type and the lost
 * records of the same moment.
 */
int source_snapshot(struct source *s, struct kvmexit_snapshot **out,
		    uint64_t by_type[KVMEXIT_EV__MAX], uint64_t *lost);
void source_free(struct source *s);
/*
 * Retires a gone VM's process (source_ops.retire), and forgets its name:
 * the cells retired (>= 0), -EOPNOTSUPP (a replay keeps history) or a
 * negative errno with s->errmsg.
 */
int source_retire(struct source *s, int32_t pid);
/* For sources whose profile is fed on the view's thread: retires pid in it. */
int source_retire_profile(struct source *s, int32_t pid);

/* The name a live source gave pid's VM when it first saw it, or NULL. */
const char *source_vm_name(const struct source *s, int32_t pid);
/* Names pid's VM now (from /proc) unless it has a name; 0 or -ENOMEM. */
int source_vm_seen(struct source *s, int32_t pid);

/* The implementations: each sets s->ops, caps, meta, label (or errmsg). */
int source_open_record(const struct source_opts *o, struct source *s);
int source_open_replay(const struct source_opts *o, struct source *s);
/* The BPF source (tool/source-bpf.c): the recorder with --bpf. */
int source_open_bpf(const struct source_opts *o, struct source *s);

#endif
