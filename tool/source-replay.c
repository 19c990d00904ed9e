// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay source: a capture read on a thread of its own and fed into
 * the profile in capture time.  The source's clock starts at the first
 * event's time and runs at --speed capture seconds per second (frozen
 * while paused); by clock T exactly the events earlier than T are in the
 * profile.  The view stamps snapshots with this clock, so the intervals
 * of a replay are the same whatever the wall clock did: deterministic.
 *
 * The reader thread holds the source's lock while it adds an event, and
 * waits (on `go`) at the first event not earlier than fed_until; run()
 * raises fed_until and waits (on `progress`) until the reader has caught
 * up or the time slice is over.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source.h"

struct replay {
	struct kvmexit_capture *cap;
	pthread_t thread;
	bool started;
	pthread_cond_t go, progress;
	double speed;
	uint64_t t0;			/* capture time at the clock's start */
	uint64_t fed_until;		/* events earlier than this are fed */
	uint64_t last;			/* latest event time fed */
	uint64_t pending;		/* time of the event the reader waits with */
	bool waiting, first, done, stop;
	int err;
	uint64_t now;			/* the clock as run() last set it (view thread) */
	uint64_t base, base_wall;	/* the clock read base at wall time base_wall */
	bool paused;			/* the clock stays at base */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The reader's callback: waits for the clock, then adds the event. */
static int replay_event(const struct kvmexit_event *ev, void *arg)
{
	struct source *s = arg;
	struct replay *r = s->priv;
	int err;

	pthread_mutex_lock(&s->lock);
	if (ev->type != KVMEXIT_EV_LOST) {
		if (!r->first) {
			r->first = true;
			r->t0 = ev->time;
		}
		while (ev->time >= r->fed_until && !r->stop) {
			r->waiting = true;
			r->pending = ev->time;
			pthread_cond_broadcast(&r->progress);
			pthread_cond_wait(&r->go, &s->lock);
		}
		r->waiting = false;
		if (ev->time > r->last)
			r->last = ev->time;
	}
	if (r->stop) {
		pthread_mutex_unlock(&s->lock);
		return 1;
	}
	if (ev->type == KVMEXIT_EV_LOST)
		s->lost += ev->lost.count;
	else if (ev->type < KVMEXIT_EV__MAX)
		s->by_type[ev->type]++;
	err = kvmexit_profile_add_event(s->prof, ev);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		r->err = err;
		return 1;
	}
	return 0;
}

/* A --count capture: its counts, all at its end. */
static int add_counts(struct source *s)
{
	const struct kvmexit_count *c;
	size_t n = kvmexit_capture_counts(((struct replay *)s->priv)->cap, &c);

	for (size_t i = 0; i < n; i++) {
		int err = kvmexit_profile_add_count(s->prof, c[i].isa, c[i].exit_reason, 0,
						    c[i].count);
		if (err)
			return err;
		s->by_type[KVMEXIT_EV_EXIT] += c[i].count;
	}
	return 0;
}

static void *reader(void *arg)
{
	struct source *s = arg;
	struct replay *r = s->priv;
	int ret = kvmexit_capture_for_each(r->cap, replay_event, s);

	pthread_mutex_lock(&s->lock);
	if (ret < 0 && !r->err) {
		r->err = ret;
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", kvmexit_capture_errmsg(r->cap));
	}
	if (!r->err && !r->stop && s->meta.counts_only) {
		const struct kvmexit_meta *m = kvmexit_capture_meta(r->cap);

		r->err = add_counts(s);
		if (!r->first && m->start_ns) {
			r->first = true;
			r->t0 = m->start_ns;
		}
		if (m->end_ns > r->last)
			r->last = m->end_ns;
	}
	r->done = true;
	pthread_cond_broadcast(&r->progress);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The clock at wall time w (lock held). */
static uint64_t clock_at(const struct replay *r, uint64_t w)
{
	double ahead = r->paused ? 0 : (double)(w - r->base_wall) * r->speed;

	/* A huge --speed (batch, log) saturates: the whole capture at once. */
	return ahead >= (double)(UINT64_MAX / 2 - r->base) ? UINT64_MAX / 2 : r->base + (uint64_t)ahead;
}

/* Where the clock stands once the reader is done: just past the last event. */
static uint64_t end_time(const struct replay *r)
{
	return r->first ? (r->last >= r->t0 ? r->last + 1 : r->t0) : 0;
}

static void wait_progress(struct replay *r, pthread_mutex_t *lock, uint64_t until_wall)
{
	struct timespec ts = {
		.tv_sec = (time_t)(until_wall / 1000000000ull),
		.tv_nsec = (long)(until_wall % 1000000000ull),
	};

	pthread_cond_timedwait(&r->progress, lock, &ts);
}

static int replay_start(struct source *s)
{
	struct replay *r = s->priv;
	pthread_condattr_t ca;
	int err;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->progress, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&r->go, NULL);
	err = -pthread_create(&r->thread, NULL, reader, s);
	if (err)
		return err;
	r->started = true;
	/* Wait for the first event (or the end): it starts the clock. */
	pthread_mutex_lock(&s->lock);
	while (!r->waiting && !r->done)
		pthread_cond_wait(&r->progress, &s->lock);
	r->fed_until = r->now = r->first ? r->t0 : 0;
	if (r->done)
		r->now = end_time(r);
	r->base = r->now;
	r->base_wall = mono_ns();
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int replay_run(struct source *s, uint64_t until_ns, int timeout_ms)
{
	struct replay *r = s->priv;
	uint64_t deadline = mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
	int ret = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t w = mono_ns(), target = clock_at(r, w);

		if (target > until_ns)
			target = until_ns;
		if (target > r->fed_until) {
			r->fed_until = target;
			pthread_cond_broadcast(&r->go);
		}
		/* Let the reader catch up with fed_until (it reads, no waiting on time). */
		while (!r->done && !(r->waiting && r->pending >= r->fed_until) && mono_ns() < deadline)
			wait_progress(r, &s->lock, deadline);
		if (r->done) {
			r->now = end_time(r);
			ret = r->err ? r->err : 0;
			break;
		}
		r->now = r->waiting && r->pending >= r->fed_until ? r->fed_until : r->now;
		if (r->now >= until_ns || mono_ns() >= deadline)
			break;
		/* Sleep until the clock reaches until_ns, or the slice ends. */
		w = mono_ns();
		if (!r->paused) {
			double need = (double)(until_ns - clock_at(r, w)) / r->speed;
			uint64_t wake = need < 1e15 ? w + (uint64_t)need + 1 : deadline;

			wait_progress(r, &s->lock, wake < deadline ? wake : deadline);
		} else {
			wait_progress(r, &s->lock, deadline);
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (ret < 0 && !s->errmsg[0])
		snprintf(s->errmsg, sizeof(s->errmsg), "replaying: %s", kvmexit_strerror(ret));
	return ret;
}

static uint64_t replay_now(const struct source *s)
{
	return ((const struct replay *)s->priv)->now;
}

/*
 * Pausing stops the clock where the events stand (it may have run ahead
 * of them between two run() calls); resuming runs it on from there.
 */
static void replay_pause(struct source *s, bool paused)
{
	struct replay *r = s->priv;

	pthread_mutex_lock(&s->lock);
	if (paused != r->paused) {
		r->base = r->now;
		r->base_wall = mono_ns();
		r->paused = paused;
	}
	pthread_mutex_unlock(&s->lock);
}

static void replay_stop(struct source *s)
{
	struct replay *r = s->priv;

	pthread_mutex_lock(&s->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->go);
	pthread_mutex_unlock(&s->lock);
}

static void replay_release(struct source *s)
{
	struct replay *r = s->priv;

	if (!r)
		return;
	if (r->started) {
		replay_stop(s);
		pthread_join(r->thread, NULL);
		pthread_cond_destroy(&r->go);
		pthread_cond_destroy(&r->progress);
	}
	kvmexit_capture_close(r->cap);
	free(r);
	s->priv = NULL;
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.start = replay_start,
	.run = replay_run,
	.now = replay_now,
	.pause = replay_pause,
	.stop = replay_stop,
	.release = replay_release,
};

int source_open_replay(const struct source_opts *o, struct source *s)
{
	struct replay *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	s->priv = r;
	s->ops = &replay_ops;
	r->speed = o->speed > 0 ? o->speed : 1;
	err = kvmexit_capture_open(o->path, &r->cap, s->errmsg, sizeof(s->errmsg));
	if (err)
		return err;
	s->meta = *kvmexit_capture_meta(r->cap);
	kvmexit_profile_set_meta(s->prof, &s->meta);
	if (s->meta.counts_only)
		s->caps = (struct source_caps){
			.shows = "counts per reason (a --count capture)",
			.lacks = "no times, no details, no per-VM split",
		};
	else
		s->caps = (struct source_caps){
			.times = true, .per_vm = true, .details = true,
			.shows = "what the capture holds", .lacks = "",
		};
	snprintf(s->label, sizeof(s->label), "replay %.*s at %gx", 80, o->path, r->speed);
	return 0;
}
