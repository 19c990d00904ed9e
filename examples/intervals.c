// SPDX-License-Identifier: GPL-2.0-only
/*
 * intervals: a capture's exits per interval of capture time, as a live
 * view sees them: a snapshot of the profile at the end of each interval
 * and the delta from the one before (rate, average and p99 of that
 * interval only), plus the total so far.
 *
 *   ./intervals CAPTURE [MS]      (MS: interval in ms of capture time, 1000)
 *
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <kvmexit.h>

struct watch {
	struct kvmexit_profile *prof;
	struct kvmexit_snapshot *prev;	/* at the start of the interval */
	uint64_t interval_ns, end_ns;	/* end_ns: where the interval ends */
	int err;
};

/* Prints what happened since w->prev, then makes now the new start. */
static int show_interval(struct watch *w, uint64_t now_ns)
{
	struct kvmexit_snapshot *now;
	struct kvmexit_delta *d;
	const struct kvmexit_delta_row *rows;
	size_t n;
	int err = kvmexit_snapshot_new(w->prof, now_ns, &now);

	if (!err)
		err = kvmexit_delta_new(w->prev, now, NULL, &d);
	if (err) {
		kvmexit_snapshot_free(now);
		return err;
	}
	n = kvmexit_delta_rows(d, &rows);
	printf("-- %.3f s: %" PRIu64 " exits\n",
	       (double)(now_ns - kvmexit_snapshot_time(w->prev)) / 1e9,
	       kvmexit_delta_summary(d)->interval.exits);
	for (size_t i = 0; i < n; i++) {
		const struct kvmexit_stat *iv = &rows[i].interval;
		char name[64];

		if (!iv->count)
			continue;	/* a row with exits only before */
		kvmexit_reason_name(iv->isa, iv->reason, name, sizeof(name));
		printf("%-12s %6" PRIu64 " %9.1f/s avg %8.0f ns p99 %8" PRIu64
		       " ns  total %" PRIu64 "\n", name, iv->count, rows[i].rate,
		       iv->timed ? (double)iv->time_total / (double)iv->timed : 0.0,
		       iv->time_p99, rows[i].total.count);
	}
	kvmexit_delta_free(d);
	kvmexit_snapshot_free(w->prev);
	w->prev = now;
	return 0;
}

static int on_event(const struct kvmexit_event *ev, void *arg)
{
	struct watch *w = arg;

	if (ev->type == KVMEXIT_EV_LOST)
		return kvmexit_profile_add_event(w->prof, ev) ? 1 : 0;
	if (!w->prev) {		/* the first event starts the first interval */
		w->err = kvmexit_snapshot_new(w->prof, ev->time, &w->prev);
		w->end_ns = ev->time + w->interval_ns;
	}
	/* Events from end_ns on belong to a later interval. */
	while (!w->err && ev->time >= w->end_ns) {
		w->err = show_interval(w, w->end_ns);
		w->end_ns += w->interval_ns;
	}
	if (!w->err)
		w->err = kvmexit_profile_add_event(w->prof, ev);
	return w->err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct watch w = { .interval_ns = 1000000000 };
	struct kvmexit_capture *cap;
	char err[512];
	int ret;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s CAPTURE [MS]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		w.interval_ns = (uint64_t)(strtod(argv[2], NULL) * 1e6);
	if (!w.interval_ns) {
		fprintf(stderr, "intervals: MS must be a positive number\n");
		return 2;
	}
	ret = kvmexit_capture_open(argv[1], &cap, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "intervals: %s\n", err);
		return 1;
	}
	ret = kvmexit_profile_new(NULL, &w.prof);
	if (!ret) {
		kvmexit_profile_set_meta(w.prof, kvmexit_capture_meta(cap));
		ret = kvmexit_capture_for_each(cap, on_event, &w);
	}
	if (ret >= 0 && w.err)
		ret = w.err;
	/* The last interval ends just after the last event. */
	if (ret >= 0 && w.prev) {
		struct kvmexit_profile_totals t;

		kvmexit_profile_totals(w.prof, &t);
		ret = show_interval(&w, t.last_ns + 1);
	}
	if (ret < 0)
		fprintf(stderr, "intervals: %s: %s\n", argv[1], kvmexit_strerror(ret));
	kvmexit_snapshot_free(w.prev);
	kvmexit_profile_free(w.prof);
	kvmexit_capture_close(cap);
	return ret < 0;
}
