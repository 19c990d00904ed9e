/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmexit diff: the output formats of a comparison (tool/diff-output.c). */
#ifndef KVMEXIT_TOOL_DIFF_OUTPUT_H
#define KVMEXIT_TOOL_DIFF_OUTPUT_H

#include <stdio.h>

#include "kvmexit.h"

/* What the formats need besides the diff itself. */
struct diff_view {
	const struct kvmexit_diff *diff;
	const char *label_a, *label_b;		/* column labels */
	const char *path_a, *path_b;
	const struct kvmexit_meta *meta_a, *meta_b;
	const char *normalize;			/* "none", "duration", "total", a reason */
	bool color;
};

#define DIFF_LINE_MAX 512

/*
 * The summary in words, one sentence per line, without warnings: at most
 * @max lines into @lines; returns how many.
 */
size_t diff_summary_lines(const struct diff_view *v, char lines[][DIFF_LINE_MAX], size_t max);

void diff_print_table(FILE *out, const struct diff_view *v);
void diff_print_csv(FILE *out, const struct diff_view *v);
void diff_print_json(FILE *out, const struct diff_view *v);
void diff_print_markdown(FILE *out, const struct diff_view *v);
/* A bar chart of the first @max rows; returns 0 or -errno. */
int diff_write_svg(const char *path, const struct diff_view *v, size_t max);

#endif
