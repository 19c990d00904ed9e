// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: everything kvmexit_profile_load() accepts -- count
 * tables (CSV/TSV text) and captures -- into a profile and its rows; once on
 * one thread and once in up to 3 parts on threads, which must agree: both
 * fail, or both give the same totals and rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvmexit.h"
#include "fuzz-input.h"

/* Returns the profile's detail rows (*nr of them), or NULL if it failed. */
static struct kvmexit_profile *load(const char *path, uint32_t threads,
				    struct kvmexit_stat **rows, int *nr)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o), .threads = threads };
	struct kvmexit_profile *prof;
	char err[512];

	*rows = NULL;
	*nr = 0;
	if (kvmexit_profile_load(path, &o, &prof, err, sizeof(err)))
		return NULL;
	*nr = kvmexit_profile_stats(prof, KVMEXIT_GROUP_DETAIL, rows);
	return prof;
}

static int same_totals(const struct kvmexit_profile_totals *a,
		       const struct kvmexit_profile_totals *b)
{
	return a->events == b->events && a->exits == b->exits && a->entries == b->entries &&
	       a->timed == b->timed && a->dropped_pairs == b->dropped_pairs &&
	       a->unpaired == b->unpaired && a->lost == b->lost &&
	       a->other_events == b->other_events && a->time_total_ns == b->time_total_ns &&
	       a->first_ns == b->first_ns && a->last_ns == b->last_ns &&
	       a->duration_ns == b->duration_ns && a->nr_vcpus == b->nr_vcpus &&
	       a->nr_pids == b->nr_pids && a->isa == b->isa;
}

static int same_rows(const struct kvmexit_stat *a, const struct kvmexit_stat *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i].isa != b[i].isa || a[i].reason != b[i].reason ||
		    a[i].detail != b[i].detail || a[i].vcpu != b[i].vcpu || a[i].pid != b[i].pid ||
		    a[i].count != b[i].count || a[i].timed != b[i].timed ||
		    a[i].time_total != b[i].time_total || a[i].time_min != b[i].time_min ||
		    a[i].time_max != b[i].time_max || a[i].time_p50 != b[i].time_p50 ||
		    a[i].time_p99 != b[i].time_p99)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmexit_profile *one, *parts;
	struct kvmexit_profile_totals t1, t3;
	struct kvmexit_stat *r1, *r3;
	char path[64];
	int fd = fuzz_input_fd(data, size, path, sizeof(path)), n1, n3;

	if (fd < 0)
		return 0;
	one = load(path, 1, &r1, &n1);
	parts = load(path, 3, &r3, &n3);
	if (!one != !parts)
		abort();	/* one failed, the other did not */
	if (one) {
		kvmexit_profile_totals(one, &t1);
		kvmexit_profile_totals(parts, &t3);
		if (!same_totals(&t1, &t3) || n1 != n3 || (n1 > 0 && !same_rows(r1, r3, n1)))
			abort();	/* the parts do not add up to the whole */
	}
	if (n1 >= 0)
		kvmexit_stats_free(r1);
	if (n3 >= 0)
		kvmexit_stats_free(r3);
	kvmexit_profile_free(one);
	kvmexit_profile_free(parts);
	close(fd);
	return 0;
}
