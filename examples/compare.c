// SPDX-License-Identifier: GPL-2.0-only
/*
 * compare: which exit reasons changed between two captures (A is the
 * baseline), with B scaled to A's number of CPUID exits, and what the
 * comparison warns about.
 *
 *	./compare ept.data shadow.data
 */
#include <inttypes.h>
#include <stdio.h>
#include <kvmexit.h>

static struct kvmexit_profile *load(const char *path)
{
	struct kvmexit_profile *prof;
	char err[256];

	if (kvmexit_profile_load(path, NULL, &prof, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return prof;
}

int main(int argc, char **argv)
{
	static const char *const change[] = { "same", "up", "down", "new", "gone" };
	struct kvmexit_diff_opts opts = { .sz = sizeof(opts) };
	const struct kvmexit_diff_warning *warn;
	const struct kvmexit_diff_row *rows;
	struct kvmexit_profile *a, *b;
	struct kvmexit_diff *diff = NULL;
	char err[256] = "", name[64];
	size_t n;
	int ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s A B\n", argv[0]);
		return 2;
	}
	a = load(argv[1]);
	b = a ? load(argv[2]) : NULL;
	if (!b)
		goto out;
	/* Both runs did the same CPUID work: count B per CPUID exit of A. */
	opts.normalize = KVMEXIT_DIFF_NORM_REASON;
	if (kvmexit_reason_parse(KVMEXIT_ISA_SVM, "cpuid", &opts.norm_reason) < 0 ||
	    kvmexit_diff_new(a, b, &opts, &diff, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	n = kvmexit_diff_rows(diff, &rows);
	for (size_t i = 0; i < n; i++) {
		kvmexit_diff_row_name(&rows[i], name, sizeof(name));
		printf("%-12s %6" PRIu64 " %6" PRIu64 " %+8.0f %s%s\n", name,
		       rows[i].count_a, rows[i].count_b, rows[i].delta,
		       change[rows[i].change], rows[i].significant ? " *" : "");
	}
	n = kvmexit_diff_warnings(diff, &warn);
	for (size_t i = 0; i < n; i++)
		printf("warning: %s\n", warn[i].message);
	if (kvmexit_diff_summary(diff)->paging.shadow_side)
		printf("%c shows shadow paging\n",
		       kvmexit_diff_summary(diff)->paging.shadow_side);
	ret = 0;
out:
	kvmexit_diff_free(diff);
	kvmexit_profile_free(b);
	kvmexit_profile_free(a);
	return ret;
}
