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
#include <strings.h>
#include <unistd.h>

#include "kvmexit.h"
#include "commands.h"
#include "escape.h"
#include "output.h"

#define DEFAULT_INPUT "kvmexit.data"

enum sort_key { SORT_COUNT, SORT_TIME, SORT_AVG, SORT_MAX, SORT_NAME };
enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

struct report {
	const char *path, *symbols_path, *reason;
	const char *vm;			/* --vm NAME, or NULL */
	bool by_vm;			/* --by vm: --by pid rows, named by VM */
	int event;			/* --event: enum kvmexit_access_kind, -1: exits */
	enum kvmexit_group group;
	enum sort_key sort;
	enum format format;
	uint32_t top_rips, threads;
	int32_t pid, vcpu;
	struct kvmexit_profile *prof;
	struct kvmexit_symbols *syms;
	struct kvmexit_profile_totals t;
	struct kvmexit_rate_span span;
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
		"usage: kvmexit report [OPTIONS] [FILE]\n"
		"\n"
		"Counts and exit-handling times (kvm_exit to the next kvm_entry of the\n"
		"same vCPU thread) of the VM exits in a capture, per exit reason.\n"
		"FILE is a perf.data capture (kvmexit's or perf's; - for a pipe);\n"
		"without one, kvmexit.data (what kvmexit record writes).\n"
		"\n"
		"  -i, --input FILE      the capture to read (as FILE)\n"
		"  -b, --by KEY          rows per reason (default), detail, vcpu, pid, vm\n"
		"                        or category\n"
		"      --detail          the same as --by detail\n"
		"  -s, --sort KEY        count (default), time, avg, max or name\n"
		"      --vcpu N          only vCPU N\n"
		"  -p, --pid N           only the VMM process N\n"
		"      --vm NAME         only the VM NAME (its name as --by vm shows it)\n"
		"  -r, --reason NAME     only this exit reason (name or number)\n"
		"      --event KIND      instead of exits: port (ioport), MMIO (mmio) or\n"
		"                        MSR (msr) accesses, as perf kvm stat --event\n"
		"  -t, --top-rips N      the N most frequent guest RIPs of each reason\n"
		"  -g, --guest-symbols FILE\n"
		"                        name RIPs from a guest vmlinux (ELF) or kallsyms\n"
		"      --csv             comma-separated values, times in ns\n"
		"  -J, --json            JSON (keys in kvmexit-report(1))\n"
		"  -j, --threads N       read a large capture on N threads (default: one\n"
		"                        per CPU; 1: one)\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Rates are over the span of the exits, first to last kvm_exit (inputs\n"
		"without exit times: their recording window).  Unlike perf kvm stat, a\n"
		"vCPU's last exit with no kvm_entry after it is counted (untimed), and\n"
		"so are exits before a thread's first kvm_entry: totals can exceed\n"
		"perf's by one or two exits per vCPU.\n"
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

/* Short options mean the same in every command: see kvmexit(1). */
enum { OPT_CSV = 256, OPT_DETAIL, OPT_VCPU, OPT_VM, OPT_EVENT };

/* --event: perf kvm stat's names; vmexit is the default (exits). */
static const char *const event_names[] = {
	[KVMEXIT_ACCESS_IOPORT] = "ioport", [KVMEXIT_ACCESS_MMIO] = "mmio",
	[KVMEXIT_ACCESS_MSR] = "msr",
};

static int parse_args(struct report *r, int argc, char **argv)
{
	static const struct option options[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "by", required_argument, NULL, 'b' },
		{ "detail", no_argument, NULL, OPT_DETAIL },
		{ "sort", required_argument, NULL, 's' },
		{ "vcpu", required_argument, NULL, OPT_VCPU },
		{ "pid", required_argument, NULL, 'p' },
		{ "vm", required_argument, NULL, OPT_VM },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "reason", required_argument, NULL, 'r' },
		{ "top-rips", required_argument, NULL, 't' },
		{ "guest-symbols", required_argument, NULL, 'g' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, 'J' },
		{ "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int32_t n;
	int c, v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:b:s:p:r:t:g:j:Jh", options, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (r->path)
				return usage_error("give one input: -i FILE or FILE");
			r->path = optarg;
			break;
		case 'b':
			v = parse_choice(optarg, group_names, sizeof(group_names) / sizeof(*group_names));
			r->by_vm = !strcmp(optarg, "vm");
			if (r->by_vm)
				v = KVMEXIT_GROUP_PID;	/* a VM is its VMM process */
			if (v < 0)
				return usage_error("--by takes reason, detail, vcpu, pid, vm or "
						   "category, not '%s'", optarg);
			r->group = (enum kvmexit_group)v;
			break;
		case OPT_DETAIL:
			r->group = KVMEXIT_GROUP_DETAIL;
			break;
		case 's':
			v = parse_choice(optarg, sort_names, sizeof(sort_names) / sizeof(*sort_names));
			if (v < 0)
				return usage_error("--sort takes count, time, avg, max or name, not '%s'",
						   optarg);
			r->sort = (enum sort_key)v;
			break;
		case OPT_VM:
			r->vm = optarg;
			break;
		case OPT_EVENT:
			r->event = strcmp(optarg, "vmexit") ?
				parse_choice(optarg, event_names, KVMEXIT_ACCESS__MAX) : -1;
			if (r->event < 0 && strcmp(optarg, "vmexit"))
				return usage_error("--event takes vmexit, ioport, mmio or msr, "
						   "not '%s'", optarg);
			break;
		case OPT_VCPU:
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
		case 'J':
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
	if (optind < argc && r->path)
		return usage_error("give one input: -i FILE or FILE");
	if (optind + 1 < argc)
		return usage_error("more than one input FILE given");
	if (optind < argc) {
		r->path = argv[optind];
	} else if (!r->path) {
		/* as perf report reads perf.data, what kvmexit record wrote */
		r->path = DEFAULT_INPUT;
		if (access(r->path, F_OK) && errno == ENOENT)
			return usage_error("no input FILE given, and no %s here: give a capture, "
					   "or record one with 'kvmexit record'", r->path);
	}
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
		w->avg = st[i].time_avg;
	}
	qsort_r(rows, n, sizeof(*rows), row_cmp, (void *)&r->sort);
	return rows;
}

static bool group_has_pid(enum kvmexit_group g)
{
	return g == KVMEXIT_GROUP_PID || g == KVMEXIT_GROUP_VCPU;
}

/*
 * A name from the capture, for a table: untrusted bytes, so control
 * characters show as '?'; "-" when there is none.
 */
static void name_cell(struct out_table *t, const char *name)
{
	char buf[64];
	size_t i = 0;

	for (; name && name[i] && i + 1 < sizeof(buf); i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	buf[i] = '\0';
	out_table_cell(t, "%s", i ? buf : "-");
}

/* The name column of a row: VM (--by vm), process (--by pid), thread (--by vcpu). */
static const char *row_name(const struct report *r, const struct kvmexit_stat *st)
{
	if (st->pid < 0)
		return NULL;
	if (r->group == KVMEXIT_GROUP_VCPU)
		return kvmexit_profile_vcpu_name(r->prof, st->pid, st->vcpu);
	if (r->by_vm)
		return kvmexit_profile_vm_name(r->prof, st->pid);
	return kvmexit_profile_comm(r->prof, st->pid);
}

static const char *name_header(const struct report *r)
{
	return r->group == KVMEXIT_GROUP_VCPU ? "THREAD" : r->by_vm ? "VM" : "COMM";
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

/* What RATE/s is over (kvmexit_profile_rate_span()), and the window beside it. */
static void print_rates_line(const struct kvmexit_rate_span *s)
{
	char span[32], win[32];

	if (s->window_ns)
		out_ns(s->window_ns, win, sizeof(win));
	switch (s->basis) {
	case KVMEXIT_RATE_EXIT_SPAN:
		printf("rates over %s, the exits' span (first to last kvm_exit); recording "
		       "window %s\n", out_ns(s->span_ns, span, sizeof(span)),
		       s->window_ns ? win : "unknown");
		break;
	case KVMEXIT_RATE_WINDOW:
		printf("rates over %s, the recording window (no exit times)\n",
		       out_ns(s->span_ns, span, sizeof(span)));
		break;
	default:
		printf("rates over nothing known: no two exits with times and no recording window%s%s\n",
		       s->window_ns ? "; window " : "", s->window_ns ? win : "");
		break;
	}
}

/*
 * VMX exits with the failed-VM-entry bit (31) count under their basic
 * reason (INVALID_STATE, MSR_LOAD_FAIL...); their detail says FAILED_VMENTRY,
 * as the kernel's flag printing does.  Name them in the header.
 */
static void print_failed_entries(const struct report *r)
{
	struct kvmexit_stat *st = NULL;
	uint64_t failed = 0;
	char name[32];
	int n = kvmexit_profile_stats(r->prof, KVMEXIT_GROUP_DETAIL, &st);

	for (int i = 0; i < n; i++)
		if (st[i].isa == KVMEXIT_ISA_VMX && st[i].detail &&
		    kvmexit_detail_name(st[i].isa, st[i].reason, st[i].detail, name,
					sizeof(name)) > 0 && !strcmp(name, "FAILED_VMENTRY"))
			failed += st[i].count;
	kvmexit_stats_free(st);
	if (failed)
		printf("failed     %" PRIu64 " VM entr%s failed (FAILED_VMENTRY, bit 31 of the "
		       "exit reason): --detail shows them as REASON/FAILED_VMENTRY\n", failed,
		       failed == 1 ? "y" : "ies");
}

/* The VM names the recorder stored: "vms        web1 (pid 4242), db (pid 4343)". */
static void print_vms(const struct kvmexit_meta *m)
{
	for (size_t i = 0; i < m->nr_vms && i < KVMEXIT_META_MAX_VMS; i++) {
		fputs(i ? ", " : "vms        ", stdout);
		esc_write(stdout, m->vms[i].name, ESC_TEXT);
		printf(" (pid %" PRId32 ")", m->vms[i].pid);
	}
	if (m->nr_vms)
		putchar('\n');
}

/* A header line: the capture's strings in it are escaped. */
static void __attribute__((format(printf, 1, 2))) header_line(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		esc_write(stdout, s, ESC_TEXT);
	va_end(ap);
	free(s);
	putchar('\n');
}

static void print_header(const struct report *r, const struct kvmexit_meta *m)
{
	const struct kvmexit_profile_totals *t = &r->t;
	bool filtered = r->pid >= 0 || r->vcpu >= 0 || r->reason;
	int tdp = kvmexit_meta_tdp(m);

	/* A --bpf capture: counts only, but per process and vCPU, with times. */
	bool bpf = m->counts_only && (t->nr_pids || t->timed || t->other_events);

	header_line("capture    %s%s", r->path, bpf ? " (aggregated in the kernel: no samples)" :
		    m->counts_only ? " (counts only: no times)" : "");
	header_line("kernel     %s on %s (%s, %" PRIu32 " CPUs)", or_unknown(m->osrelease),
		    or_unknown(m->hostname), or_unknown(m->arch), m->nr_cpus);
	header_line("cpu        %s (%s, %s)", or_unknown(m->cpu_desc[0] ? m->cpu_desc : m->cpuid),
		    or_unknown(m->vendor), kvmexit_isa_name(t->isa != KVMEXIT_ISA_UNKNOWN ? t->isa : m->isa));
	if (m->kvm_module[0])
		header_line("kvm        %s, %s %s", m->kvm_module,
		       !strcmp(m->kvm_module, "kvm_amd") ? "npt" : "ept",
		    tdp > 0 ? "on" : tdp == 0 ? "off (shadow paging)" : "unknown");
	else
		printf("kvm        unknown (no kvmexit metadata in the capture)\n");
	print_rates_line(&r->span);
	if (bpf) {
		printf("exits      %" PRIu64 ", aggregated in the kernel (BPF)", t->exits);
		if (t->other_events)
			printf("; %" PRIu64 " kvm_pio", t->other_events);
		printf("\ntimed      %" PRIu64 " of %" PRIu64 " exits\n", t->timed, t->exits);
		printf("vcpus      %" PRIu32 " in %" PRIu32 " process%s\n", t->nr_vcpus,
		       t->nr_pids, t->nr_pids == 1 ? "" : "es");
	} else if (m->counts_only) {
		printf("exits      %" PRIu64 ", %s (no samples, no times)\n", t->exits,
		       m->has_kvmexit ? "counted in the kernel" : "from a count table");
	} else {
		if (filtered)
			printf("events     %" PRIu64 " of %" PRIu64 " kept by the filter: ",
			       t->exits + t->entries + t->other_events, t->events);
		else
			printf("events     %" PRIu64 ": ", t->events);
		printf("%" PRIu64 " exits, %" PRIu64 " entries, %" PRIu64 " other\n",
		       t->exits, t->entries, t->other_events);
		printf("timed      %" PRIu64 " of %" PRIu64 " exits; %" PRIu64
		       " had no kvm_entry after them, %" PRIu64 " were dropped around lost records\n",
		       t->timed, t->exits, t->exits - t->timed - t->dropped_pairs, t->dropped_pairs);
		printf("vcpus      %" PRIu32 " in %" PRIu32 " process%s\n", t->nr_vcpus,
		       t->nr_pids, t->nr_pids == 1 ? "" : "es");
	}
	printf("lost       %" PRIu64 " records\n", t->lost);
	print_failed_entries(r);
	print_vms(m);
	if (m->unknown_id_samples)
		printf("unmatched  %" PRIu64 " samples whose id no event of the capture has: "
		       "skipped\n", m->unknown_id_samples);
	if (r->pid >= 0 || r->vcpu >= 0 || r->reason || r->vm) {
		printf("filter    ");
		if (r->vm)
			printf(" vm %s", r->vm);
		if (r->pid >= 0)
			printf(" pid %" PRId32, r->pid);
		if (r->vcpu >= 0)
			printf(" vcpu %" PRId32, r->vcpu);
		if (r->reason) {
			fputs(" reason ", stdout);
			esc_write(stdout, r->reason, ESC_TEXT);
		}
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
		"COUNT", "SHARE%", "RATE/s", "TIME", "TIME%", "MIN", "AVG", "STDDEV", "P50", "P99",
		"MAX",
	};

	if (r->by_vm)
		out_table_column(t, "VM", OUT_LEFT);
	if (group_has_pid(r->group))
		out_table_column(t, "PID", OUT_RIGHT);
	if (group_has_pid(r->group) && !r->by_vm)
		out_table_column(t, name_header(r), OUT_LEFT);
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
	if (r->by_vm)
		name_cell(t, row_name(r, st));
	if (group_has_pid(r->group))
		id_cell(t, st->pid);
	if (group_has_pid(r->group) && !r->by_vm)
		name_cell(t, row_name(r, st));
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
	time_cell(t, st, st->time_stddev);
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
		printf("no exits%s\n", r->pid >= 0 || r->vcpu >= 0 || r->reason || r->vm ?
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
			       st->time_p99, st->time_max, st->time_stddev };

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

static void csv_name(struct out_table *t, const char *name)
{
	out_table_cell(t, "%s", name ? name : "");
}

/* vm, comm (of the process), thread (of the vCPU), where the grouping has them. */
static void csv_names(struct out_table *t, const struct report *r, const struct kvmexit_stat *st)
{
	bool pid = st->pid >= 0;

	if (!group_has_pid(r->group))
		return;
	csv_name(t, pid ? kvmexit_profile_vm_name(r->prof, st->pid) : NULL);
	csv_name(t, pid ? kvmexit_profile_comm(r->prof, st->pid) : NULL);
	if (r->group == KVMEXIT_GROUP_VCPU)
		csv_name(t, pid ? kvmexit_profile_vcpu_name(r->prof, st->pid, st->vcpu) : NULL);
}

static int print_csv(const struct report *r, const struct row *rows, size_t n)
{
	static const char *const cols[] = {
		"isa", "code", "reason", "detail", "pid", "vcpu", "count", "share", "rate",
		"timed", "time_total_ns", "time_share", "time_min_ns", "time_avg_ns",
		"time_p50_ns", "time_p99_ns", "time_max_ns", "time_stddev_ns",
	};
	struct out_table *t = out_table_new();
	int ok;

	for (size_t i = 0; i < sizeof(cols) / sizeof(*cols); i++)
		out_table_column(t, cols[i], OUT_LEFT);
	/* names, where rows have processes */
	if (group_has_pid(r->group)) {
		out_table_column(t, "vm", OUT_LEFT);
		out_table_column(t, "comm", OUT_LEFT);
	}
	if (r->group == KVMEXIT_GROUP_VCPU)
		out_table_column(t, "thread", OUT_LEFT);
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
		csv_names(t, r, st);
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
	out_json_array(j, "vms");
	for (size_t i = 0; i < m->nr_vms && i < KVMEXIT_META_MAX_VMS; i++) {
		out_json_object(j, NULL);
		out_json_i64(j, "pid", m->vms[i].pid);
		out_json_str(j, "name", m->vms[i].name);
		out_json_object_end(j);
	}
	out_json_array_end(j);
	out_json_u64(j, "unknown_id_samples", m->unknown_id_samples);
	out_json_object(j, "params");
	for (size_t i = 0; i < m->nr_params; i++)
		out_json_str(j, m->params[i].name, m->params[i].value);
	out_json_object_end(j);
	out_json_object_end(j);
}

static void json_totals(struct out_json *j, const struct report *r)
{
	const struct kvmexit_profile_totals *t = &r->t;

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
	out_json_str(j, "rate_basis", kvmexit_rate_basis_name(r->span.basis));
	out_json_u64(j, "rate_span_ns", r->span.span_ns);
	out_json_u64(j, "first_exit_ns", r->span.first_exit_ns);
	out_json_u64(j, "last_exit_ns", r->span.last_exit_ns);
	if (r->span.window_ns)
		out_json_u64(j, "window_ns", r->span.window_ns);
	else
		out_json_null(j, "window_ns");
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
	if (group_has_pid(r->group)) {
		out_json_i64(j, "pid", st->pid);
		out_json_str(j, "vm", st->pid >= 0 ? kvmexit_profile_vm_name(r->prof, st->pid) : NULL);
		out_json_str(j, "comm", st->pid >= 0 ? kvmexit_profile_comm(r->prof, st->pid) : NULL);
	}
	if (r->group == KVMEXIT_GROUP_VCPU) {
		out_json_i64(j, "vcpu", st->vcpu);
		out_json_str(j, "thread", st->pid >= 0 ?
			     kvmexit_profile_vcpu_name(r->prof, st->pid, st->vcpu) : NULL);
	}
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
	out_json_u64(j, "stddev", st->time_stddev);
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
	json_totals(&j, r);
	out_json_str(&j, "group", r->by_vm ? "vm" : group_names[r->group]);
	out_json_str(&j, "vm_filter", r->vm);
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

/* SVM names of the VMX reasons people ask for, and back (tests: report.sh). */
static const char *const reason_pairs[][2] = {
	{ "EPT_VIOLATION", "npf" }, { "EPT_MISCONFIG", "npf" },
	{ "EXCEPTION_NMI", "PF excp" }, { "EXTERNAL_INTERRUPT", "interrupt" },
	{ "IO_INSTRUCTION", "io" }, { "MSR_READ", "msr" }, { "MSR_WRITE", "msr" },
	{ "CR_ACCESS", "read_cr3, write_cr3" }, { "INTERRUPT_WINDOW", "vintr" },
	{ "PAUSE_INSTRUCTION", "pause" }, { "VMCALL", "hypercall" },
	{ "HLT", "hlt" },
	{ "CPUID", "cpuid" }, { "INVLPG", "invlpg" }, { "INVPCID", "invpcid" },
	{ "XSETBV", "xsetbv" }, { "RDTSC", "rdtsc" }, { "RDPMC", "rdpmc" },
};

/*
 * A --reason that names no exit of the capture's ISA but one of the other
 * would match nothing: say so, with the equivalent, instead.
 */
static int check_reason_isa(const struct report *r)
{
	enum kvmexit_isa isa = r->t.isa ? r->t.isa : kvmexit_profile_meta(r->prof)->isa;
	enum kvmexit_isa other = isa == KVMEXIT_ISA_VMX ? KVMEXIT_ISA_SVM : KVMEXIT_ISA_VMX;
	int from = isa == KVMEXIT_ISA_VMX ? 1 : 0;
	uint32_t code;

	if (!r->reason || !isa || !kvmexit_reason_parse(isa, r->reason, &code) ||
	    kvmexit_reason_parse(other, r->reason, &code))
		return 0;
	fprintf(stderr, "kvmexit report: the capture is %s and '%s' is a%s %s exit reason",
		kvmexit_isa_name(isa), r->reason, other == KVMEXIT_ISA_SVM ? "n" : "",
		kvmexit_isa_name(other));
	for (size_t i = 0; i < sizeof(reason_pairs) / sizeof(*reason_pairs); i++)
		if (!strcasecmp(reason_pairs[i][from], r->reason)) {
			fprintf(stderr, "; its %s equivalent is %s", kvmexit_isa_name(isa),
				reason_pairs[i][!from]);
			break;
		}
	fputs(" ('kvmexit reasons --isa ", stderr);
	fputs(isa == KVMEXIT_ISA_VMX ? "vmx' lists them)\n" : "svm' lists them)\n", stderr);
	return 2;
}

static int load(struct report *r)
{
	struct kvmexit_profile_opts o = {
		.sz = sizeof(o), .has_pid = r->pid >= 0, .pid = r->pid,
		.has_vcpu = r->vcpu >= 0, .vcpu = r->vcpu, .top_rips = r->top_rips,
		.threads = r->threads,
		.reason_name = r->reason,
		.vm_name = r->vm,
		.accesses = r->event >= 0,
	};
	char err[512];
	int e;

	/* Symbols name RIPs: loaded only when RIPs are shown (a kallsyms file can be big). */
	if (r->symbols_path && r->top_rips && r->group != KVMEXIT_GROUP_CATEGORY) {
		e = kvmexit_symbols_open(r->symbols_path, &r->syms, err, sizeof(err));
		if (e) {
			esc_warn("kvmexit report", "%s", err);
			return 1;
		}
	}
	e = kvmexit_profile_load(r->path, &o, &r->prof, err, sizeof(err));
	if (e) {
		esc_warn("kvmexit report", "%s", err);
		return 1;
	}
	kvmexit_profile_totals(r->prof, &r->t);
	r->span.sz = sizeof(r->span);
	kvmexit_profile_rate_span(r->prof, &r->span);
	return check_reason_isa(r);
}

/* ---------------------------------------------------------- accesses */

static const char *const access_key_names[] = {
	[KVMEXIT_ACCESS_IOPORT] = "PORT", [KVMEXIT_ACCESS_MMIO] = "ADDRESS",
	[KVMEXIT_ACCESS_MSR] = "MSR",
};

/* perf kvm stat's spelling of a direction: PIN/POUT, R/W. */
static const char *access_rw(const struct kvmexit_access_stat *a)
{
	if (a->kind == KVMEXIT_ACCESS_IOPORT)
		return a->write ? "out" : "in";
	return a->write ? "W" : "R";
}

static void access_time_cell(struct out_table *t, const struct kvmexit_access_stat *a,
			     uint64_t v)
{
	char buf[32];

	out_table_cell(t, "%s", a->timed ? out_ns(v, buf, sizeof(buf)) : "-");
}

static int print_accesses(const struct report *r, const struct kvmexit_access_stat *a, size_t n)
{
	uint64_t count = 0, timed = 0, time = 0;
	struct out_table *t = out_table_new();
	struct out_json j;
	int ok;

	for (size_t i = 0; i < n; i++) {
		count += a[i].count;
		timed += a[i].timed;
		time += a[i].time_total;
	}
	if (r->format == FMT_JSON) {
		char key[32];

		out_json_start(&j, stdout);
		json_capture(&j, r, kvmexit_profile_meta(r->prof));
		json_totals(&j, r);
		out_json_str(&j, "event", event_names[r->event]);
		out_json_array(&j, "accesses");
		for (size_t i = 0; i < n; i++) {
			out_json_object(&j, NULL);
			snprintf(key, sizeof(key), "0x%" PRIx64, a[i].key);
			out_json_str(&j, "key", key);
			out_json_str(&j, "rw", access_rw(&a[i]));
			out_json_u64(&j, "count", a[i].count);
			out_json_double(&j, "share", count ? (double)a[i].count / count : 0, 6);
			out_json_u64(&j, "timed", a[i].timed);
			out_json_double(&j, "time_share", time ? (double)a[i].time_total / time : 0, 6);
			if (a[i].timed) {
				out_json_object(&j, "time_ns");
				out_json_u64(&j, "total", a[i].time_total);
				out_json_u64(&j, "min", a[i].time_min);
				out_json_u64(&j, "avg", a[i].time_total / a[i].timed);
				out_json_u64(&j, "max", a[i].time_max);
				out_json_double(&j, "stddev", a[i].time_stddev, 1);
				out_json_object_end(&j);
			} else {
				out_json_null(&j, "time_ns");
			}
			out_json_object_end(&j);
		}
		out_json_array_end(&j);
		out_json_finish(&j);
		out_table_free(t);
		return 0;
	}
	out_table_column(t, r->format == FMT_CSV ? "key" : access_key_names[r->event], OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "rw" : "RW", OUT_LEFT);
	out_table_column(t, r->format == FMT_CSV ? "count" : "COUNT", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "share" : "SHARE%", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "timed" : "TIMED", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "time_total_ns" : "TIME", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "time_share" : "TIME%", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "time_min_ns" : "MIN", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "time_avg_ns" : "AVG", OUT_RIGHT);
	out_table_column(t, r->format == FMT_CSV ? "time_max_ns" : "MAX", OUT_RIGHT);
	for (size_t i = 0; i < n; i++) {
		const struct kvmexit_access_stat *x = &a[i];
		double share = count ? (double)x->count / count : 0;
		double tshare = time ? (double)x->time_total / time : 0;

		out_table_row(t);
		out_table_cell(t, "0x%" PRIx64, x->key);
		out_table_cell(t, "%s", access_rw(x));
		out_table_cell(t, "%" PRIu64, x->count);
		if (r->format == FMT_CSV) {
			out_table_cell(t, "%.6f", share);
			out_table_cell(t, "%" PRIu64, x->timed);
			if (x->timed) {
				out_table_cell(t, "%" PRIu64, x->time_total);
				out_table_cell(t, "%.6f", tshare);
				out_table_cell(t, "%" PRIu64, x->time_min);
				out_table_cell(t, "%" PRIu64, x->time_total / x->timed);
				out_table_cell(t, "%" PRIu64, x->time_max);
			} else {
				for (int k = 0; k < 5; k++)
					out_table_cell(t, "%s", "");
			}
			continue;
		}
		out_table_cell(t, "%.2f", 100 * share);
		out_table_cell(t, "%" PRIu64, x->timed);
		access_time_cell(t, x, x->time_total);
		if (x->timed)
			out_table_cell(t, "%.2f", 100 * tshare);
		else
			out_table_cell(t, "-");
		access_time_cell(t, x, x->time_min);
		access_time_cell(t, x, x->timed ? x->time_total / x->timed : 0);
		access_time_cell(t, x, x->time_max);
	}
	ok = out_table_ok(t);
	if (ok && r->format == FMT_CSV) {
		out_table_print_csv(t, stdout);
	} else if (ok) {
		print_header(r, kvmexit_profile_meta(r->prof));
		printf("%s accesses: %" PRIu64 ", %" PRIu64 " timed (to the next kvm_entry, as perf "
		       "kvm stat --event=%s)\n\n", event_names[r->event], count, timed,
		       event_names[r->event]);
		if (n)
			out_table_print(t, stdout, "");
		else
			printf("no %s accesses in the capture (record them with "
			       "'kvmexit record -e %s')\n", event_names[r->event],
			       event_names[r->event]);
	}
	out_table_free(t);
	return ok ? 0 : -ENOMEM;
}

static int report_accesses(struct report *r)
{
	struct kvmexit_access_stat *a = NULL;
	int n = kvmexit_profile_accesses(r->prof, (enum kvmexit_access_kind)r->event, &a);

	if (n >= 0)
		n = print_accesses(r, a, (size_t)n);
	kvmexit_access_stats_free(a);
	if (n < 0) {
		fprintf(stderr, "kvmexit report: %s\n", kvmexit_strerror(n));
		return 1;
	}
	if (fflush(stdout) || ferror(stdout)) {
		perror("kvmexit report: cannot write the output");
		return 1;
	}
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
	struct report r = { .pid = -1, .vcpu = -1, .event = -1 };
	int ret = parse_args(&r, argc, argv);

	if (ret >= 0)
		return ret;
	ret = load(&r);
	if (!ret)
		ret = r.event >= 0 ? report_accesses(&r) : report(&r);
	kvmexit_profile_free(r.prof);
	kvmexit_symbols_free(r.syms);
	return ret;
}
