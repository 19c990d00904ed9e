// SPDX-License-Identifier: GPL-2.0-only
/*
 * record-exits: record every VM exit on this host for a few seconds into
 * a capture, printing a status line once a second; Ctrl-C ends it early.
 * Needs root (or CAP_PERFMON).
 *
 *	./record-exits out.data 10
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <kvmexit.h>

static struct kvmexit_recorder *rec;

static void on_signal(int sig)
{
	(void)sig;
	kvmexit_recorder_stop(rec);	/* async-signal-safe */
}

int main(int argc, char **argv)
{
	struct kvmexit_record_opts opts = { .sz = sizeof(opts) };
	struct kvmexit_record_stats st;
	char err[512];
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUTPUT SECONDS\n", argv[0]);
		return 2;
	}
	opts.target = KVMEXIT_TARGET_SYSTEM;
	opts.output = argv[1];
	opts.duration_ns = strtoull(argv[2], NULL, 10) * 1000000000ull;
	/* kvm_exit and kvm_entry, plus port I/O and what userspace handles. */
	if (kvmexit_record_events_parse("ioport", &opts.events) < 0)
		return 2;
	if (kvmexit_recorder_new(&opts, &rec, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);	/* what failed, what to do */
		return 1;
	}
	signal(SIGINT, on_signal);
	while ((ret = kvmexit_recorder_run(rec, 1000)) > 0) {
		kvmexit_recorder_stats(rec, &st);
		printf("%.0f s: %" PRIu64 " events, %" PRIu64 " exits, %" PRIu64
		       " lost\n", st.elapsed_ns / 1e9, st.events,
		       st.by_type[KVMEXIT_EV_EXIT], st.lost);
	}
	if (ret < 0)
		fprintf(stderr, "%s\n", kvmexit_recorder_errmsg(rec));
	signal(SIGINT, SIG_DFL);
	kvmexit_recorder_free(rec);
	return ret < 0;
}
