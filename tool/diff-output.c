// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit diff output: the words of the summary, and the table, CSV, JSON,
 * Markdown and SVG forms of a comparison.  Formatting only: every number
 * comes from the library's diff object.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff-output.h"
#include "escape.h"

#define COLOR_RED	"\033[31m"
#define COLOR_GREEN	"\033[32m"
#define COLOR_DIM	"\033[2m"
#define COLOR_BOLD	"\033[1m"
#define COLOR_RESET	"\033[0m"

/* ------------------------------------------------------------------ */
/* Numbers and names                                                   */
/* ------------------------------------------------------------------ */

static const char *fmt_count(char *buf, size_t size, double v)
{
	snprintf(buf, size, "%.0f", v);
	return buf;
}

static const char *fmt_delta(char *buf, size_t size, double v)
{
	double r = round(v);

	snprintf(buf, size, r > 0 ? "+%.0f" : "%.0f", r == 0 ? 0.0 : r);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t size, const struct kvmexit_diff_row *r)
{
	if (r->change == KVMEXIT_DIFF_NEW)
		return "new";
	if (r->change == KVMEXIT_DIFF_GONE)
		return "gone";
	snprintf(buf, size, r->ratio >= 100 ? "x%.0f" : r->ratio >= 10 ? "x%.1f" : "x%.2f",
		 r->ratio);
	return buf;
}

static const char *fmt_pct(char *buf, size_t size, double frac)
{
	snprintf(buf, size, "%.1f%%", frac * 100);
	return buf;
}

static const char *fmt_rate(char *buf, size_t size, bool has, double v)
{
	if (!has)
		return "-";
	snprintf(buf, size, v >= 100 ? "%.0f" : "%.2f", v);
	return buf;
}

static const char *fmt_ns(char *buf, size_t size, bool has, double ns)
{
	if (!has)
		return "-";
	if (ns < 1000)
		snprintf(buf, size, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, size, "%.2fus", ns / 1e3);
	else
		snprintf(buf, size, "%.2fms", ns / 1e6);
	return buf;
}

static void contrib_name(const struct kvmexit_diff_contrib *c, char *buf, size_t size)
{
	struct kvmexit_diff_row r = { .isa = c->isa, .reason = c->reason, .detail = c->detail };

	kvmexit_diff_row_name(&r, buf, size);
}

static const char *tdp_name(const struct kvmexit_diff_summary *s)
{
	return (s->isa_a == KVMEXIT_ISA_SVM || s->isa_b == KVMEXIT_ISA_SVM) ? "NPF" : "EPT violations";
}

/* ------------------------------------------------------------------ */
/* The summary in words                                                */
/* ------------------------------------------------------------------ */

static void line_totals(const struct diff_view *v, const struct kvmexit_diff_summary *s,
			char *out)
{
	char a[32], b[32], d[32], x[32], norm[160] = "";

	if (s->normalize != KVMEXIT_DIFF_NORM_NONE)
		snprintf(norm, sizeof(norm), " (B normalised by %s: x%.4g, %.0f)", v->normalize,
			 s->scale, s->total_b_scaled);
	fmt_count(a, sizeof(a), (double)s->total_a);
	fmt_count(b, sizeof(b), (double)s->total_b);
	fmt_delta(d, sizeof(d), s->total_delta);
	if (s->total_a)
		snprintf(x, sizeof(x), s->total_ratio >= 100 ? "x%.0f" : "x%.2f", s->total_ratio);
	if (s->total_a)
		snprintf(out, DIFF_LINE_MAX, "exits: %s (%s) -> %s (%s)%s: %s, %s (%+.1f%%)%s",
			 a, v->label_a, b, v->label_b, norm, x, d,
			 (s->total_ratio - 1) * 100,
			 s->total_significant ? "" : ", within Poisson noise");
	else
		snprintf(out, DIFF_LINE_MAX, "exits: 0 (%s) -> %s (%s)", v->label_a, b, v->label_b);
}

/* The top contributors until they carry 80% of the change, at most 4. */
static bool line_top(const struct kvmexit_diff_summary *s, char *out)
{
	size_t len = 0;
	double cum = 0;

	if (!s->nr_top)
		return false;
	len += snprintf(out, DIFF_LINE_MAX, "most of the change:");
	for (size_t i = 0; i < s->nr_top && i < 4 && len < DIFF_LINE_MAX; i++) {
		char name[96], d[32];

		if (i && cum >= 0.8)
			break;
		contrib_name(&s->top[i], name, sizeof(name));
		len += snprintf(out + len, DIFF_LINE_MAX - len, "%s %s %s (%.0f%%)", i ? "," : "",
				name, fmt_delta(d, sizeof(d), s->top[i].delta),
				fabs(s->top[i].change_share) * 100);
		cum += fabs(s->top[i].change_share);
	}
	return true;
}

static bool line_categories(const struct kvmexit_diff_summary *s, char *out)
{
	int order[KVMEXIT_CAT__MAX], n = 0;
	size_t len;

	for (int c = 0; c < KVMEXIT_CAT__MAX; c++)
		if (fabs(s->categories[c].delta) >= 0.5 && s->categories[c].significant)
			order[n++] = c;
	if (!n)
		return false;
	/* largest |delta| first: a handful of entries */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fabs(s->categories[order[j]].delta) >
				       fabs(s->categories[order[j - 1]].delta); j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	len = snprintf(out, DIFF_LINE_MAX, "by category:");
	for (int i = 0; i < n && i < 4 && len < DIFF_LINE_MAX; i++) {
		const struct kvmexit_diff_category *c = &s->categories[order[i]];
		char d[32];

		len += snprintf(out + len, DIFF_LINE_MAX - len, "%s %s %s (%" PRIu64 " -> %.0f)",
				i ? "," : "", kvmexit_category_name(order[i]),
				fmt_delta(d, sizeof(d), c->delta), c->count_a, c->scaled_b);
	}
	return true;
}

static size_t add_item(char *out, size_t len, bool *first, double delta, bool significant,
		       const char *what)
{
	char d[32];

	if (fabs(delta) < 0.5 || !significant || len >= DIFF_LINE_MAX)
		return len;
	len += snprintf(out + len, DIFF_LINE_MAX - len, "%s %s %s", *first ? "" : ",",
			fmt_delta(d, sizeof(d), delta), what);
	*first = false;
	return len;
}

static bool line_paging(const struct diff_view *v, const struct kvmexit_diff_summary *s,
			char *out)
{
	const struct kvmexit_diff_paging *p = &s->paging;
	bool first = true;
	size_t len;

	if (!p->shadow_side)
		return false;
	len = snprintf(out, DIFF_LINE_MAX, "shadow paging in %c (%s):", p->shadow_side,
		       p->shadow_side == 'B' ? v->label_b : v->label_a);
	len = add_item(out, len, &first, p->pf_delta, p->pf_significant,
		       p->pf_exact ? "#PF intercepts" : "EXCEPTION_NMI exits (#PF intercepts)");
	len = add_item(out, len, &first, p->cr3_delta, p->cr3_significant,
		       p->cr3_exact ? "CR3 accesses" : "CR_ACCESS exits (CR3)");
	len = add_item(out, len, &first, p->invlpg_delta, p->invlpg_significant, "INVLPG");
	len = add_item(out, len, &first, p->invpcid_delta, p->invpcid_significant, "INVPCID");
	if (len < DIFF_LINE_MAX)
		snprintf(out + len, DIFF_LINE_MAX - len, "; %s %s", tdp_name(s),
			 p->shadow_side == 'B' ? "gone" : "appear");
	return true;
}

/* The sentences below rest on significant rows only: say when there are none. */
static bool line_none(const struct kvmexit_diff_summary *s, char *out)
{
	if (s->nr_significant)
		return false;
	snprintf(out, DIFF_LINE_MAX, "%s", s->total_significant ?
		 "no single row changed significantly (each is within Poisson noise)" :
		 "no significant change: every row is within Poisson noise");
	return true;
}

size_t diff_summary_lines(const struct diff_view *v, char lines[][DIFF_LINE_MAX], size_t max)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);
	size_t n = 0;

	if (n < max)
		line_totals(v, s, lines[n++]);
	if (n < max && line_none(s, lines[n]))
		n++;
	if (n < max && line_top(s, lines[n]))
		n++;
	if (n < max && line_categories(s, lines[n]))
		n++;
	if (n < max && line_paging(v, s, lines[n]))
		n++;
	return n;
}

static const char *group_name(enum kvmexit_group g)
{
	return g == KVMEXIT_GROUP_DETAIL ? "detail" :
	       g == KVMEXIT_GROUP_CATEGORY ? "category" : "reason";
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

enum col {
	COL_NAME, COL_A, COL_B, COL_BNORM, COL_DELTA, COL_RATIO, COL_SHARE_A, COL_SHARE_B,
	COL_RATE_A, COL_RATE_B, COL_AVG_A, COL_AVG_B, COL__MAX,
};

struct cells {
	char c[COL__MAX][64];
};

static void row_cells(const struct kvmexit_diff_row *r, struct cells *out, bool mark)
{
	char tmp[48];

	kvmexit_diff_row_name(r, out->c[COL_NAME], sizeof(out->c[COL_NAME]));
	fmt_count(out->c[COL_A], 64, (double)r->count_a);
	fmt_count(out->c[COL_B], 64, (double)r->count_b);
	fmt_count(out->c[COL_BNORM], 64, r->scaled_b);
	fmt_delta(tmp, sizeof(tmp), r->delta);
	snprintf(out->c[COL_DELTA], 64, "%s%s", tmp, mark && !r->significant ? "~" : "");
	snprintf(out->c[COL_RATIO], 64, "%s", fmt_ratio(tmp, sizeof(tmp), r));
	fmt_pct(out->c[COL_SHARE_A], 64, r->share_a);
	fmt_pct(out->c[COL_SHARE_B], 64, r->share_b);
	snprintf(out->c[COL_RATE_A], 64, "%s", fmt_rate(tmp, sizeof(tmp), r->has_rate, r->rate_a));
	snprintf(out->c[COL_RATE_B], 64, "%s", fmt_rate(tmp, sizeof(tmp), r->has_rate, r->rate_b));
	snprintf(out->c[COL_AVG_A], 64, "%s", fmt_ns(tmp, sizeof(tmp), r->has_time_a, r->avg_ns_a));
	snprintf(out->c[COL_AVG_B], 64, "%s", fmt_ns(tmp, sizeof(tmp), r->has_time_b, r->avg_ns_b));
}

/* Which optional columns have something to show. */
static void table_columns(const struct diff_view *v, const struct kvmexit_diff_row *rows,
			  size_t n, bool show[COL__MAX])
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);

	for (int c = 0; c < COL__MAX; c++)
		show[c] = true;
	show[COL_BNORM] = s->normalize != KVMEXIT_DIFF_NORM_NONE;
	show[COL_RATE_A] = show[COL_RATE_B] = false;
	show[COL_AVG_A] = show[COL_AVG_B] = false;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].has_rate)
			show[COL_RATE_A] = show[COL_RATE_B] = true;
		if (rows[i].has_time_a || rows[i].has_time_b)
			show[COL_AVG_A] = show[COL_AVG_B] = true;
	}
}

static const char *row_color(const struct kvmexit_diff_row *r)
{
	if (!r->significant)
		return COLOR_DIM;
	switch (r->change) {
	case KVMEXIT_DIFF_UP:
	case KVMEXIT_DIFF_NEW:
		return COLOR_RED;
	case KVMEXIT_DIFF_DOWN:
	case KVMEXIT_DIFF_GONE:
		return COLOR_GREEN;
	default:
		return NULL;
	}
}

static void print_cells(FILE *out, const struct cells *c, const bool show[COL__MAX],
			const int width[COL__MAX], const char *color)
{
	if (color)
		fputs(color, out);
	for (int k = 0; k < COL__MAX; k++) {
		if (!show[k])
			continue;
		if (k == COL_NAME)
			fprintf(out, "%-*s", width[k], c->c[k]);
		else
			fprintf(out, "  %*s", width[k], c->c[k]);
	}
	if (color)
		fputs(COLOR_RESET, out);
	fputc('\n', out);
}

static void print_warnings(FILE *out, const struct diff_view *v, const char *prefix,
			   enum esc_kind kind)
{
	const struct kvmexit_diff_warning *w;
	size_t n = kvmexit_diff_warnings(v->diff, &w);

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%swarning: ", prefix);
		esc_write(out, w[i].message, kind);
		fputc('\n', out);
	}
}

/* A label (a kernel release, a file name) escaped into a table cell. */
static void label_cell(char cell[64], const char *label)
{
	char *e = esc_dup(label, ESC_TEXT);

	snprintf(cell, 64, "%s", e ? e : "?");
	free(e);
}

/* A span in seconds as the report shows it, 3 digits: "36.4ms", "2.00s". */
static const char *fmt_span(char *buf, size_t size, double secs)
{
	double v = secs * 1e9;
	const char *unit = "ns";

	if (v >= 999.5e6) {
		v /= 1e9;
		unit = "s";
	} else if (v >= 999.5e3) {
		v /= 1e6;
		unit = "ms";
	} else if (v >= 999.5) {
		v /= 1e3;
		unit = "us";
	}
	snprintf(buf, size, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v, unit);
	return buf;
}

/* What A/s and B/s are over, with each side's recording window where known. */
static bool line_rates(const struct kvmexit_diff_summary *s, char *out)
{
	char a[32], b[32], wa[48] = "", wb[48] = "", t[32];

	if (!s->has_rates)
		return false;
	/* Beside an exit span, the window it was recorded in. */
	if (s->window_a > 0 && s->basis_a == KVMEXIT_RATE_EXIT_SPAN)
		snprintf(wa, sizeof(wa), " (recorded %s)", fmt_span(t, sizeof(t), s->window_a));
	if (s->window_b > 0 && s->basis_b == KVMEXIT_RATE_EXIT_SPAN)
		snprintf(wb, sizeof(wb), " (recorded %s)", fmt_span(t, sizeof(t), s->window_b));
	snprintf(out, DIFF_LINE_MAX, "rates over %s: A %s%s, B %s%s",
		 s->basis_a == KVMEXIT_RATE_EXIT_SPAN ? "the exits, first to last" :
		 "the recording windows", fmt_span(a, sizeof(a), s->duration_a), wa,
		 fmt_span(b, sizeof(b), s->duration_b), wb);
	return true;
}

void diff_print_table(FILE *out, const struct diff_view *v)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(v->diff, &rows);
	char lines[8][DIFF_LINE_MAX];
	size_t nl = diff_summary_lines(v, lines, 7);
	struct cells head = { 0 }, c;
	bool show[COL__MAX], any_ns = false;
	int width[COL__MAX];

	for (int side = 0; side < 2; side++) {
		fputs(side ? "B: " : "A: ", out);
		esc_write(out, side ? v->label_b : v->label_a, ESC_TEXT);
		fputs(" (", out);
		esc_write(out, side ? v->path_b : v->path_a, ESC_TEXT);
		fputs(")\n", out);
	}
	if (line_rates(s, lines[7])) {
		esc_write(out, lines[7], ESC_TEXT);
		fputc('\n', out);
	}
	for (size_t i = 0; i < nl; i++) {
		fputs(v->color && i == 0 ? COLOR_BOLD : "", out);
		esc_write(out, lines[i], ESC_TEXT);
		fprintf(out, "%s\n", v->color && i == 0 ? COLOR_RESET : "");
	}
	print_warnings(out, v, "", ESC_TEXT);
	fputc('\n', out);
	table_columns(v, rows, n, show);
	snprintf(head.c[COL_NAME], 64, "%s",
		 s->group == KVMEXIT_GROUP_CATEGORY ? "CATEGORY" : "REASON");
	label_cell(head.c[COL_A], v->label_a);
	label_cell(head.c[COL_B], v->label_b);
	snprintf(head.c[COL_BNORM], 64, "B NORM");
	snprintf(head.c[COL_DELTA], 64, "DELTA");
	snprintf(head.c[COL_RATIO], 64, "RATIO");
	snprintf(head.c[COL_SHARE_A], 64, "SHARE A");
	snprintf(head.c[COL_SHARE_B], 64, "SHARE B");
	snprintf(head.c[COL_RATE_A], 64, "A/s");
	snprintf(head.c[COL_RATE_B], 64, "B/s");
	snprintf(head.c[COL_AVG_A], 64, "AVG A");
	snprintf(head.c[COL_AVG_B], 64, "AVG B");
	for (int k = 0; k < COL__MAX; k++)
		width[k] = (int)strlen(head.c[k]);
	for (size_t i = 0; i < n; i++) {
		row_cells(&rows[i], &c, true);
		for (int k = 0; k < COL__MAX; k++)
			if ((int)strlen(c.c[k]) > width[k])
				width[k] = (int)strlen(c.c[k]);
		any_ns |= !rows[i].significant;
	}
	print_cells(out, &head, show, width, NULL);
	for (size_t i = 0; i < n; i++) {
		row_cells(&rows[i], &c, true);
		print_cells(out, &c, show, width, v->color ? row_color(&rows[i]) : NULL);
	}
	if (s->nr_rows > n)
		fprintf(out, "(%zu of %zu rows shown)\n", n, s->nr_rows);
	if (any_ns)
		fprintf(out, "~ within Poisson noise (p >= %g)\n", s->alpha);
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

static void csv_str(FILE *out, const char *raw)
{
	char *e = esc_dup(raw, ESC_TEXT);
	const char *s = e ? e : "?";

	if (!strpbrk(s, ",\"")) {
		fputs(s, out);
		free(e);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
	free(e);
}

static const char *change_name(enum kvmexit_diff_change c)
{
	static const char *const names[] = { "same", "up", "down", "new", "gone" };

	return (unsigned int)c < 5 ? names[c] : "same";
}

static void row_reason_detail(const struct kvmexit_diff_row *r, char *reason, char *detail,
			      size_t size)
{
	detail[0] = '\0';
	if (r->isa == KVMEXIT_ISA_UNKNOWN) {
		snprintf(reason, size, "%s", kvmexit_category_name(r->reason));
		return;
	}
	kvmexit_reason_name(r->isa, r->reason, reason, size);
	if (r->detail)
		kvmexit_detail_name(r->isa, r->reason, r->detail, detail, size);
}

static void csv_opt(FILE *out, bool has, double v)
{
	fputc(',', out);
	if (has)
		fprintf(out, "%.6g", v);
}

void diff_print_csv(FILE *out, const struct diff_view *v)
{
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(v->diff, &rows);

	fprintf(out, "reason,detail,isa,code,category,count_a,count_b,count_b_scaled,delta,ratio,"
		     "change,share_a,share_b,rate_a,rate_b,avg_ns_a,avg_ns_b,p_value,significant\n");
	for (size_t i = 0; i < n; i++) {
		const struct kvmexit_diff_row *r = &rows[i];
		char reason[96], detail[96];

		row_reason_detail(r, reason, detail, sizeof(reason));
		csv_str(out, reason);
		fputc(',', out);
		csv_str(out, detail);
		fprintf(out, ",%s,%" PRIu32 ",%s,%" PRIu64 ",%" PRIu64 ",%.6g,%.6g",
			r->isa ? kvmexit_isa_name(r->isa) : "", r->reason,
			kvmexit_category_name(r->category), r->count_a, r->count_b, r->scaled_b,
			r->delta);
		csv_opt(out, r->count_a > 0, r->ratio);
		fprintf(out, ",%s,%.6g,%.6g", change_name(r->change), r->share_a, r->share_b);
		csv_opt(out, r->has_rate, r->rate_a);
		csv_opt(out, r->has_rate, r->rate_b);
		csv_opt(out, r->has_time_a, r->avg_ns_a);
		csv_opt(out, r->has_time_b, r->avg_ns_b);
		fprintf(out, ",%.6g,%d\n", r->p_value, r->significant);
	}
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	esc_write(out, s, ESC_JSON);
	fputc('"', out);
}

static void json_num(FILE *out, bool has, double v)
{
	if (has && isfinite(v))
		fprintf(out, "%.10g", v);
	else
		fputs("null", out);
}

static void json_key(FILE *out, const char *key, bool first)
{
	fprintf(out, "%s\"%s\": ", first ? "" : ", ", key);
}

static void json_side(FILE *out, const char *key, const char *label, const char *path,
		      const struct kvmexit_meta *m, enum kvmexit_isa isa, int tdp,
		      uint64_t exits, double duration, enum kvmexit_rate_basis basis, double window)
{
	fprintf(out, "  \"%s\": {", key);
	json_key(out, "label", true);
	json_str(out, label);
	json_key(out, "path", false);
	json_str(out, path);
	json_key(out, "isa", false);
	json_str(out, isa ? kvmexit_isa_name(isa) : "");
	json_key(out, "vendor", false);
	json_str(out, m->vendor);
	json_key(out, "kvm_module", false);
	json_str(out, m->kvm_module);
	json_key(out, "osrelease", false);
	json_str(out, m->osrelease);
	json_key(out, "tdp", false);
	fputs(tdp < 0 ? "null" : tdp ? "true" : "false", out);
	json_key(out, "exits", false);
	fprintf(out, "%" PRIu64, exits);
	json_key(out, "duration_s", false);
	json_num(out, duration > 0, duration);
	json_key(out, "rate_basis", false);
	json_str(out, kvmexit_rate_basis_name(basis));
	json_key(out, "window_s", false);
	json_num(out, window > 0, window);
	fputs("},\n", out);
}

static void json_summary(FILE *out, const struct diff_view *v,
			 const struct kvmexit_diff_summary *s)
{
	const struct kvmexit_diff_paging *p = &s->paging;
	char lines[8][DIFF_LINE_MAX], name[96];
	size_t nl = diff_summary_lines(v, lines, 8);

	fprintf(out, "  \"summary\": {\"exits_a\": %" PRIu64 ", \"exits_b\": %" PRIu64
		     ", \"exits_b_scaled\": ", s->total_a, s->total_b);
	json_num(out, true, s->total_b_scaled);
	fputs(", \"delta\": ", out);
	json_num(out, true, s->total_delta);
	fputs(", \"ratio\": ", out);
	json_num(out, s->total_a > 0, s->total_ratio);
	fputs(", \"p_value\": ", out);
	json_num(out, true, s->total_p_value);
	fprintf(out, ", \"significant\": %s,\n    \"top\": [", s->total_significant ? "true" : "false");
	for (size_t i = 0; i < s->nr_top; i++) {
		contrib_name(&s->top[i], name, sizeof(name));
		fprintf(out, "%s{\"name\": ", i ? ", " : "");
		json_str(out, name);
		fputs(", \"delta\": ", out);
		json_num(out, true, s->top[i].delta);
		fputs(", \"share_of_change\": ", out);
		json_num(out, true, s->top[i].change_share);
		fputc('}', out);
	}
	fputs("],\n    \"categories\": [", out);
	for (int c = 0, first = 1; c < KVMEXIT_CAT__MAX; c++) {
		const struct kvmexit_diff_category *k = &s->categories[c];

		if (!k->count_a && !k->count_b)
			continue;
		fprintf(out, "%s{\"category\": \"%s\", \"count_a\": %" PRIu64 ", \"count_b\": %"
			PRIu64 ", \"count_b_scaled\": ", first ? "" : ", ",
			kvmexit_category_name(c), k->count_a, k->count_b);
		json_num(out, true, k->scaled_b);
		fputs(", \"delta\": ", out);
		json_num(out, true, k->delta);
		fputc('}', out);
		first = 0;
	}
	fputs("],\n    \"paging\": {\"shadow_side\": ", out);
	if (p->shadow_side)
		fprintf(out, "\"%c\"", p->shadow_side);
	else
		fputs("null", out);
	fprintf(out, ", \"pf_exact\": %s, \"cr3_exact\": %s", p->pf_exact ? "true" : "false",
		p->cr3_exact ? "true" : "false");
	fprintf(out, ", \"pf\": [%" PRIu64 ", %" PRIu64 "], \"cr3\": [%" PRIu64 ", %" PRIu64
		     "], \"invlpg\": [%" PRIu64 ", %" PRIu64 "], \"invpcid\": [%" PRIu64 ", %"
		     PRIu64 "], \"tdp_faults\": [%" PRIu64 ", %" PRIu64 "]},\n",
		p->pf_a, p->pf_b, p->cr3_a, p->cr3_b, p->invlpg_a, p->invlpg_b,
		p->invpcid_a, p->invpcid_b, p->tdp_faults_a, p->tdp_faults_b);
	fputs("    \"text\": [", out);
	for (size_t i = 0; i < nl; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, lines[i]);
	}
	fputs("]},\n", out);
}

static const char *warning_code_name(enum kvmexit_diff_warning_code c)
{
	switch (c) {
	case KVMEXIT_DIFF_W_TDP_FAULTS: return "tdp-faults-with-tdp-off";
	case KVMEXIT_DIFF_W_SHADOW_EXITS: return "shadow-exits-with-tdp-on";
	case KVMEXIT_DIFF_W_VENDOR: return "different-isa";
	case KVMEXIT_DIFF_W_KERNEL: return "different-kernel";
	case KVMEXIT_DIFF_W_LOST: return "lost-records";
	case KVMEXIT_DIFF_W_NO_TIMES: return "no-times";
	case KVMEXIT_DIFF_W_NO_DURATION: return "no-duration";
	case KVMEXIT_DIFF_W_EMPTY: return "no-exits";
	case KVMEXIT_DIFF_W_RATE_BASIS: return "rate-basis";
	case KVMEXIT_DIFF_W_MISLABELLED: return "mislabelled";
	}
	return "other";
}

static void json_warnings(FILE *out, const struct diff_view *v)
{
	const struct kvmexit_diff_warning *w;
	size_t n = kvmexit_diff_warnings(v->diff, &w);

	fputs("  \"warnings\": [", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"code\": \"%s\", \"side\": ", i ? "," : "",
			warning_code_name(w[i].code));
		if (w[i].side)
			fprintf(out, "\"%c\"", w[i].side);
		else
			fputs("null", out);
		fprintf(out, ", \"count\": %" PRIu64 ", \"message\": ", w[i].count);
		json_str(out, w[i].message);
		fputc('}', out);
	}
	fputs("],\n", out);
}

static void json_row(FILE *out, const struct kvmexit_diff_row *r)
{
	char reason[96], detail[96];

	row_reason_detail(r, reason, detail, sizeof(reason));
	fputs("    {\"reason\": ", out);
	json_str(out, reason);
	fputs(", \"detail\": ", out);
	if (detail[0])
		json_str(out, detail);
	else
		fputs("null", out);
	fprintf(out, ", \"isa\": %s%s%s, \"code\": %" PRIu32 ", \"category\": \"%s\"",
		r->isa ? "\"" : "", r->isa ? kvmexit_isa_name(r->isa) : "null", r->isa ? "\"" : "",
		r->reason, kvmexit_category_name(r->category));
	fprintf(out, ", \"count_a\": %" PRIu64 ", \"count_b\": %" PRIu64 ", \"count_b_scaled\": ",
		r->count_a, r->count_b);
	json_num(out, true, r->scaled_b);
	fputs(", \"delta\": ", out);
	json_num(out, true, r->delta);
	fputs(", \"ratio\": ", out);
	json_num(out, r->count_a > 0, r->ratio);
	fprintf(out, ", \"change\": \"%s\", \"share_a\": ", change_name(r->change));
	json_num(out, true, r->share_a);
	fputs(", \"share_b\": ", out);
	json_num(out, true, r->share_b);
	fputs(", \"rate_a\": ", out);
	json_num(out, r->has_rate, r->rate_a);
	fputs(", \"rate_b\": ", out);
	json_num(out, r->has_rate, r->rate_b);
	fputs(", \"avg_ns_a\": ", out);
	json_num(out, r->has_time_a, r->avg_ns_a);
	fputs(", \"avg_ns_b\": ", out);
	json_num(out, r->has_time_b, r->avg_ns_b);
	fputs(", \"p_value\": ", out);
	json_num(out, true, r->p_value);
	fprintf(out, ", \"significant\": %s, \"share_of_change\": ",
		r->significant ? "true" : "false");
	json_num(out, true, r->change_share);
	fputc('}', out);
}

void diff_print_json(FILE *out, const struct diff_view *v)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(v->diff, &rows);

	fputs("{\n  \"version\": 1,\n", out);
	json_side(out, "a", v->label_a, v->path_a, v->meta_a, s->isa_a, s->tdp_a, s->total_a,
		  s->duration_a, s->basis_a, s->window_a);
	json_side(out, "b", v->label_b, v->path_b, v->meta_b, s->isa_b, s->tdp_b, s->total_b,
		  s->duration_b, s->basis_b, s->window_b);
	fprintf(out, "  \"group\": \"%s\",\n  \"normalize\": ", group_name(s->group));
	json_str(out, v->normalize);
	fputs(",\n  \"scale\": ", out);
	json_num(out, true, s->scale);
	fputs(",\n  \"alpha\": ", out);
	json_num(out, true, s->alpha);
	fprintf(out, ",\n  \"rows_total\": %zu,\n", s->nr_rows);
	json_summary(out, v, s);
	json_warnings(out, v);
	fputs("  \"rows\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", out);
		json_row(out, &rows[i]);
	}
	fputs("\n  ]\n}\n", out);
}

/* ------------------------------------------------------------------ */
/* Markdown                                                            */
/* ------------------------------------------------------------------ */

static void md_cell(FILE *out, const char *s)
{
	fputs("| ", out);
	esc_write(out, s, ESC_MARKDOWN);
	fputc(' ', out);
}

/* A cell the tool made (a reason name, a number): only | needs escaping. */
static void md_cell_plain(FILE *out, const char *s)
{
	fputs("| ", out);
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc(' ', out);
}

void diff_print_markdown(FILE *out, const struct diff_view *v)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(v->diff, &rows);
	char lines[8][DIFF_LINE_MAX];
	size_t nl;
	bool show[COL__MAX];
	struct cells c;
	static const char *const head[COL__MAX] = {
		"reason", NULL, NULL, "B normalised", "delta", "ratio", "share A", "share B",
		"A/s", "B/s", "avg A", "avg B",
	};

	for (int side = 0; side < 2; side++) {
		fputs(side ? ", **B** = " : "**A** = ", out);
		esc_write(out, side ? v->label_b : v->label_a, ESC_MARKDOWN);
		fputs(" (", out);
		esc_write(out, side ? v->path_b : v->path_a, ESC_MARKDOWN);
		fputs(")", out);
	}
	fputs("\n\n", out);
	if (line_rates(s, lines[0])) {
		fputs("- ", out);
		esc_write(out, lines[0], ESC_MARKDOWN);
		fputc('\n', out);
	}
	nl = diff_summary_lines(v, lines, 8);
	for (size_t i = 0; i < nl; i++) {
		fputs("- ", out);
		esc_write(out, lines[i], ESC_MARKDOWN);
		fputc('\n', out);
	}
	print_warnings(out, v, "- ", ESC_MARKDOWN);
	fputc('\n', out);
	table_columns(v, rows, n, show);
	for (int k = 0; k < COL__MAX; k++)
		if (show[k])
			md_cell(out, k == COL_A ? v->label_a : k == COL_B ? v->label_b :
				k == COL_NAME && s->group == KVMEXIT_GROUP_CATEGORY ? "category" :
				head[k]);
	fputs("|\n", out);
	for (int k = 0; k < COL__MAX; k++)
		if (show[k])
			fputs(k == COL_NAME ? "|---" : "|--:", out);
	fputs("|\n", out);
	for (size_t i = 0; i < n; i++) {
		row_cells(&rows[i], &c, true);
		for (int k = 0; k < COL__MAX; k++)
			if (show[k])
				md_cell_plain(out, c.c[k]);
		fputs("|\n", out);
	}
	fprintf(out, "\n~ within Poisson noise (p >= %g); normalisation: %s\n", s->alpha,
		v->normalize);
}

/* ------------------------------------------------------------------ */
/* SVG                                                                 */
/* ------------------------------------------------------------------ */

#define SVG_LEFT	230
#define SVG_PLOT	560
#define SVG_RIGHT	90
#define SVG_TOP		80
#define SVG_ROW		30
#define SVG_BAR		11

static void xml_str(FILE *out, const char *raw)
{
	char *e = esc_dup(raw, ESC_TEXT);	/* valid UTF-8, no controls */
	const char *s = e ? e : "?";

	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			fputc(*s, out);
		}
	}
	free(e);
}

static const char *tick_label(char *buf, size_t size, int decade)
{
	static const char *const suffix[] = { "", "k", "M", "G", "T", "P" };
	int s = decade / 3;

	if (s > 5)
		s = 5;
	snprintf(buf, size, "%.0f%s", pow(10, decade - 3 * s), suffix[s]);
	return buf;
}

/* The axis starts at half an exit, so that a count of 1 still has a bar. */
#define SVG_LOG_ORIGIN	(-0.30103)	/* log10(0.5) */

static double svg_x(double v, int hi)
{
	if (v < 0.5)
		v = 0.5;
	return SVG_LEFT + (log10(v) - SVG_LOG_ORIGIN) / (hi - SVG_LOG_ORIGIN) * SVG_PLOT;
}

static void svg_bar(FILE *out, const char *cls, const char *name, const char *label,
		    double v, double y, int hi)
{
	double x1 = svg_x(v, hi);
	char num[32];

	fmt_count(num, sizeof(num), v);
	if (v >= 0.5) {
		fprintf(out, "<rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\">"
			     "<title>", cls, SVG_LEFT, y, x1 - SVG_LEFT, SVG_BAR);
		xml_str(out, name);
		fputs(" (", out);
		xml_str(out, label);
		fprintf(out, "): %s</title></rect>\n", num);
	}
	fprintf(out, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x1 + 4,
		y + SVG_BAR - 2, v >= 0.5 ? num : "0");
}

static void svg_axis(FILE *out, int hi, int height)
{
	char buf[16];

	fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", SVG_LEFT,
		height - 40, SVG_LEFT + SVG_PLOT, height - 40);
	for (int d = 0; d <= hi; d++) {
		double x = svg_x(pow(10, d), hi);

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
			x, SVG_TOP - 10, x, height - 40);
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, height - 24, tick_label(buf, sizeof(buf), d));
	}
	fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">exits "
		     "(log scale)</text>\n", SVG_LEFT + SVG_PLOT / 2, height - 6);
}

static void svg_legend(FILE *out, const struct diff_view *v, const struct kvmexit_diff_summary *s)
{
	int x = SVG_LEFT;

	fprintf(out, "<rect class=\"a\" x=\"%d\" y=\"44\" width=\"14\" height=\"%d\"/>"
		     "<text x=\"%d\" y=\"54\">A: ", x, SVG_BAR, x + 20);
	xml_str(out, v->label_a);
	fprintf(out, "</text>\n<rect class=\"b\" x=\"%d\" y=\"44\" width=\"14\" height=\"%d\"/>"
		     "<text x=\"%d\" y=\"54\">B: ", x + 260, SVG_BAR, x + 280);
	xml_str(out, v->label_b);
	if (s->normalize != KVMEXIT_DIFF_NORM_NONE)
		fprintf(out, " (normalised, x%.4g)", s->scale);
	fputs("</text>\n", out);
}

int diff_write_svg(const char *path, const struct diff_view *v, size_t max)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(v->diff);
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(v->diff, &rows);
	double vmax = 1;
	int hi, height;
	FILE *out;

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		vmax = fmax(vmax, fmax((double)rows[i].count_a, rows[i].scaled_b));
	hi = (int)ceil(log10(vmax));
	if (hi < 1)
		hi = 1;
	height = SVG_TOP + (int)n * SVG_ROW + 50;
	out = fopen(path, "w");
	if (!out)
		return -errno;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		SVG_LEFT + SVG_PLOT + SVG_RIGHT, height, SVG_LEFT + SVG_PLOT + SVG_RIGHT, height);
	fputs("<style>.a{fill:#4c72b0}.b{fill:#dd8452}.axis{stroke:#333}"
	      ".grid{stroke:#ddd}.val{fill:#333;font-size:10px}.tick{fill:#333}"
	      ".name{fill:#000}.title{font-size:15px;font-weight:bold}</style>\n", out);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		     "<text class=\"title\" x=\"10\" y=\"24\">Exits by %s: ",
		s->group == KVMEXIT_GROUP_CATEGORY ? "category" : "reason");
	xml_str(out, v->label_a);
	fputs(" vs ", out);
	xml_str(out, v->label_b);
	fprintf(out, " (%zu largest changes)</text>\n", n);
	svg_legend(out, v, s);
	svg_axis(out, hi, height);
	for (size_t i = 0; i < n; i++) {
		double y = SVG_TOP + (double)i * SVG_ROW;
		char name[96];

		kvmexit_diff_row_name(&rows[i], name, sizeof(name));
		fprintf(out, "<text class=\"name\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			SVG_LEFT - 8, y + SVG_BAR + 4);
		xml_str(out, name);
		fputs("</text>\n", out);
		svg_bar(out, "a", name, v->label_a, (double)rows[i].count_a, y, hi);
		svg_bar(out, "b", name, v->label_b, rows[i].scaled_b, y + SVG_BAR + 1, hi);
	}
	fputs("</svg>\n", out);
	if (fclose(out))
		return -errno;
	return 0;
}
