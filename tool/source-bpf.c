// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF live source: libkvmexit's recorder with --bpf.  A BPF program
 * aggregates the exits in the kernel (per process, vCPU, reason and detail,
 * with times and histograms); at each snapshot sync() reads its maps into
 * the profile, which then holds everything so far (the maps only grow, so
 * deltas between snapshots are the intervals).  Nothing per event reaches
 * user space: the lowest cost of the live sources, with what sampled shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "source.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct kvmexit_recorder *rec_of(const struct source *s)
{
	return s->priv;
}

static int bpf_start(struct source *s)
{
	int ret = kvmexit_recorder_run(rec_of(s), 0);

	if (ret < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(rec_of(s)));
	return ret < 0 ? ret : 0;
}

static int bpf_run(struct source *s, uint64_t until_ns, int timeout_ms)
{
	uint64_t now = mono_ns();
	int ms = timeout_ms, ret;

	if (until_ns > now && (until_ns - now) / 1000000 + 1 < (uint64_t)ms)
		ms = (int)((until_ns - now) / 1000000) + 1;
	if (ms < 1)
		ms = 1;
	ret = kvmexit_recorder_run(rec_of(s), ms);
	if (ret < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(rec_of(s)));
	return ret;
}

static int bpf_sync(struct source *s)
{
	struct kvmexit_record_stats st;
	int err;

	pthread_mutex_lock(&s->lock);
	err = kvmexit_recorder_read_profile(rec_of(s), s->prof);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(rec_of(s)));
		return err;
	}
	kvmexit_recorder_stats(rec_of(s), &st);
	for (int t = 0; t < KVMEXIT_EV__MAX; t++)
		s->by_type[t] = st.by_type[t];
	s->lost = st.lost;		/* events not counted: a BPF map was full */
	return 0;
}

static uint64_t bpf_now(const struct source *s)
{
	return mono_ns();
}

static void bpf_stop(struct source *s)
{
	kvmexit_recorder_stop(rec_of(s));
}

static void bpf_release(struct source *s)
{
	kvmexit_recorder_free(rec_of(s));
	s->priv = NULL;
}

/*
 * A gone VM: its entries leave the kernel's maps first (else the next
 * read brings them back), then the profile folds what the last read had
 * of it into the retired owner (kvmexit_profile_retire_pid()), which the
 * next reads keep.  Maps that cannot be cleaned leave the profile as it is.
 */
static int bpf_retire(struct source *s, int32_t pid)
{
	int n = kvmexit_recorder_forget_pid(rec_of(s), pid);

	if (n < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_recorder_errmsg(rec_of(s)));
		return n;
	}
	return source_retire_profile(s, pid);
}

static const struct source_ops bpf_ops = {
	.name = "bpf",
	.start = bpf_start,
	.run = bpf_run,
	.sync = bpf_sync,
	.now = bpf_now,
	.stop = bpf_stop,
	.release = bpf_release,
	.retire = bpf_retire,
};

int source_open_bpf(const struct source_opts *o, struct source *s)
{
	struct kvmexit_record_opts ro = {
		.sz = sizeof(ro), .target = o->target, .pids = o->pids, .nr_pids = o->nr_pids,
		.argv = o->argv, .events = o->events, .cmdline = o->cmdline, .bpf = true,
	};
	struct kvmexit_recorder *rec;
	int err;

	s->ops = &bpf_ops;
	err = kvmexit_recorder_new(&ro, &rec, s->errmsg, sizeof(s->errmsg));
	if (err)
		return err;
	s->priv = rec;
	s->meta = *kvmexit_recorder_meta(rec);
	kvmexit_profile_set_meta(s->prof, &s->meta);
	s->caps = (struct source_caps){
		.live = true, .times = true, .per_vm = true, .details = true,
		.shows = "counts, times, details, per VM and vCPU, aggregated in the kernel",
		.lacks = "",
	};
	snprintf(s->label, sizeof(s->label), "%s", s->ops->name);
	return 0;
}
