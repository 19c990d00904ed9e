// SPDX-License-Identifier: GPL-2.0-only
/* Output helpers: aligned tables, CSV, JSON and human units. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "output.h"

struct out_column {
	char *header;
	enum out_align align;
};

struct out_table {
	struct out_column *cols;
	size_t nr_cols;
	char **cells;			/* row-major, nr_rows * nr_cols */
	size_t nr_rows, alloc_cells, next;	/* next: cell index being filled */
	bool failed;
};

struct out_table *out_table_new(void)
{
	return calloc(1, sizeof(struct out_table));
}

void out_table_free(struct out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nr_cols; i++)
		free(t->cols[i].header);
	for (size_t i = 0; i < t->nr_rows * t->nr_cols; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->cells);
	free(t);
}

bool out_table_ok(const struct out_table *t)
{
	return t && !t->failed;
}

void out_table_column(struct out_table *t, const char *header, enum out_align align)
{
	struct out_column *c;

	if (!t || t->failed || t->nr_rows) {
		if (t)
			t->failed = true;
		return;
	}
	c = realloc(t->cols, (t->nr_cols + 1) * sizeof(*c));
	if (!c) {
		t->failed = true;
		return;
	}
	t->cols = c;
	c[t->nr_cols].header = strdup(header);
	c[t->nr_cols].align = align;
	if (!c[t->nr_cols].header)
		t->failed = true;
	t->nr_cols++;
}

void out_table_row(struct out_table *t)
{
	size_t need;

	if (!t || t->failed)
		return;
	need = (t->nr_rows + 1) * t->nr_cols;
	if (need > t->alloc_cells) {
		size_t n = t->alloc_cells ? t->alloc_cells * 2 : 64;
		char **cells;

		while (n < need)
			n *= 2;
		cells = realloc(t->cells, n * sizeof(*cells));
		if (!cells) {
			t->failed = true;
			return;
		}
		t->cells = cells;
		t->alloc_cells = n;
	}
	for (size_t i = t->nr_rows * t->nr_cols; i < need; i++)
		t->cells[i] = NULL;
	t->next = t->nr_rows * t->nr_cols;
	t->nr_rows++;
}

void out_table_cell(struct out_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!t || t->failed || !t->nr_rows || t->next >= t->nr_rows * t->nr_cols)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		t->failed = true;
	}
	va_end(ap);
	if (s && esc_needed(s, ESC_TEXT)) {	/* untrusted text (escape.h) */
		char *e = esc_dup(s, ESC_TEXT);

		free(s);
		s = e;
		t->failed |= !e;
	}
	t->cells[t->next++] = s;
}

static const char *cell(const struct out_table *t, size_t row, size_t col)
{
	const char *s = t->cells[row * t->nr_cols + col];

	return s ? s : "";
}

void out_table_print(const struct out_table *t, FILE *f, const char *indent)
{
	size_t *w;

	if (!t || !t->nr_cols)
		return;
	w = calloc(t->nr_cols, sizeof(*w));
	if (!w)
		return;
	for (size_t c = 0; c < t->nr_cols; c++) {
		w[c] = strlen(t->cols[c].header);
		for (size_t r = 0; r < t->nr_rows; r++)
			if (strlen(cell(t, r, c)) > w[c])
				w[c] = strlen(cell(t, r, c));
	}
	for (size_t r = 0; r <= t->nr_rows; r++) {
		size_t pad = 0;		/* blanks owed before the next text */

		fputs(indent ? indent : "", f);
		for (size_t c = 0; c < t->nr_cols; c++) {
			const char *s = r ? cell(t, r - 1, c) : t->cols[c].header;
			size_t len = strlen(s), fill = w[c] - len;

			pad += c ? 2 : 0;
			if (t->cols[c].align == OUT_RIGHT)
				pad += fill;
			if (len) {
				fprintf(f, "%*s%s", (int)pad, "", s);
				pad = 0;
			}
			if (t->cols[c].align == OUT_LEFT)
				pad += fill;
		}
		fputc('\n', f);
	}
	free(w);
}

void out_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void out_table_print_csv(const struct out_table *t, FILE *f)
{
	if (!t)
		return;
	for (size_t r = 0; r <= t->nr_rows; r++) {
		for (size_t c = 0; c < t->nr_cols; c++) {
			if (c)
				fputc(',', f);
			out_csv_field(f, r ? cell(t, r - 1, c) : t->cols[c].header);
		}
		fputc('\n', f);
	}
}

/* -------------------------------------------------------------- JSON */

void out_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	esc_write(f, s, ESC_JSON);
	fputc('"', f);
}

/* Starts a value: separator, newline, indent, and the key in objects. */
static void json_key(struct out_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key) {
		out_json_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void json_open(struct out_json *j, const char *key, char c)
{
	json_key(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < OUT_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct out_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(c, j->f);
}

void out_json_start(struct out_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	fputc('{', f);
	j->depth = 1;
	j->first[1] = true;
}

void out_json_finish(struct out_json *j)
{
	json_close(j, '}');
	fputc('\n', j->f);
}

void out_json_object(struct out_json *j, const char *key)
{
	json_open(j, key, '{');
}

void out_json_object_end(struct out_json *j)
{
	json_close(j, '}');
}

void out_json_array(struct out_json *j, const char *key)
{
	json_open(j, key, '[');
}

void out_json_array_end(struct out_json *j)
{
	json_close(j, ']');
}

void out_json_str(struct out_json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		out_json_string(j->f, s);
	else
		fputs("null", j->f);
}

void out_json_u64(struct out_json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void out_json_i64(struct out_json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void out_json_double(struct out_json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void out_json_bool(struct out_json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void out_json_null(struct out_json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

/* ------------------------------------------------------------- units */

static const char *sig3(double v, const char *unit, char *buf, size_t size)
{
	if (v < 9.995)
		snprintf(buf, size, "%.2f%s", v, unit);
	else if (v < 99.95)
		snprintf(buf, size, "%.1f%s", v, unit);
	else
		snprintf(buf, size, "%.0f%s", v, unit);
	return buf;
}

const char *out_ns(uint64_t ns, char *buf, size_t size)
{
	if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 999500)
		return sig3(ns / 1e3, "us", buf, size);
	else if (ns < 999500000)
		return sig3(ns / 1e6, "ms", buf, size);
	else
		return sig3(ns / 1e9, "s", buf, size);
	return buf;
}

const char *out_num(double v, char *buf, size_t size)
{
	if (v < 9.995)
		snprintf(buf, size, "%.2f", v);
	else if (v < 99.95)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.0f", v);
	return buf;
}
