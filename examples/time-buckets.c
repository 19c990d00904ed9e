// SPDX-License-Identifier: GPL-2.0-only
/*
 * time-buckets: the exit-handling times of a capture as the classic
 * (Prometheus) histogram kvmexit serve exports, per reason: cumulative
 * counts at bounds that are edges of the profile's own histogram, so
 * every count is exact.
 *
 *	./time-buckets kvmexit.data
 */
#include <inttypes.h>
#include <stdio.h>
#include <kvmexit.h>

#define MAX_BOUNDS 64

int main(int argc, char **argv)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_REASON };
	const struct kvmexit_delta_row *rows;
	struct kvmexit_snapshot *snap = NULL;
	struct kvmexit_delta *d = NULL;
	struct kvmexit_profile *prof;
	uint64_t bounds[MAX_BOUNDS], le[MAX_BOUNDS];
	char err[256], name[64];
	int nb, ret = 1;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
		return 2;
	}
	if (kvmexit_profile_load(argv[1], NULL, &prof, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* One bound per power of two, 1 us (1023 ns) to 1 ms (1048575 ns). */
	nb = kvmexit_profile_time_bounds(1, 10, 20, bounds, MAX_BOUNDS);
	/* Everything the profile holds: a delta from nothing, rows' .total. */
	if (nb < 0 || nb > MAX_BOUNDS || kvmexit_snapshot_new(prof, 0, &snap) < 0 ||
	    kvmexit_delta_new(NULL, snap, &o, &d) < 0) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	n = kvmexit_delta_rows(d, &rows);
	for (size_t i = 0; i < n; i++) {
		const struct kvmexit_stat *st = &rows[i].total;

		if (!st->timed)
			continue;
		kvmexit_reason_name(st->isa, st->reason, name, sizeof(name));
		kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_REASON, st, bounds,
					     (size_t)nb, le);
		printf("%s: %" PRIu64 " timed\n", name, st->timed);
		for (int j = 0; j < nb; j++)
			printf("  < %8.3f us  %" PRIu64 "\n", (bounds[j] + 1) / 1e3, le[j]);
	}
	ret = 0;
out:
	kvmexit_delta_free(d);
	kvmexit_snapshot_free(snap);
	kvmexit_profile_free(prof);
	return ret;
}
