// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit top without a terminal: the table (also what the screen shows),
 * --batch and --log blocks, --csv lines and --json (NDJSON) lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "top.h"

static bool per_vm(const struct top *t)
{
	return t->view == TOP_BY_VM || t->view == TOP_BY_VCPU || t->view == TOP_BY_PROCESS;
}

static const char *what_header(const struct top *t)
{
	switch (t->view) {
	case TOP_BY_DETAIL:
		return "REASON/DETAIL";
	case TOP_BY_CATEGORY:
		return "CATEGORY";
	default:
		return "REASON";
	}
}

static void time_cell(struct out_table *tb, const struct kvmexit_stat *st, uint64_t v)
{
	char b[32];

	if (st->timed)
		out_table_cell(tb, "%s", out_ns(v, b, sizeof(b)));
	else
		out_table_cell(tb, "-");
}

/* A row's numbers; a Total (sum) has no percentile: its P99 is "-". */
static void stat_cells(struct out_table *tb, const struct kvmexit_stat *iv, double rate,
		       uint64_t total, double share, bool sum)
{
	char b[32];

	out_table_cell(tb, "%" PRIu64, iv->count);
	out_table_cell(tb, "%s", out_num(rate, b, sizeof(b)));
	out_table_cell(tb, "%" PRIu64, total);
	out_table_cell(tb, "%.1f%%", share * 100);
	time_cell(tb, iv, iv->timed ? iv->time_total / iv->timed : 0);
	if (sum)
		out_table_cell(tb, "-");
	else
		time_cell(tb, iv, iv->time_p99);
}

static struct out_table *make_table(const struct top *t)
{
	const struct kvmexit_delta_summary *s = top_summary(t);
	struct out_table *tb = out_table_new();
	struct kvmexit_stat all = { .count = s->interval.exits, .timed = s->interval.timed,
				    .time_total = s->interval.time_total_ns };
	double secs = top_interval_s(t);
	int nkey = (per_vm(t) ? 2 : 0) + (t->view == TOP_BY_VCPU) +
		   (t->view != TOP_BY_VM && t->view != TOP_BY_VCPU);

	if (per_vm(t)) {
		out_table_column(tb, "VM", OUT_LEFT);
		out_table_column(tb, "PID", OUT_RIGHT);
	}
	if (t->view == TOP_BY_VCPU)
		out_table_column(tb, "VCPU", OUT_RIGHT);
	if (t->view != TOP_BY_VM && t->view != TOP_BY_VCPU)
		out_table_column(tb, what_header(t), OUT_LEFT);
	out_table_column(tb, "EXITS", OUT_RIGHT);
	out_table_column(tb, "RATE/s", OUT_RIGHT);
	out_table_column(tb, "TOTAL", OUT_RIGHT);
	out_table_column(tb, "SHARE", OUT_RIGHT);
	out_table_column(tb, "AVG", OUT_RIGHT);
	out_table_column(tb, "P99", OUT_RIGHT);
	for (size_t i = 0; i < t->nr_rows; i++) {
		const struct top_row *w = &t->rows[i];

		out_table_row(tb);
		if (per_vm(t)) {
			out_table_cell(tb, "%s%s", w->vm, w->exited ? " (exited)" : "");
			if (w->pid >= 0)
				out_table_cell(tb, "%d", (int)w->pid);
			else
				out_table_cell(tb, "-");
		}
		if (t->view == TOP_BY_VCPU) {
			if (w->vcpu >= 0)
				out_table_cell(tb, "%d", (int)w->vcpu);
			else
				out_table_cell(tb, "-");
		}
		if (t->view != TOP_BY_VM && t->view != TOP_BY_VCPU)
			out_table_cell(tb, "%s", w->what);
		stat_cells(tb, &w->r->interval, w->r->rate, w->r->total.count, w->r->share,
			   false);
	}
	/* Total: all exits shown (filter and VM applied); no percentile of a sum. */
	out_table_row(tb);
	out_table_cell(tb, "Total");
	for (int k = 1; k < nkey; k++)
		out_table_cell(tb, "%s", "");
	stat_cells(tb, &all, secs > 0 ? (double)all.count / secs : 0, s->total.exits,
		   s->interval.exits ? 1.0 : 0.0, true);
	return tb;
}

char *top_table_text(const struct top *t, size_t *len)
{
	struct out_table *tb = make_table(t);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f && out_table_ok(tb))
		out_table_print(tb, f, "");
	if (f)
		fclose(f);
	out_table_free(tb);
	return buf;
}

void top_timestamp(const struct top *t, char *buf, size_t size)
{
	if (t->src->caps.live) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	} else {
		/* Capture time since the replay's start: the same on every run. */
		snprintf(buf, size, "+%.3f",
			 (double)(kvmexit_snapshot_time(t->cur) - t->start_ns) / 1e9);
	}
}

/* The other kvm events of the interval ("kvm_pio 20 (100)"), or "". */
static void other_events(const struct top *t, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = KVMEXIT_EV_USERSPACE_EXIT; i < KVMEXIT_EV_LOST && n < size; i++) {
		uint64_t iv = t->types_cur[i] - t->types_prev[i];
		uint64_t tot = t->types_cur[i] - t->types_base[i];

		if (!tot)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s %" PRIu64 " (total %" PRIu64 ")",
				      n ? ", " : "", top_event_name((enum kvmexit_event_type)i), iv,
				      tot);
	}
}

void top_print_text(const struct top *t, FILE *f)
{
	const struct kvmexit_delta_summary *s = top_summary(t);
	char ts[64], other[256];
	size_t len = 0;
	char *table = top_table_text(t, &len);

	top_timestamp(t, ts, sizeof(ts));
	other_events(t, other, sizeof(other));
	fprintf(f, "%s  interval %.3f s  exits %" PRIu64 "  events %" PRIu64 "  lost %" PRIu64
		"  view %s", ts, top_interval_s(t), s->interval.exits, s->interval.events,
		t->lost_cur - t->lost_prev, top_view_names[t->view]);
	if (t->vm >= 0) {
		const struct top_vm *v = top_vm_find(t, t->vm);

		fprintf(f, "  vm %s [%d]", v ? v->name : "?", (int)t->vm);
	}
	if (t->has_filter)
		fprintf(f, "  filter %s", t->filter_text);
	fputc('\n', f);
	if (other[0])
		fprintf(f, "other events: %s\n", other);
	if (table)
		fputs(table, f);
	free(table);
	fflush(f);
}

void top_print_csv_header(FILE *f)
{
	fputs("time,interval_s,vm,pid,vcpu,reason,exits,rate,total,share,avg_ns,p99_ns\n", f);
}

static void csv_id(FILE *f, int32_t v)
{
	if (v >= 0)
		fprintf(f, "%d", (int)v);
	fputc(',', f);
}

void top_print_csv(const struct top *t, FILE *f)
{
	char ts[64];

	top_timestamp(t, ts, sizeof(ts));
	for (size_t i = 0; i < t->nr_rows; i++) {
		const struct top_row *w = &t->rows[i];
		const struct kvmexit_stat *iv = &w->r->interval;

		fprintf(f, "%s,%.3f,", ts, top_interval_s(t));
		out_csv_field(f, w->vm);
		fputc(',', f);
		csv_id(f, w->pid);
		csv_id(f, w->vcpu);
		out_csv_field(f, w->what);
		fprintf(f, ",%" PRIu64 ",%.3f,%" PRIu64 ",%.4f,", iv->count, w->r->rate,
			w->r->total.count, w->r->share);
		if (iv->timed)
			fprintf(f, "%" PRIu64 ",%" PRIu64 "\n", iv->time_total / iv->timed,
				iv->time_p99);
		else
			fputs(",\n", f);
	}
	fflush(f);
}

void top_print_json(const struct top *t, FILE *f)
{
	const struct kvmexit_delta_summary *s = top_summary(t);
	char ts[64];
	bool first = true;

	top_timestamp(t, ts, sizeof(ts));
	fputs("{\"time\":", f);
	out_json_string(f, ts);
	fprintf(f, ",\"interval_s\":%.3f,\"view\":\"%s\",\"exits\":%" PRIu64 ",\"events\":%" PRIu64
		",\"lost\":%" PRIu64 ",\"total_exits\":%" PRIu64 ",\"cpu_pct\":%.2f,\"source\":",
		top_interval_s(t), top_view_names[t->view], s->interval.exits, s->interval.events,
		t->lost_cur - t->lost_prev, s->total.exits, t->cpu_pct);
	out_json_string(f, t->src->ops->name);
	fputs(",\"other_events\":{", f);
	for (int i = KVMEXIT_EV_USERSPACE_EXIT; i < KVMEXIT_EV_LOST; i++) {
		uint64_t iv = t->types_cur[i] - t->types_prev[i];

		if (t->types_cur[i] == t->types_base[i])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
			top_event_name((enum kvmexit_event_type)i), iv);
		first = false;
	}
	fputs("},\"rows\":[", f);
	for (size_t i = 0; i < t->nr_rows; i++) {
		const struct top_row *w = &t->rows[i];
		const struct kvmexit_stat *iv = &w->r->interval;

		fputs(i ? ",{" : "{", f);
		if (w->pid >= 0) {
			fputs("\"vm\":", f);
			out_json_string(f, w->vm);
			fprintf(f, ",\"pid\":%d,", (int)w->pid);
		}
		if (w->vcpu >= 0)
			fprintf(f, "\"vcpu\":%d,", (int)w->vcpu);
		if (w->what[0]) {
			fputs("\"reason\":", f);
			out_json_string(f, w->what);
			fputc(',', f);
		}
		fprintf(f, "\"exits\":%" PRIu64 ",\"rate\":%.3f,\"total\":%" PRIu64 ",\"share\":%.4f",
			iv->count, w->r->rate, w->r->total.count, w->r->share);
		if (iv->timed)
			fprintf(f, ",\"avg_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64,
				iv->time_total / iv->timed, iv->time_p99);
		if (w->exited)
			fputs(",\"exited\":true", f);
		fputc('}', f);
	}
	fputs("]}\n", f);
	fflush(f);
}
