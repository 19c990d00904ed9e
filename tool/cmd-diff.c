// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit diff A B: compare two exit profiles.  Parses options, loads both
 * inputs, asks the library for the comparison, and hands it to the chosen
 * output format (tool/diff-output.c).  Also the whole of kvmexit-diff.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "diff-output.h"
#include "escape.h"

#define MAX_REASONS 16
#define SVG_BARS 20

enum format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_MARKDOWN };

struct diff_args {
	const char *prog;
	struct kvmexit_diff_opts opts;
	enum format format;
	const char *color;
	const char *normalize;
	const char *svg;
	const char *labels;
	bool fail_on_increase;
	bool fail_on_noise;		/* --fail-on-any-increase: noise fails too */
	double fail_pct;
	size_t nr_reasons;
	const char *reasons[MAX_REASONS];
	uint32_t threads;
	const char *path_a, *path_b;
	const char *vm_a, *vm_b;	/* --vm, --vm-a, --vm-b: one VM of each */
};

struct loaded {
	struct kvmexit_profile *prof;
	char label[128];
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [options] A B\n"
		"Compare the exits of two captures or count tables (A is the baseline).\n\n"
		"  --detail                one row per reason and detail (#PF, mov-to-cr3, ...)\n"
		"  --category              one row per category\n"
		"  -s, --sort KEY          delta (default), ratio, rate, time or name\n"
		"  --min-count N           hide rows where both counts are below N\n"
		"  --top N                 show the first N rows\n"
		"  --normalize UNIT        none (default), duration, total or an exit reason:\n"
		"                          B's counts are scaled to A's amount of UNIT\n"
		"  --alpha P               significance level of the Poisson test (0.01)\n"
		"  --labels LA,LB          column labels (default: from the captures)\n"
		"  --color[=WHEN]          auto (default), always or never\n"
		"  --csv, -J, --json, --markdown   output format (default: a table)\n"
		"  --svg FILE              also write a bar chart of the top changes\n"
		"  --fail-on-increase PCT  exit 1 when the total (or each --reason)\n"
		"                          grew significantly, by more than PCT percent\n"
		"  --fail-on-any-increase PCT\n"
		"                          the same, counting increases within Poisson\n"
		"                          noise too\n"
		"  --reason R              with --fail-on-increase: check this reason\n"
		"                          (repeatable)\n"
		"  -j, --threads N         read each large capture on N threads\n"
		"                          (default: one per CPU; 1: one)\n"
		"  --vm NAME               only the VM NAME of both A and B\n"
		"  --vm-a NAME, --vm-b NAME   only the VM NAME of A, of B\n"
		"  -h, --help              this help\n\n"
		"Exit status: 0, 1 when the increase is exceeded, 2 on errors.\n"
		"See kvmexit-diff(1).\n", prog);
}

static int __attribute__((format(printf, 2, 3)))
bad_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; '%s --help' lists the options\n", prog);
	return 2;
}

static int parse_uint(const char *text, uint64_t *out)
{
	char *end;

	if (!*text || *text == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_double(const char *text, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return errno || end == text || *end || !isfinite(*out) ? -EINVAL : 0;
}

static int parse_sort(const char *s, enum kvmexit_diff_sort *out)
{
	static const char *const names[] = { "delta", "ratio", "rate", "time", "name" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum kvmexit_diff_sort)i;
			return 0;
		}
	return -EINVAL;
}

enum {
	OPT_DETAIL = 256, OPT_CATEGORY, OPT_SORT, OPT_MIN_COUNT, OPT_TOP, OPT_NORMALIZE,
	OPT_ALPHA, OPT_LABELS, OPT_COLOR, OPT_CSV, OPT_JSON, OPT_MARKDOWN, OPT_SVG,
	OPT_FAIL, OPT_REASON, OPT_THREADS, OPT_FAIL_ANY, OPT_VM, OPT_VM_A, OPT_VM_B,
};

static const struct option long_opts[] = {
	{ "detail", no_argument, NULL, OPT_DETAIL },
	{ "category", no_argument, NULL, OPT_CATEGORY },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "min-count", required_argument, NULL, OPT_MIN_COUNT },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "normalize", required_argument, NULL, OPT_NORMALIZE },
	{ "normalise", required_argument, NULL, OPT_NORMALIZE },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "markdown", no_argument, NULL, OPT_MARKDOWN },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "fail-on-increase", required_argument, NULL, OPT_FAIL },
	{ "fail-on-any-increase", required_argument, NULL, OPT_FAIL_ANY },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "vm-a", required_argument, NULL, OPT_VM_A },
	{ "vm-b", required_argument, NULL, OPT_VM_B },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option; returns 0, or the exit status to leave with. */
static int parse_opt(struct diff_args *a, int c, const char *arg)
{
	uint64_t u;

	switch (c) {
	case OPT_DETAIL:
		a->opts.group = KVMEXIT_GROUP_DETAIL;
		return 0;
	case OPT_CATEGORY:
		a->opts.group = KVMEXIT_GROUP_CATEGORY;
		return 0;
	case OPT_SORT:
		if (parse_sort(arg, &a->opts.sort))
			return bad_usage(a->prog, "--sort takes delta, ratio, rate, time or name, not '%s'", arg);
		return 0;
	case OPT_MIN_COUNT:
		if (parse_uint(arg, &a->opts.min_count))
			return bad_usage(a->prog, "--min-count takes a count, not '%s'", arg);
		return 0;
	case OPT_TOP:
		if (parse_uint(arg, &u) || u == 0)
			return bad_usage(a->prog, "--top takes a number of rows (1 or more), not '%s'", arg);
		a->opts.top = (size_t)u;
		return 0;
	case OPT_NORMALIZE:
		a->normalize = arg;
		return 0;
	case OPT_ALPHA:
		if (parse_double(arg, &a->opts.alpha) || a->opts.alpha <= 0 || a->opts.alpha >= 1)
			return bad_usage(a->prog, "--alpha takes a probability between 0 and 1, not '%s'", arg);
		return 0;
	case OPT_LABELS:
		if (!strchr(arg, ','))
			return bad_usage(a->prog, "--labels takes LABEL-A,LABEL-B, not '%s'", arg);
		a->labels = arg;
		return 0;
	case OPT_COLOR:
		a->color = arg ? arg : "always";
		if (strcmp(a->color, "auto") && strcmp(a->color, "always") && strcmp(a->color, "never"))
			return bad_usage(a->prog, "--color takes auto, always or never, not '%s'", arg);
		return 0;
	case OPT_CSV:
	case OPT_JSON:
	case OPT_MARKDOWN:
		if (a->format != FMT_TABLE)
			return bad_usage(a->prog, "give one of --csv, --json and --markdown");
		a->format = c == OPT_CSV ? FMT_CSV : c == OPT_JSON ? FMT_JSON : FMT_MARKDOWN;
		return 0;
	case OPT_SVG:
		a->svg = arg;
		return 0;
	case OPT_FAIL:
	case OPT_FAIL_ANY:
		if (parse_double(arg, &a->fail_pct) || a->fail_pct < 0)
			return bad_usage(a->prog, "--fail-on-%sincrease takes a percentage, not '%s'",
					 c == OPT_FAIL_ANY ? "any-" : "", arg);
		a->fail_on_increase = true;
		a->fail_on_noise = c == OPT_FAIL_ANY;
		return 0;
	case OPT_THREADS:
		if (parse_uint(arg, &u) || u < 1 || u > 64)
			return bad_usage(a->prog, "--threads takes a count from 1 to 64, not '%s'", arg);
		a->threads = (uint32_t)u;
		return 0;
	case OPT_VM:
		a->vm_a = a->vm_b = arg;
		return 0;
	case OPT_VM_A:
		a->vm_a = arg;
		return 0;
	case OPT_VM_B:
		a->vm_b = arg;
		return 0;
	case OPT_REASON:
		if (a->nr_reasons == MAX_REASONS)
			return bad_usage(a->prog, "at most %d --reason options", MAX_REASONS);
		a->reasons[a->nr_reasons++] = arg;
		return 0;
	}
	return 2;
}

static int parse_args(struct diff_args *a, int argc, char **argv)
{
	int c, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hs:j:J", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout, a->prog);
			return -1;
		}
		/* short options mean the same in every command: see kvmexit(1) */
		c = c == 's' ? OPT_SORT : c == 'j' ? OPT_THREADS : c == 'J' ? OPT_JSON : c;
		if (c == '?')
			return bad_usage(a->prog, "unknown or incomplete option '%s'", argv[optind - 1]);
		err = parse_opt(a, c, optarg);
		if (err)
			return err;
	}
	if (argc - optind != 2)
		return bad_usage(a->prog, "%s", "expected two inputs, A and B");
	if (a->nr_reasons && !a->fail_on_increase)
		return bad_usage(a->prog, "%s", "--reason goes with --fail-on-increase");
	a->path_a = argv[optind];
	a->path_b = argv[optind + 1];
	return 0;
}

static int load(const struct diff_args *a, const char *path, const char *vm, struct loaded *out)
{
	struct kvmexit_profile_opts popts = {
		.sz = sizeof(popts), .threads = a->threads, .vm_name = vm,
	};
	struct kvmexit_profile_totals t;
	char errbuf[512] = "";
	int err;

	err = kvmexit_profile_load(path, &popts, &out->prof, errbuf, sizeof(errbuf));
	if (err) {
		esc_warn(a->prog, "%s", errbuf[0] ? errbuf : kvmexit_strerror(err));
		return 2;
	}
	kvmexit_profile_totals(out->prof, &t);
	if (vm && !t.exits) {
		fprintf(stderr, "%s: %s: no exits of a VM named '%s': 'kvmexit report --by vm %s' "
			"lists its VMs\n", a->prog, path, vm, path);
		return 2;
	}
	return 0;
}

/* "ept=Y" from a capture's own metadata, when the two differ in it. */
static void make_labels(const struct diff_args *a, struct loaded *la, struct loaded *lb)
{
	const struct kvmexit_meta *ma = kvmexit_profile_meta(la->prof);
	const struct kvmexit_meta *mb = kvmexit_profile_meta(lb->prof);
	int ta = kvmexit_meta_tdp(ma), tb = kvmexit_meta_tdp(mb);
	char pa[128], pb[128];

	if (a->labels) {
		size_t n = strcspn(a->labels, ",");

		snprintf(la->label, sizeof(la->label), "%.*s", (int)n, a->labels);
		snprintf(lb->label, sizeof(lb->label), "%s", a->labels + n + 1);
	} else if (a->vm_a && a->vm_b && strcmp(a->vm_a, a->vm_b)) {
		snprintf(la->label, sizeof(la->label), "%s", a->vm_a);
		snprintf(lb->label, sizeof(lb->label), "%s", a->vm_b);
	} else if (ta >= 0 && tb >= 0 && ta != tb) {
		const char *na = strcmp(ma->kvm_module, "kvm_amd") ? "ept" : "npt";
		const char *nb = strcmp(mb->kvm_module, "kvm_amd") ? "ept" : "npt";

		snprintf(la->label, sizeof(la->label), "%s=%s", na, kvmexit_meta_param(ma, na));
		snprintf(lb->label, sizeof(lb->label), "%s=%s", nb, kvmexit_meta_param(mb, nb));
	} else if (ma->isa && mb->isa && ma->isa != mb->isa) {
		snprintf(la->label, sizeof(la->label), "%s", kvmexit_isa_name(ma->isa));
		snprintf(lb->label, sizeof(lb->label), "%s", kvmexit_isa_name(mb->isa));
	} else if (ma->osrelease[0] && mb->osrelease[0] && strcmp(ma->osrelease, mb->osrelease)) {
		snprintf(la->label, sizeof(la->label), "%s", ma->osrelease);
		snprintf(lb->label, sizeof(lb->label), "%s", mb->osrelease);
	} else {
		snprintf(pa, sizeof(pa), "%s", a->path_a);
		snprintf(pb, sizeof(pb), "%s", a->path_b);
		snprintf(la->label, sizeof(la->label), "%s", basename(pa));
		snprintf(lb->label, sizeof(lb->label), "%s", basename(pb));
	}
	if (!strcmp(la->label, lb->label)) {
		snprintf(la->label, sizeof(la->label), "A");
		snprintf(lb->label, sizeof(lb->label), "B");
	}
}

static enum kvmexit_isa profile_isa(const struct kvmexit_profile *prof)
{
	struct kvmexit_profile_totals t;

	kvmexit_profile_totals(prof, &t);
	return t.isa ? t.isa : kvmexit_profile_meta(prof)->isa;
}

/* A reason named on the command line, in A's ISA or else B's. */
static int parse_reason(const struct diff_args *a, const char *text, const struct loaded *la,
			const struct loaded *lb, enum kvmexit_isa *isa, uint32_t *code)
{
	enum kvmexit_isa ia = profile_isa(la->prof), ib = profile_isa(lb->prof);

	*isa = ia ? ia : KVMEXIT_ISA_VMX;
	if (!kvmexit_reason_parse(*isa, text, code))
		return 0;
	*isa = ib;
	if (ib && !kvmexit_reason_parse(ib, text, code))
		return 0;
	fprintf(stderr, "%s: '%s' is not a%s %s exit reason ('kvmexit reasons' lists them)\n",
		a->prog, text, ia == KVMEXIT_ISA_SVM ? "n" : "", kvmexit_isa_name(ia ? ia : KVMEXIT_ISA_VMX));
	return 2;
}

static int set_normalize(struct diff_args *a, const struct loaded *la, const struct loaded *lb)
{
	if (!a->normalize || !strcmp(a->normalize, "none")) {
		a->normalize = "none";
		a->opts.normalize = KVMEXIT_DIFF_NORM_NONE;
	} else if (!strcmp(a->normalize, "duration")) {
		a->opts.normalize = KVMEXIT_DIFF_NORM_DURATION;
	} else if (!strcmp(a->normalize, "total")) {
		a->opts.normalize = KVMEXIT_DIFF_NORM_TOTAL;
	} else {
		a->opts.normalize = KVMEXIT_DIFF_NORM_REASON;
		return parse_reason(a, a->normalize, la, lb, &a->opts.norm_isa, &a->opts.norm_reason);
	}
	return 0;
}

static bool use_color(const char *when)
{
	const char *term = getenv("TERM");

	if (!when || !strcmp(when, "auto"))
		return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
	return !strcmp(when, "always");
}

static bool exceeded(double a, double b, double pct)
{
	if (a <= 0)
		return b > 0;
	return (b / a - 1) * 100 > pct;
}

/* --fail-on-increase: 1 when the total, or one of the --reason rows, grew too much. */
static int check_increase(const struct diff_args *a, const struct loaded *la,
			  const struct loaded *lb, const struct kvmexit_diff *diff)
{
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(diff);
	struct kvmexit_diff_opts o = a->opts;
	struct kvmexit_diff *all;
	const struct kvmexit_diff_row *rows;
	char errbuf[256];
	int ret = 0;
	size_t n;

	if (!a->nr_reasons) {
		if (!exceeded((double)s->total_a, s->total_b_scaled, a->fail_pct))
			return 0;
		if (!s->total_significant && !a->fail_on_noise) {
			fprintf(stderr, "%s: exits grew by more than %g%% (%" PRIu64 " -> %.0f), "
				"within Poisson noise: not a failure (--fail-on-any-increase "
				"counts it)\n", a->prog, a->fail_pct, s->total_a, s->total_b_scaled);
			return 0;
		}
		fprintf(stderr, "%s: exits grew by more than %g%%: %" PRIu64 " -> %.0f\n", a->prog,
			a->fail_pct, s->total_a, s->total_b_scaled);
		return 1;
	}
	o.group = KVMEXIT_GROUP_REASON;
	o.top = 0;
	o.min_count = 0;
	if (kvmexit_diff_new(la->prof, lb->prof, &o, &all, errbuf, sizeof(errbuf))) {
		esc_warn(a->prog, "%s", errbuf);
		return 2;
	}
	n = kvmexit_diff_rows(all, &rows);
	for (size_t k = 0; k < a->nr_reasons && ret != 2; k++) {
		enum kvmexit_isa isa;
		uint32_t code;
		double ca = 0, cb = 0;
		bool significant = false;

		if (parse_reason(a, a->reasons[k], la, lb, &isa, &code)) {
			ret = 2;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (rows[i].isa == isa && rows[i].reason == kvmexit_vmx_basic(code)) {
				ca = (double)rows[i].count_a;
				cb = rows[i].scaled_b;
				significant = rows[i].significant;
			}
		if (exceeded(ca, cb, a->fail_pct) && !significant && !a->fail_on_noise) {
			fprintf(stderr, "%s: %s grew by more than %g%% (%.0f -> %.0f), within "
				"Poisson noise: not a failure (--fail-on-any-increase counts it)\n",
				a->prog, a->reasons[k], a->fail_pct, ca, cb);
		} else if (exceeded(ca, cb, a->fail_pct)) {
			fprintf(stderr, "%s: %s grew by more than %g%%: %.0f -> %.0f\n", a->prog,
				a->reasons[k], a->fail_pct, ca, cb);
			ret = 1;
		}
	}
	kvmexit_diff_free(all);
	return ret;
}

static int output(const struct diff_args *a, const struct diff_view *v)
{
	switch (a->format) {
	case FMT_CSV:
		diff_print_csv(stdout, v);
		break;
	case FMT_JSON:
		diff_print_json(stdout, v);
		break;
	case FMT_MARKDOWN:
		diff_print_markdown(stdout, v);
		break;
	default:
		diff_print_table(stdout, v);
		break;
	}
	if (a->format == FMT_CSV) {
		const struct kvmexit_diff_warning *w;
		size_t n = kvmexit_diff_warnings(v->diff, &w);

		for (size_t i = 0; i < n; i++)
			esc_warn(a->prog, "warning: %s", w[i].message);
	}
	if (a->svg) {
		int err = diff_write_svg(a->svg, v, SVG_BARS);

		if (err) {
			fprintf(stderr, "%s: cannot write %s: %s\n", a->prog, a->svg, strerror(-err));
			return 2;
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", a->prog, strerror(errno));
		return 2;
	}
	return 0;
}

static int run(struct diff_args *a, struct loaded *la, struct loaded *lb)
{
	struct kvmexit_diff *diff;
	char errbuf[512] = "";
	struct diff_view v;
	int ret;

	ret = set_normalize(a, la, lb);
	if (ret)
		return ret;
	make_labels(a, la, lb);
	ret = kvmexit_diff_new(la->prof, lb->prof, &a->opts, &diff, errbuf, sizeof(errbuf));
	if (ret) {
		esc_warn(a->prog, "%s", errbuf[0] ? errbuf : kvmexit_strerror(ret));
		return 2;
	}
	v = (struct diff_view){
		.diff = diff, .label_a = la->label, .label_b = lb->label,
		.path_a = a->path_a, .path_b = a->path_b,
		.meta_a = kvmexit_profile_meta(la->prof), .meta_b = kvmexit_profile_meta(lb->prof),
		.normalize = a->normalize, .color = a->format == FMT_TABLE && use_color(a->color),
	};
	ret = output(a, &v);
	if (!ret && a->fail_on_increase)
		ret = check_increase(a, la, lb, diff);
	kvmexit_diff_free(diff);
	return ret;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_args a = {
		.prog = strcmp(argv[0], "diff") ? "kvmexit-diff" : "kvmexit diff",
		.opts = { .sz = sizeof(a.opts) },
	};
	struct loaded la = { 0 }, lb = { 0 };
	int ret = parse_args(&a, argc, argv);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (!strcmp(a.path_a, "-") && !strcmp(a.path_b, "-"))
		return bad_usage(a.prog, "%s", "only one of A and B can be standard input");
	ret = load(&a, a.path_a, a.vm_a, &la);
	if (!ret)
		ret = load(&a, a.path_b, a.vm_b, &lb);
	if (!ret)
		ret = run(&a, &la, &lb);
	kvmexit_profile_free(la.prof);
	kvmexit_profile_free(lb.prof);
	return ret;
}
