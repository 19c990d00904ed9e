// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the count-table reader (lib/counts-table.c,
 * kvmexit-capture(5) COUNT TABLES) on a stream, then the profile's rows.
 * Seeds: fuzz/seeds/fuzz-counts-table/ and tests/data/diff/ *.csv.
 */
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmexit_profile *prof;
	struct kvmexit_meta meta = { 0 };
	struct kvmexit_stat *rows;
	char err[512];
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (kvmexit_profile_new(NULL, &prof) == 0) {
		if (kx_counts_table_read_file(f, "fuzz", prof, &meta, err, sizeof(err)) == 0) {
			kvmexit_profile_set_meta(prof, &meta);
			if (kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows) >= 0)
				kvmexit_stats_free(rows);
		}
		kvmexit_profile_free(prof);
	}
	fclose(f);
	return 0;
}
