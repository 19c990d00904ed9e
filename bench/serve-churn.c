// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/serve-churn.c - what a long-lived profile holds after VM churn, as
 * kvmexit serve feeds it: VMS short-lived VMs (default 10000) one after the
 * other, each 2 vCPU threads x 7 VMX reasons x 10 timed exits (times over
 * ten powers of two, so histograms fill), a snapshot and a delta from the
 * previous one every 100 VMs (serve's intervals), and each VM retired once
 * gone (kvmexit_profile_retire_pid()), or never with --no-retire (before
 * issue 15).  Prints the cells held, the exits (exact), and the peak RSS.
 * Built and run by bench/serve-bench; counted, not timed.
 *
 *   serve-churn [--no-retire] [VMS]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kvmexit.h"

static const uint32_t reasons[7] = { 48, 30, 10, 12, 1, 28, 31 };

int main(int argc, char **argv)
{
	bool retire = true;
	long vms = 10000;
	struct kvmexit_profile *p;
	struct kvmexit_snapshot *prev = NULL;
	struct kvmexit_profile_totals t;
	struct rusage ru;
	uint64_t time = 1000, fed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-retire"))
			retire = false;
		else
			vms = strtol(argv[i], NULL, 10);
	}
	if (vms < 1 || kvmexit_profile_new(NULL, &p))
		return 1;
	for (long i = 0; i < vms; i++) {
		int pid = 100000 + (int)i;

		for (int v = 0; v < 2; v++)
			for (int r = 0; r < 7; r++)
				for (int k = 0; k < 10; k++) {
					struct kvmexit_event ev = {
						.type = KVMEXIT_EV_EXIT, .time = time, .pid = pid,
						.tid = pid * 4 + v, .vcpu = (uint32_t)v,
						.exit = { .isa = KVMEXIT_ISA_VMX,
							  .exit_reason = reasons[r] },
					};

					if (kvmexit_profile_add_event(p, &ev))
						return 1;
					ev.type = KVMEXIT_EV_ENTRY;
					ev.time += (200ull << ((k + i) % 10)) + (uint64_t)r;
					if (kvmexit_profile_add_event(p, &ev))
						return 1;
					time = ev.time + 1000;
					fed++;
				}
		if (i % 100 == 99) {
			struct kvmexit_snapshot *cur;
			struct kvmexit_delta *d;

			if (kvmexit_snapshot_new(p, time, &cur) ||
			    kvmexit_delta_new(prev, cur, NULL, &d))
				return 1;
			kvmexit_delta_free(d);
			kvmexit_snapshot_free(prev);
			prev = cur;
		}
		if (retire && kvmexit_profile_retire_pid(p, pid) < 0)
			return 1;
	}
	kvmexit_profile_totals(p, &t);
	getrusage(RUSAGE_SELF, &ru);
	printf("%s %ld VMs: %zu cells, %llu exits (fed %llu), peak RSS %ld KiB\n",
	       retire ? "retired" : "kept", vms, kvmexit_profile_nr_cells(p),
	       (unsigned long long)t.exits, (unsigned long long)fed, ru.ru_maxrss);
	kvmexit_snapshot_free(prev);
	kvmexit_profile_free(p);
	return t.exits == fed ? 0 : 1;
}
