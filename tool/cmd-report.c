// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit report: what a capture holds, per exit reason (or detail, vCPU,
 * process, category), as an aligned table, CSV or JSON.  The library
 * loads and aggregates; this file parses options, sorts and formats.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmexit.h"
#include "commands.h"
#include "output.h"

enum sort_key { SORT_COUNT, SORT_TIME, SORT_AVG, SORT_MAX, SORT_NAME };
enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

struct report {
	const char *path, *symbols_path, *reason;
	enum kvmexit_group group;
	enum sort_key sort;
	enum format format;
	uint32_t top_rips, threads;
	int32_t pid, vcpu;
	struct kvmexit_profile *prof;
	struct kvmexit_symbols *syms;
	struct kvmexit_profile_totals t;
};

/* One output row: a library row and what is derived from it. */
struct row {
	const struct kvmexit_stat *st;
	size_t index;			/* the library's order, for stable sorts */
	char name[64];			/* reason (or category) name */
	char detail[64];		/* "" when none */
	double share, time_share, rate;	/* rate < 0: unknown duration */
	uint64_t avg;
};

static const char *const group_names[] = {
	[KVMEXIT_GROUP_REASON] = "reason",
	[KVMEXIT_GROUP_DETAIL] = "detail",
	[KVMEXIT_GROUP_VCPU] = "vcpu",
	[KVMEXIT_GROUP_PID] = "pid",
	[KVMEXIT_GROUP_CATEGORY] = "category",
};

static const char *const sort_names[] = {
	[SORT_COUNT] = "count", [SORT_TIME] = "time", [SORT_AVG] = "avg",
	[SORT_MAX] = "max", [SORT_NAME] = "name",
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmexit report [OPTIONS] FILE\n"
		"\n"
		"Counts and exit-handling times (kvm_exit to the next kvm_entry of the\n"
		"same vCPU thread) of the VM exits in a capture, per exit reason.\n"
		"FILE is a perf.data capture (kvmexit's or perf's; - for a pipe).\n"
		"\n"
		"  -b, --by KEY          rows per reason (default), detail, vcpu, pid or\n"
		"                        category\n"
		"  -d, --detail          the same as --by detail\n"
		"  -s, --sort KEY        count (default), time, avg, max or name\n"
		"  -v, --vcpu N          only vCPU N\n"
		"  -p, --pid N           only the VMM process N\n"
		"  -r, --reason NAME     only this exit reason (name or number)\n"
		"  -t, --top-rips N      the N most frequent guest RIPs of each reason\n"
		"  -g, --guest-symbols FILE\n"
		"                        name RIPs from a guest vmlinux (ELF) or kallsyms\n"
		"      --csv             comma-separated values, times in ns\n"
		"      --json            JSON (keys in kvmexit-report(1))\n"
		"  -j, --threads N       read a large capture on N threads (default: one\n"
		"                        per CPU; 1: one)\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Exit status: 0 ok, 1 the input could not be read, 2 usage error.\n");
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kvmexit report: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n'kvmexit report --help' lists the options\n", stderr);
	return 2;
}

static int parse_choice(const char *arg, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(arg, names[i]))
			return (int)i;
	return -1;
}

static int parse_id(const char *arg, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int parse_reason(const char *arg)
{
	uint32_t code;

	if (!kvmexit_reason_parse(KVMEXIT_ISA_VMX, arg, &code) ||
	    !kvmexit_reason_parse(KVMEXIT_ISA_SVM, arg, &code))
		return 0;
	return -1;
}

enum { OPT_CSV = 256, OPT_JSON };

static int parse_args(struct report *r, int argc, char **argv)
{
	static const struct option options[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "detail", no_argument, NULL, 'd' },
		{ "sort", required_argument, NULL, 's' },
		{ "vcpu", required_argument, NULL, 'v' },
		{ "pid", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "top-rips", required_argument, NULL, 't' },
		{ "guest-symbols", required_argument, NULL, 'g' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int32_t n;
	int c, v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:ds:v:p:r:t:g:j:h", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			v = parse_choice(optarg, group_names, sizeof(group_names) / sizeof(*group_names));
			if (v < 0)
				return usage_error("--by takes reason, detail, vcpu, pid or category, "
						   "not '%s'", optarg);
			r->group = (enum kvmexit_group)v;
			break;
		case 'd':
			r->group = KVMEXIT_GROUP_DETAIL;
			break;
		case 's':
			v = parse_choice(optarg, sort_names, sizeof(sort_names) / sizeof(*sort_names));
			if (v < 0)
				return usage_error("--sort takes count, time, avg, max or name, not '%s'",
						   optarg);
			r->sort = (enum sort_key)v;
			break;
		case 'v':
			if (parse_id(optarg, &r->vcpu))
				return usage_error("--vcpu takes a vCPU id (0, 1, ...), not '%s'", optarg);
			break;
		case 'p':
			if (parse_id(optarg, &r->pid))
				return usage_error("--pid takes a process id, not '%s'", optarg);
			break;
		case 'r':
			if (parse_reason(optarg))
				return usage_error("unknown exit reason '%s': give a name as "
						   "'kvmexit reasons' lists it, or a number", optarg);
			r->reason = optarg;
			break;
		case 't':
			if (parse_id(optarg, &n) || n > 1000)
				return usage_error("--top-rips takes a count from 0 to 1000, not '%s'",
						   optarg);
			r->top_rips = (uint32_t)n;
			break;
		case 'g':
			r->symbols_path = optarg;
			break;
		case 'j':
			if (parse_id(optarg, &n) || n < 1 || n > 64)
				return usage_error("--threads takes a count from 1 to 64, not '%s'",
						   optarg);
			r->threads = (uint32_t)n;
			break;
		case OPT_CSV:
		case OPT_JSON:
			if (r->format != FMT_TABLE)
				return usage_error("give one of --csv and --json");
			r->format = c == OPT_CSV ? FMT_CSV : FMT_JSON;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error("%s", optind >= argc ? "no input FILE given" :
				   "more than one input FILE given");
	r->path = argv[optind];
	/* a missing input is a mistake on the command line */
	if (strcmp(r->path, "-") && access(r->path, F_OK) && errno == ENOENT)
		return usage_error("%s: no such file", r->path);
	if (r->symbols_path && access(r->symbols_path, F_OK) && errno == ENOENT)
		return usage_error("%s: no such file (-g)", r->symbols_path);
	return -1;
}

/* ------------------------------------------------------------- rows */

static void row_names(const struct report *r, struct row *w)
{
	const struct kvmexit_stat *st = w->st;

	w->detail[0] = '\0';
	if (r->group == KVMEXIT_GROUP_CATEGORY) {
		snprintf(w->name, sizeof(w->name), "%s",
			 kvmexit_category_name((enum kvmexit_category)st->reason));
		return;
	}
	if (kvmexit_reason_name(st->isa, st->reason, w->name, sizeof(w->name)) < 0)
		snprintf(w->name, sizeof(w->name), "0x%x", st->reason);
	if (st->detail &&
	    kvmexit_detail_name(st->isa, st->reason, st->detail, w->detail, sizeof(w->detail)) < 0)
		snprintf(w->detail, sizeof(w->detail), "0x%x", st->detail);
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

static int row_cmp(const void *pa, const void *pb, void *key)
{
	const struct row *a = pa, *b = pb;
	int c = 0;

	switch (*(const enum sort_key *)key) {
	case SORT_COUNT:
		c = cmp_u64_desc(a->st->count, b->st->count);
		break;
	case SORT_TIME:
		c = cmp_u64_desc(a->st->time_total, b->st->time_total);
		break;
	case SORT_AVG:
		c = cmp_u64_desc(a->avg, b->avg);
		break;
	case SORT_MAX:
		c = cmp_u64_desc(a->st->time_max, b->st->time_max);
		break;
	case SORT_NAME:
		c = strcmp(a->name, b->name);
		if (!c)
			c = strcmp(a->detail, b->detail);
		break;
	}
	if (!c)
		c = a->index < b->index ? -1 : a->index > b->index;
	return c;
}

static struct row *make_rows(const struct report *r, const struct kvmexit_stat *st, size_t n)
{
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	double secs = r->t.duration_ns / 1e9;

	if (!rows)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct row *w = &rows[i];

		w->st = &st[i];
		w->index = i;
		row_names(r, w);
		w->share = r->t.exits ? (double)st[i].count / r->t.exits : 0;
		w->time_share = r->t.time_total_ns ? (double)st[i].time_total / r->t.time_total_ns : 0;
		w->rate = secs > 0 ? st[i].count / secs : -1;
		w->avg = st[i].timed ? st[i].time_total / st[i].timed : 0;
	}
	qsort_r(rows, n, sizeof(*rows), row_cmp, (void *)&r->sort);
	return rows;
}

static bool group_has_pid(enum kvmexit_group g)
{
	return g == KVMEXIT_GROUP_PID || g == KVMEXIT_GROUP_VCPU;
}

/* "-1" (counts without a process or vCPU) shows as "-". */
static void id_cell(struct out_table *t, int32_t id)
{
	if (id < 0)
		out_table_cell(t, "-");
	else
		out_table_cell(t, "%" PRId32, id);
}

/* ----------------------------------------------------------- header */

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "unknown";
}

static void print_header(const struct report *r, const struct kvmexit_meta *m)
{
	const struct kvmexit_profile_totals *t = &r->t;
	int tdp = kvmexit_meta_tdp(m);
	char dur[32];

	/* A --bpf capture: counts only, but per process and vCPU, with times. */
	bool bpf = m->counts_only && (t->nr_pids || t->timed || t->other_events);

	printf("capture    %s%s\n", r->path, bpf ? " (aggregated in the kernel: no samples)" :
	       m->counts_only ? " (counts only: no times)" : "");
	printf("kernel     %s on %s (%s, %" PRIu32 " CPUs)\n", or_unknown(m->osrelease),
	       or_unknown(m->hostname), or_unknown(m->arch), m->nr_cpus);
	printf("cpu        %s (%s, %s)\n", or_unknown(m->cpu_desc[0] ? m->cpu_desc : m->cpuid),
	       or_unknown(m->vendor), kvmexit_isa_name(t->isa != KVMEXIT_ISA_UNKNOWN ? t->isa : m->isa));
	if (m->kvm_module[0])
		printf("kvm        %s, %s %s\n", m->kvm_module,
		       !strcmp(m->kvm_module, "kvm_amd") ? "npt" : "ept",
		       tdp > 0 ? "on" : tdp == 0 ? "off (shadow paging)" : "unknown");
	else
		printf("kvm        unknown (no kvmexit metadata in the capture)\n");
	printf("duration   %s\n", t->duration_ns ? out_ns(t->duration_ns, dur, sizeof(dur)) : "unknown");
	if (bpf) {
		printf("exits      %" PRIu64 ", aggregated in the kernel (BPF)", t->exits);
		if (t->other_events)
			printf("; %" PRIu64 " kvm_pio", t->other_events);
		printf("\ntimed      %" PRIu64 " of %" PRIu64 " exits\n", t->timed, t->exits);
		printf("vcpus      %" PRIu32 " in %" PRIu32 " process%s\n", t->nr_vcpus,
		       t->nr_pids, t->nr_pids == 1 ? "" : "es");
	} else if (m->counts_only) {
		printf("exits      %" PRIu64 ", counted in the kernel (no samples, no times)\n",
		       t->exits);
	} else {
		printf("events     %" PRIu64 ": %" PRIu64 " exits, %" PRIu64 " entries, %" PRIu64
		       " other\n", t->events, t->exits, t->entries, t->other_events);
		printf("timed      %" PRIu64 " of %" PRIu64 " exits; %" PRIu64
		       " had no kvm_entry after them, %" PRIu64 " were dropped around lost records\n",
		       t->timed, t->exits, t->exits - t->timed - t->dropped_pairs, t->dropped_pairs);
		printf("vcpus      %" PRIu32 " in %" PRIu32 " process%s\n", t->nr_vcpus,
		       t->nr_pids, t->nr_pids == 1 ? "" : "es");
	}
	printf("lost       %" PRIu64 " records\n", t->lost);
	if (r->pid >= 0 || r->vcpu >= 0 || r->reason) {
		printf("filter    ");
		if (r->pid >= 0)
			printf(" pid %" PRId32, r->pid);
		if (r->vcpu >= 0)
			printf(" vcpu %" PRId32, r->vcpu);
		if (r->reason)
			printf(" reason %s", r->reason);
		putchar('\n');
	}
	putchar('\n');
}

/* ------------------------------------------------------------ table */

static void time_cell(struct out_table *t, const struct kvmexit_stat *st, uint64_t v)
{
	char buf[32];

	out_table_cell(t, "%s", st->timed ? out_ns(v, buf, sizeof(buf)) : "-");
}

static void table_columns(const struct report *r, struct out_table *t)
{
	static const char *const right[] = {
		"COUNT", "SHARE%", "RATE/s", "TIME", "TIME%", "MIN", "AVG", "P50", "P99", "MAX",
	};

	if (group_has_pid(r->group))
		out_table_column(t, "PID", OUT_RIGHT);
	if (r->group == KVMEXIT_GROUP_VCPU)
		out_table_column(t, "VCPU", OUT_RIGHT);
	out_table_column(t, r->group == KVMEXIT_GROUP_CATEGORY ? "CATEGORY" :
			 r->group == KVMEXIT_GROUP_DETAIL ? "REASON/DETAIL" : "REASON", OUT_LEFT);
	for (size_t i = 0; i < sizeof(right) / sizeof(*right); i++)
		out_table_column(t, right[i], OUT_RIGHT);
}

static void table_row(const struct report *r, struct out_table *t, const struct row *w)
{
	const struct kvmexit_stat *st = w->st;
	char buf[32];

	out_table_row(t);
	if (group_has_pid(r->group))
		id_cell(t, st->pid);
	if (r->group == KVMEXIT_GROUP_VCPU)
		id_cell(t, st->vcpu);
	if (w->detail[0])
		out_table_cell(t, "%s/%s", w->name, w->detail);
	else
		out_table_cell(t, "%s", w->name);
	out_table_cell(t, "%" PRIu64, st->count);
	out_table_cell(t, "%.2f", 100 * w->share);
	out_table_cell(t, "%s", w->rate < 0 ? "-" : out_num(w->rate, buf, sizeof(buf)));
	time_cell(t, st, st->time_total);
	if (st->timed)
		out_table_cell(t, "%.2f", 100 * w->time_share);
	else
		out_table_cell(t, "-");
	time_cell(t, st, st->time_min);
	time_cell(t, st, w->avg);
	time_cell(t, st, st->time_p50);
	time_cell(t, st, st->time_p99);
	time_cell(t, st, st->time_max);
}

/* The symbol of a RIP, or "" without symbols or when none covers it. */
static const char *rip_symbol(const struct report *r, uint64_t rip, char *buf, size_t size)
{
	if (!r->syms || kvmexit_symbols_lookup(r->syms, rip, buf, size) < 0)
		buf[0] = '\0';
	return buf;
}

/* Whether an earlier row has the same reason (its RIPs were printed). */
static bool reason_seen(const struct row *rows, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (rows[k].st->isa == rows[i].st->isa && rows[k].st->reason == rows[i].st->reason)
			return true;
	return false;
}

static int print_rips_table(const struct report *r, const struct row *w,
			    struct kvmexit_rip *rips, uint64_t reason_count)
{
	size_t n = kvmexit_profile_top_rips(r->prof, w->st->isa, w->st->reason, rips, r->top_rips);
	struct out_table *t = out_table_new();
	uint64_t sum = 0;
	char sym[256];
	int ok;

	out_table_column(t, "RIP", OUT_LEFT);
	out_table_column(t, "COUNT", OUT_RIGHT);
	out_table_column(t, "SHARE%", OUT_RIGHT);
	if (r->syms)
		out_table_column(t, "SYMBOL", OUT_LEFT);
	for (size_t i = 0; i < n; i++) {
		out_table_row(t);
		out_table_cell(t, "0x%016" PRIx64, rips[i].rip);
		out_table_cell(t, "%" PRIu64, rips[i].count);
		out_table_cell(t, "%.2f", reason_count ? 100.0 * rips[i].count / reason_count : 0);
		if (r->syms)
			out_table_cell(t, "%s", rip_symbol(r, rips[i].rip, sym, sizeof(sym)));
		sum += rips[i].count;
	}
	if (sum < reason_count) {
		out_table_row(t);
		out_table_cell(t, "other");
		out_table_cell(t, "%" PRIu64, reason_count - sum);
		out_table_cell(t, "%.2f", 100.0 * (reason_count - sum) / reason_count);
	}
	printf("\n%s: top guest RIPs of %" PRIu64 " exits\n", w->name, reason_count);
	out_table_print(t, stdout, "  ");
	ok = out_table_ok(t);
	out_table_free(t);
	return ok ? 0 : -ENOMEM;
}

/* The exits of a reason across all rows (rows may split it). */
static uint64_t reason_count(const struct row *rows, size_t n, const struct kvmexit_stat *st)
{
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].st->isa == st->isa && rows[i].st->reason == st->reason)
			c += rows[i].st->count;
	return c;
}

static int print_table(const struct report *r, const struct row *rows, size_t n)
{
	struct out_table *t = out_table_new();
	struct kvmexit_rip *rips;
	int err = 0;

	print_header(r, kvmexit_profile_meta(r->prof));
	table_columns(r, t);
	for (size_t i = 0; i < n; i++)
		table_row(r, t, &rows[i]);
	if (!out_table_ok(t))
		err = -ENOMEM;
	else if (!n)
		printf("no exits%s\n", r->pid >= 0 || r->vcpu >= 0 || r->reason ?
		       " match the filter" : " in the capture");
	else
		out_table_print(t, stdout, "");
	out_table_free(t);
	if (err || !r->top_rips || r->group == KVMEXIT_GROUP_CATEGORY)
		return err;
	rips = calloc(r->top_rips, sizeof(*rips));
	if (!rips)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++)
		if (!reason_seen(rows, i))
			err = print_rips_table(r, &rows[i], rips, reason_count(rows, n, rows[i].st));
	free(rips);
	return err;
}

/* -------------------------------------------------------------- CSV */

/* The time columns; empty, not 0, where no exit of the row was timed. */
static void csv_times(struct out_table *t, const struct row *w)
{
	const struct kvmexit_stat *st = w->st;
	const uint64_t v[] = { st->time_total, st->time_min, w->avg, st->time_p50,
			       st->time_p99, st->time_max };

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!st->timed)
			out_table_cell(t, "%s", "");
		else
			out_table_cell(t, "%" PRIu64, v[i]);
		if (i == 0) {
			if (!st->timed)
				out_table_cell(t, "%s", "");
			else
				out_table_cell(t, "%.6f", w->time_share);
		}
	}
}

static int print_csv(const struct report *r, const struct row *rows, size_t n)
{
	static const char *const cols[] = {
		"isa", "code", "reason", "detail", "pid", "vcpu", "count", "share", "rate",
		"timed", "time_total_ns", "time_share", "time_min_ns", "time_avg_ns",
		"time_p50_ns", "time_p99_ns", "time_max_ns",
	};
	struct out_table *t = out_table_new();
	int ok;

	for (size_t i = 0; i < sizeof(cols) / sizeof(*cols); i++)
		out_table_column(t, cols[i], OUT_LEFT);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		const struct kvmexit_stat *st = w->st;

		out_table_row(t);
		out_table_cell(t, "%s", kvmexit_isa_name(st->isa));
		out_table_cell(t, "%" PRIu32, st->reason);
		out_table_cell(t, "%s", w->name);
		out_table_cell(t, "%s", w->detail);
		if (group_has_pid(r->group) && st->pid >= 0)
			out_table_cell(t, "%" PRId32, st->pid);
		else
			out_table_cell(t, "%s", "");
		if (r->group == KVMEXIT_GROUP_VCPU && st->vcpu >= 0)
			out_table_cell(t, "%" PRId32, st->vcpu);
		else
			out_table_cell(t, "%s", "");
		out_table_cell(t, "%" PRIu64, st->count);
		out_table_cell(t, "%.6f", w->share);
		if (w->rate < 0)
			out_table_cell(t, "%s", "");
		else
			out_table_cell(t, "%.3f", w->rate);
		out_table_cell(t, "%" PRIu64, st->timed);
		csv_times(t, w);
	}
	ok = out_table_ok(t);
	if (ok)
		out_table_print_csv(t, stdout);
	out_table_free(t);
	return ok ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------- JSON */

static void json_capture(struct out_json *j, const struct report *r, const struct kvmexit_meta *m)
{
	int tdp = kvmexit_meta_tdp(m);

	out_json_object(j, "capture");
	out_json_str(j, "file", r->path);
	out_json_str(j, "hostname", m->hostname);
	out_json_str(j, "osrelease", m->osrelease);
	out_json_str(j, "arch", m->arch);
	out_json_str(j, "cpu", m->cpu_desc);
	out_json_str(j, "cpuid", m->cpuid);
	out_json_str(j, "vendor", m->vendor);
	out_json_str(j, "isa", kvmexit_isa_name(m->isa));
	out_json_str(j, "kvm_module", m->kvm_module);
	if (tdp < 0)
		out_json_null(j, "tdp");
	else
		out_json_bool(j, "tdp", tdp);
	out_json_u64(j, "nr_cpus", m->nr_cpus);
	out_json_str(j, "cmdline", m->cmdline);
	out_json_u64(j, "start_ns", m->start_ns);
	out_json_u64(j, "end_ns", m->end_ns);
	out_json_u64(j, "start_epoch_ns", m->start_epoch_ns);
	out_json_bool(j, "counts_only", m->counts_only);
	out_json_bool(j, "kvmexit_meta", m->has_kvmexit);
	out_json_object(j, "params");
	for (size_t i = 0; i < m->nr_params; i++)
		out_json_str(j, m->params[i].name, m->params[i].value);
	out_json_object_end(j);
	out_json_object_end(j);
}

static void json_totals(struct out_json *j, const struct kvmexit_profile_totals *t)
{
	out_json_object(j, "totals");
	out_json_u64(j, "events", t->events);
	out_json_u64(j, "exits", t->exits);
	out_json_u64(j, "entries", t->entries);
	out_json_u64(j, "timed", t->timed);
	out_json_u64(j, "unpaired", t->unpaired);
	out_json_u64(j, "dropped_pairs", t->dropped_pairs);
	out_json_u64(j, "lost", t->lost);
	out_json_u64(j, "other_events", t->other_events);
	out_json_u64(j, "time_total_ns", t->time_total_ns);
	out_json_u64(j, "first_ns", t->first_ns);
	out_json_u64(j, "last_ns", t->last_ns);
	out_json_u64(j, "duration_ns", t->duration_ns);
	out_json_u64(j, "nr_vcpus", t->nr_vcpus);
	out_json_u64(j, "nr_pids", t->nr_pids);
	out_json_str(j, "isa", kvmexit_isa_name(t->isa));
	out_json_object_end(j);
}

static void json_rips(struct out_json *j, const struct report *r, const struct row *w,
		      struct kvmexit_rip *rips, uint64_t reason_total)
{
	size_t n = kvmexit_profile_top_rips(r->prof, w->st->isa, w->st->reason, rips, r->top_rips);
	uint64_t sum = 0;
	char buf[256];

	out_json_array(j, "top_rips");
	for (size_t i = 0; i < n; i++) {
		out_json_object(j, NULL);
		snprintf(buf, sizeof(buf), "0x%" PRIx64, rips[i].rip);
		out_json_str(j, "rip", buf);
		out_json_u64(j, "count", rips[i].count);
		rip_symbol(r, rips[i].rip, buf, sizeof(buf));
		out_json_str(j, "symbol", buf[0] ? buf : NULL);
		out_json_object_end(j);
		sum += rips[i].count;
	}
	out_json_array_end(j);
	out_json_u64(j, "top_rips_other", reason_total > sum ? reason_total - sum : 0);
}

static void json_row(struct out_json *j, const struct report *r, const struct row *w)
{
	const struct kvmexit_stat *st = w->st;
	const struct kvmexit_reason *reason = kvmexit_reason_lookup(st->isa, st->reason);

	out_json_str(j, "reason", w->name);
	out_json_str(j, "isa", kvmexit_isa_name(st->isa));
	out_json_u64(j, "code", st->reason);
	out_json_str(j, "detail", w->detail[0] ? w->detail : NULL);
	if (r->group == KVMEXIT_GROUP_CATEGORY)
		out_json_str(j, "category", w->name);
	else
		out_json_str(j, "category", kvmexit_category_name(reason ? reason->category :
								     KVMEXIT_CAT_OTHER));
	if (group_has_pid(r->group))
		out_json_i64(j, "pid", st->pid);
	if (r->group == KVMEXIT_GROUP_VCPU)
		out_json_i64(j, "vcpu", st->vcpu);
	out_json_u64(j, "count", st->count);
	out_json_double(j, "share", w->share, 6);
	if (w->rate < 0)
		out_json_null(j, "rate");
	else
		out_json_double(j, "rate", w->rate, 3);
	out_json_u64(j, "timed", st->timed);
	out_json_double(j, "time_share", w->time_share, 6);
	if (!st->timed) {
		out_json_null(j, "time_ns");
		return;
	}
	out_json_object(j, "time_ns");
	out_json_u64(j, "total", st->time_total);
	out_json_u64(j, "min", st->time_min);
	out_json_u64(j, "avg", w->avg);
	out_json_u64(j, "p50", st->time_p50);
	out_json_u64(j, "p99", st->time_p99);
	out_json_u64(j, "max", st->time_max);
	out_json_object_end(j);
}

static int print_json(const struct report *r, const struct row *rows, size_t n)
{
	bool rips_on = r->top_rips && r->group != KVMEXIT_GROUP_CATEGORY;
	struct kvmexit_rip *rips = NULL;
	struct out_json j;

	if (rips_on) {
		rips = calloc(r->top_rips, sizeof(*rips));
		if (!rips)
			return -ENOMEM;
	}
	out_json_start(&j, stdout);
	json_capture(&j, r, kvmexit_profile_meta(r->prof));
	json_totals(&j, &r->t);
	out_json_str(&j, "group", group_names[r->group]);
	out_json_str(&j, "sort", sort_names[r->sort]);
	out_json_array(&j, "rows");
	for (size_t i = 0; i < n; i++) {
		out_json_object(&j, NULL);
		json_row(&j, r, &rows[i]);
		if (rips_on)
			json_rips(&j, r, &rows[i], rips, reason_count(rows, n, rows[i].st));
		out_json_object_end(&j);
	}
	out_json_array_end(&j);
	out_json_finish(&j);
	free(rips);
	return 0;
}

/* ------------------------------------------------------------- main */

static int load(struct report *r)
{
	struct kvmexit_profile_opts o = {
		.sz = sizeof(o), .has_pid = r->pid >= 0, .pid = r->pid,
		.has_vcpu = r->vcpu >= 0, .vcpu = r->vcpu, .top_rips = r->top_rips,
		.threads = r->threads,
		.reason_name = r->reason,
	};
	char err[512];
	int e;

	if (r->symbols_path) {
		e = kvmexit_symbols_open(r->symbols_path, &r->syms, err, sizeof(err));
		if (e) {
			fprintf(stderr, "kvmexit report: %s\n", err);
			return 1;
		}
	}
	e = kvmexit_profile_load(r->path, &o, &r->prof, err, sizeof(err));
	if (e) {
		fprintf(stderr, "kvmexit report: %s\n", err);
		return 1;
	}
	kvmexit_profile_totals(r->prof, &r->t);
	return 0;
}

static int report(struct report *r)
{
	struct kvmexit_stat *st = NULL;
	struct row *rows;
	int n, e;

	n = kvmexit_profile_stats(r->prof, r->group, &st);
	if (n < 0) {
		fprintf(stderr, "kvmexit report: cannot aggregate: %s\n", kvmexit_strerror(n));
		return 1;
	}
	rows = make_rows(r, st, (size_t)n);
	if (!rows)
		e = -ENOMEM;
	else if (r->format == FMT_JSON)
		e = print_json(r, rows, (size_t)n);
	else if (r->format == FMT_CSV)
		e = print_csv(r, rows, (size_t)n);
	else
		e = print_table(r, rows, (size_t)n);
	free(rows);
	kvmexit_stats_free(st);
	if (e) {
		fprintf(stderr, "kvmexit report: %s\n", kvmexit_strerror(e));
		return 1;
	}
	if (fflush(stdout) || ferror(stdout)) {
		perror("kvmexit report: cannot write the output");
		return 1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report r = { .pid = -1, .vcpu = -1 };
	int ret = parse_args(&r, argc, argv);

	if (ret >= 0)
		return ret;
	ret = load(&r);
	if (!ret)
		ret = report(&r);
	kvmexit_profile_free(r.prof);
	kvmexit_symbols_free(r.syms);
	return ret;
}
