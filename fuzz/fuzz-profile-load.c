// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: everything kvmexit_profile_load() accepts -- count
 * tables (CSV/TSV text) and captures -- into a profile and its rows.
 */
#include <stdint.h>
#include <unistd.h>

#include "kvmexit.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmexit_profile *prof;
	struct kvmexit_stat *rows;
	char path[64], err[512];
	int fd = fuzz_input_fd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (kvmexit_profile_load(path, NULL, &prof, err, sizeof(err)) == 0) {
		if (kvmexit_profile_stats(prof, KVMEXIT_GROUP_DETAIL, &rows) >= 0)
			kvmexit_stats_free(rows);
		kvmexit_profile_free(prof);
	}
	close(fd);
	return 0;
}
