// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live sources on libkvmexit's recorder: sampled (every kvm_exit and
 * kvm_entry decoded into the profile as it is drained from the rings) and
 * count (the kernel's counters per reason, read at each snapshot and added
 * to the profile as the increase since the last read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source.h"

/* A reason's counter sum at the last read (count source). */
struct seen {
	enum kvmexit_isa isa;
	uint32_t reason;
	uint64_t sum;			/* at this read */
	uint64_t added;			/* already in the profile */
};

struct rec_src {
	struct kvmexit_recorder *rec;
	bool count;
	struct seen *seen;
	size_t nr_seen, alloc_seen;
	int feed_err;
	int32_t last_pid;		/* of the last exit: VMs are named when new */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Sampled: the recorder calls this on the view's thread, inside run(), so
 * the profile needs no lock here (snapshots are taken between runs).
 */
static int feed(const struct kvmexit_event *ev, void *arg)
{
	struct source *s = arg;
	struct rec_src *r = s->priv;
	int err;

	if (ev->type == KVMEXIT_EV_LOST)
		s->lost += ev->lost.count;
	else if (ev->type < KVMEXIT_EV__MAX)
		s->by_type[ev->type]++;
	/* A VM is named at its first exit, while its process surely runs. */
	if (__builtin_expect(ev->type == KVMEXIT_EV_EXIT && ev->pid != r->last_pid, 0)) {
		r->last_pid = ev->pid;
		if (source_vm_seen(s, ev->pid)) {
			r->feed_err = -ENOMEM;
			return 1;
		}
	}
	err = kvmexit_profile_add_event(s->prof, ev);
	if (err) {
		r->feed_err = err;
		return 1;	/* stops the recorder */
	}
	return 0;
}

static int rec_start(struct source *s)
{
	struct rec_src *r = s->priv;
	int ret = kvmexit_recorder_run(r->rec, 0);

	return ret < 0 ? ret : 0;
}

static int rec_run(struct source *s, uint64_t until_ns, int timeout_ms)
{
	struct rec_src *r = s->priv;
	uint64_t now = mono_ns();
	int ms = timeout_ms, ret;

	if (until_ns > now && (until_ns - now) / 1000000 + 1 < (uint64_t)ms)
		ms = (int)((until_ns - now) / 1000000) + 1;
	if (ms < 1)
		ms = 1;		/* 0 would return before draining */
	ret = kvmexit_recorder_run(r->rec, ms);
	if (r->feed_err) {
		snprintf(s->errmsg, sizeof(s->errmsg), "aggregating events: %s",
			 kvmexit_strerror(r->feed_err));
		return r->feed_err;
	}
	if (ret < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(r->rec));
	return ret;
}

/* Count: the increase of each reason's counters since the last read. */
static int count_sync(struct source *s)
{
	struct rec_src *r = s->priv;
	const struct kvmexit_count *c;
	struct kvmexit_record_stats st;
	size_t n;
	int err = kvmexit_recorder_read_counts(r->rec);

	if (err) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(r->rec));
		return err;
	}
	for (size_t i = 0; i < r->nr_seen; i++)
		r->seen[i].sum = 0;
	n = kvmexit_recorder_counts(r->rec, &c);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < r->nr_seen && (r->seen[j].isa != c[i].isa ||
					  r->seen[j].reason != c[i].exit_reason))
			j++;
		if (j == r->nr_seen) {
			if (r->nr_seen == r->alloc_seen) {
				size_t a = r->alloc_seen ? 2 * r->alloc_seen : 32;
				struct seen *v = realloc(r->seen, a * sizeof(*v));

				if (!v)
					return -ENOMEM;
				r->seen = v;
				r->alloc_seen = a;
			}
			r->seen[j] = (struct seen){ .isa = c[i].isa, .reason = c[i].exit_reason };
			r->nr_seen++;
		}
		r->seen[j].sum += c[i].count;
	}
	/* The profile holds the previous sums: add what is new. */
	pthread_mutex_lock(&s->lock);
	for (size_t j = 0; j < r->nr_seen && !err; j++) {
		struct seen *e = &r->seen[j];

		if (e->sum <= e->added)
			continue;
		err = kvmexit_profile_add_count(s->prof, e->isa, e->reason, 0, e->sum - e->added);
		e->added = e->sum;
	}
	pthread_mutex_unlock(&s->lock);
	kvmexit_recorder_stats(r->rec, &st);
	s->by_type[KVMEXIT_EV_EXIT] = st.by_type[KVMEXIT_EV_EXIT];
	return err;
}

static uint64_t rec_now(const struct source *s)
{
	return mono_ns();
}

static void rec_stop(struct source *s)
{
	struct rec_src *r = s->priv;

	kvmexit_recorder_stop(r->rec);
}

static void rec_release(struct source *s)
{
	struct rec_src *r = s->priv;

	if (!r)
		return;
	kvmexit_recorder_free(r->rec);
	free(r->seen);
	free(r);
	s->priv = NULL;
}

/* A gone VM: out of the profile and the recorder's names; its next exit names it anew. */
static int rec_retire(struct source *s, int32_t pid)
{
	struct rec_src *r = s->priv;
	int n = source_retire_profile(s, pid);

	if (n < 0)
		return n;
	kvmexit_recorder_forget_pid(r->rec, pid);	/* no --bpf: cannot fail */
	if (r->last_pid == pid)
		r->last_pid = -1;
	return n;
}

static const struct source_ops sampled_ops = {
	.name = "sampled",
	.start = rec_start,
	.run = rec_run,
	.now = rec_now,
	.stop = rec_stop,
	.release = rec_release,
	.retire = rec_retire,
};

static const struct source_ops count_ops = {
	.name = "count",
	.start = rec_start,
	.run = rec_run,
	.sync = count_sync,
	.now = rec_now,
	.stop = rec_stop,
	.release = rec_release,
};

int source_open_record(const struct source_opts *o, struct source *s)
{
	struct kvmexit_record_opts ro = {
		.sz = sizeof(ro), .target = o->target, .pids = o->pids, .nr_pids = o->nr_pids,
		.argv = o->argv, .events = o->events, .mmap_pages = o->mmap_pages,
		.count = o->kind == SOURCE_COUNT, .cmdline = o->cmdline,
	};
	struct rec_src *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	s->priv = r;
	r->last_pid = -1;
	r->count = ro.count;
	s->ops = r->count ? &count_ops : &sampled_ops;
	if (!r->count) {
		ro.fn = feed;
		ro.fn_arg = s;
	}
	err = kvmexit_recorder_new(&ro, &r->rec, s->errmsg, sizeof(s->errmsg));
	if (err)
		return err;
	s->meta = *kvmexit_recorder_meta(r->rec);
	kvmexit_profile_set_meta(s->prof, &s->meta);
	if (r->count) {
		s->caps = (struct source_caps){
			.live = true, .shows = "counts per reason",
			.lacks = "no times, no details, no per-VM split (use the sampled default)",
		};
	} else {
		s->caps = (struct source_caps){
			.live = true, .times = true, .per_vm = true, .details = true,
			.shows = "counts, times, details, per VM and vCPU", .lacks = "",
		};
	}
	snprintf(s->label, sizeof(s->label), "%s", s->ops->name);
	return 0;
}
