/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output helpers for the tools: aligned text tables (also written as CSV),
 * a small JSON writer, and human units.  Formatting only: no kvmexit logic.
 */
#ifndef KVMEXIT_TOOL_OUTPUT_H
#define KVMEXIT_TOOL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------ tables */

enum out_align { OUT_LEFT, OUT_RIGHT };

struct out_table;

/* NULL when out of memory; every call below accepts a NULL table. */
struct out_table *out_table_new(void);
void out_table_free(struct out_table *t);
/* Adds a column (before the first row). */
void out_table_column(struct out_table *t, const char *header, enum out_align align);
/* Starts a row; its cells follow in column order. */
void out_table_row(struct out_table *t);
void out_table_cell(struct out_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* False if any allocation failed on the way (the table is then incomplete). */
bool out_table_ok(const struct out_table *t);
/* Aligned columns two spaces apart, each line after indent; no trailing blanks. */
void out_table_print(const struct out_table *t, FILE *f, const char *indent);
/* A header line and one line per row, fields quoted as RFC 4180 needs. */
void out_table_print_csv(const struct out_table *t, FILE *f);

/* One CSV field, quoted when it holds a comma, quote or line break. */
void out_csv_field(FILE *f, const char *s);

/* -------------------------------------------------------------- JSON */

#define OUT_JSON_MAX_DEPTH 16

/* Pretty-printed, two spaces per level; keys are NULL inside arrays. */
struct out_json {
	FILE *f;
	int depth;
	bool first[OUT_JSON_MAX_DEPTH];
};

void out_json_start(struct out_json *j, FILE *f);	/* opens the top object */
void out_json_finish(struct out_json *j);		/* closes it, adds a newline */
void out_json_object(struct out_json *j, const char *key);
void out_json_object_end(struct out_json *j);
void out_json_array(struct out_json *j, const char *key);
void out_json_array_end(struct out_json *j);
void out_json_str(struct out_json *j, const char *key, const char *s);	/* NULL: null */
void out_json_u64(struct out_json *j, const char *key, uint64_t v);
void out_json_i64(struct out_json *j, const char *key, int64_t v);
/* A number with up to `decimals` decimals (trailing zeros kept). */
void out_json_double(struct out_json *j, const char *key, double v, int decimals);
void out_json_bool(struct out_json *j, const char *key, bool v);
void out_json_null(struct out_json *j, const char *key);
/* A JSON string literal, escaped. */
void out_json_string(FILE *f, const char *s);

/* ------------------------------------------------------------- units */

/* A duration with three significant digits: "850ns", "1.23us", "45.6ms", "2.00s". */
const char *out_ns(uint64_t ns, char *buf, size_t size);
/* A rate or other quantity: "0.25", "12.5", "1234". */
const char *out_num(double v, char *buf, size_t size);

#endif
