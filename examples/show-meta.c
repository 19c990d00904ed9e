// SPDX-License-Identifier: GPL-2.0-only
/*
 * show-meta: what a capture says about the host that recorded it.
 *
 *	./show-meta kvmexit.data
 */
#include <inttypes.h>
#include <stdio.h>
#include <kvmexit.h>

int main(int argc, char **argv)
{
	static const char *const tdp[] = { "unknown", "shadow paging", "on" };
	const struct kvmexit_meta *m;
	struct kvmexit_capture *cap;
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
		return 2;
	}
	if (kvmexit_capture_open(argv[1], &cap, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* Complete at once for a file; for a pipe only after the walk. */
	m = kvmexit_capture_meta(cap);
	printf("host: %s, kernel %s, %s, %" PRIu32 " CPUs\n", m->hostname,
	       m->osrelease, m->arch, m->nr_cpus);
	printf("cpu: %s (%s, %s)\n", m->cpu_desc, m->cpuid,
	       kvmexit_isa_name(m->isa));
	if (!m->has_kvmexit) {
		printf("recorded by perf: no kvm module facts\n");
	} else {
		printf("module: %s, two-dimensional paging: %s\n",
		       m->kvm_module, tdp[kvmexit_meta_tdp(m) + 1]);
		for (size_t i = 0; i < m->nr_params; i++)
			printf("  %s=%s\n", m->params[i].name, m->params[i].value);
		printf("lost: %" PRIu64 "%s\n", m->lost,
		       m->counts_only ? ", counts only" : "");
	}
	kvmexit_capture_close(cap);
	return 0;
}
