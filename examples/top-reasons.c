// SPDX-License-Identifier: GPL-2.0-only
/*
 * top-reasons: a short report of a capture or count table: totals, the
 * reasons with their exit-handling times, and the hottest guest RIPs of
 * the most frequent reason.
 *
 *	./top-reasons kvmexit.data
 */
#include <inttypes.h>
#include <stdio.h>
#include <kvmexit.h>

int main(int argc, char **argv)
{
	struct kvmexit_profile_opts opts = { .sz = sizeof(opts), .top_rips = 3 };
	struct kvmexit_profile_totals t;
	struct kvmexit_profile *prof;
	struct kvmexit_stat *rows;
	struct kvmexit_rip rips[3];
	char err[256], name[64];
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
		return 2;
	}
	/* A zeroed opts filters nothing; .has_pid/.pid would keep one VMM. */
	if (kvmexit_profile_load(argv[1], &opts, &prof, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	kvmexit_profile_totals(prof, &t);
	printf("%" PRIu64 " exits, %" PRIu64 " timed, over %.3f ms\n",
	       t.exits, t.timed, t.duration_ns / 1e6);

	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows);
	if (n < 0) {
		fprintf(stderr, "%s\n", kvmexit_strerror(n));
		kvmexit_profile_free(prof);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		kvmexit_reason_name(rows[i].isa, rows[i].reason, name, sizeof(name));
		printf("%-12s %6" PRIu64 "  avg %8.1f us  p99 %8.1f us\n", name,
		       rows[i].count,
		       rows[i].timed ? rows[i].time_total / 1e3 / rows[i].timed : 0.0,
		       rows[i].time_p99 / 1e3);
	}
	if (n > 0) {		/* rows come most frequent first */
		size_t nr = kvmexit_profile_top_rips(prof, rows[0].isa,
						     rows[0].reason, rips, 3);

		for (size_t i = 0; i < nr; i++)
			printf("  rip 0x%" PRIx64 ": %" PRIu64 "\n", rips[i].rip,
			       rips[i].count);
	}
	kvmexit_stats_free(rows);
	kvmexit_profile_free(prof);
	return 0;
}
