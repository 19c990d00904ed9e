// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: Prometheus query API answers (lib/prom-json.c), the
 * JSON kvmexit reads as a count table, then the profile's rows.
 * Seeds: fuzz/seeds/fuzz-prom-json/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmexit_profile *prof;
	struct kvmexit_meta meta = { 0 };
	struct kvmexit_stat *rows;
	char err[512];
	char *buf = malloc(size + 1);	/* the reader wants a NUL after the text */

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (kvmexit_profile_new(NULL, &prof) == 0) {
		if (kx_prom_json_read(buf, size, "fuzz", prof, &meta, err, sizeof(err)) == 0) {
			kvmexit_profile_set_meta(prof, &meta);
			if (kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows) >= 0)
				kvmexit_stats_free(rows);
		}
		kvmexit_profile_free(prof);
	}
	free(buf);
	return 0;
}
