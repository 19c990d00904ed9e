// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit top: every VM's exits live, with times.  Options, signals and
 * the modes without a terminal (--batch, --log); the screen is in
 * tool/top-screen.c, the rows in tool/top-model.c, the sources in
 * tool/source*.c, the numbers in libkvmexit's snapshots.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"
#include "top.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmexit top [-a | -p PID[,PID...] | -- COMMAND [ARGS]] [--count | --bpf] [-e SET]\n"
		"                   [--replay FILE [--speed X]] [-s SECS] [-d SECS]\n"
		"                   [--batch | --log [--csv | --json] [-L FILE]]\n"
		"                   [--by KEY] [--vm PID|NAME] [--filter REGEX] [--sort COL] [--paused]\n"
		"\n"
		"Watches the kvm exits of every VM live: per reason (or detail, VM, vCPU,\n"
		"process, category) the exits per second of the last interval, the total\n"
		"since the start (or the reset), the share, and the interval's average and\n"
		"p99 exit-handling time.  Keys: h shows them all; q quits.\n"
		"\n"
		"Sources:\n"
		"  (default)             sample kvm_exit + kvm_entry: counts, times, per VM\n"
		"  -c, --count           kernel counters per reason: lowest cost, no times,\n"
		"                        no per-VM split (system-wide or a command)\n"
		"  -B, --bpf             aggregate in the kernel with BPF: counts, times,\n"
		"                        details, per VM, at a fraction of sampling's cost\n"
		"  -r, --replay FILE     a capture, in capture time (deterministic)\n"
		"  -S, --speed X         replay X capture seconds per second (default 1;\n"
		"                        with --batch or --log: as fast as it reads)\n"
		"  -a, --all-cpus        every VM on the host (the default)\n"
		"  -p, --pid PID[,PID]   only these VMM processes\n"
		"  -e, --events SET      add kvm events: ioport, mmio, msr, all (counted\n"
		"                        in the header as other events)\n"
		"  -m, --mmap-pages N    ring pages per CPU, a power of 2 (default 512)\n"
		"\n"
		"View:\n"
		"  -s, --interval SECS   refresh every SECS (default 2; 0.1 to 3600)\n"
		"  -d, --duration SECS   stop after SECS of the source's time\n"
		"  -b, --by KEY          reason (default), detail, vm, vcpu, process, category\n"
		"  -g, --vm PID|NAME     only this VM (a name: once it has had exits)\n"
		"  -f, --filter REGEX    only reasons (or REASON/detail) matching REGEX\n"
		"  -o, --sort COL        rate (default), total, avg, p99, name\n"
		"  -P, --paused          start paused (space resumes, n steps an interval)\n"
		"\n"
		"Without a terminal:\n"
		"  -1, --batch, --once   one snapshot and exit: after one interval, or when\n"
		"                        the command or the replay ends\n"
		"  -l, --log             one block per interval, timestamped\n"
		"      --csv             with --log: CSV lines (header once)\n"
		"      --json            with --log or --batch: one JSON object per line\n"
		"  -L, --log-file FILE   append the log to FILE; SIGHUP reopens it\n"
		"  -h, --help            print this help and exit\n");
}

static volatile int quit_signal;
static volatile sig_atomic_t hup;
static bool hup_reopens;		/* -L: SIGHUP reopens the file; else it ends */

static void on_signal(int sig)
{
	if (sig == SIGHUP && hup_reopens)
		hup = 1;
	else
		quit_signal = sig;	/* a hung-up terminal ends the view */
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kvmexit top: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(kvmexit top --help lists the options)\n", stderr);
	return 2;
}

struct args {
	struct source_opts so;
	int32_t *pids;
	double interval, duration;
	bool batch, log, csv, json, paused, speed_set;
	const char *log_file, *by, *vm, *filter, *sort;
	char cmdline[512];
};

static int parse_secs(const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int choice(const char *arg, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

static int parse_args(struct args *a, int argc, char **argv)
{
	enum { OPT_CSV = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "count", no_argument, NULL, 'c' },
		{ "bpf", no_argument, NULL, 'B' },
		{ "replay", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 'S' },
		{ "all-cpus", no_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "mmap-pages", required_argument, NULL, 'm' },
		{ "interval", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "by", required_argument, NULL, 'b' },
		{ "vm", required_argument, NULL, 'g' },
		{ "filter", required_argument, NULL, 'f' },
		{ "sort", required_argument, NULL, 'o' },
		{ "paused", no_argument, NULL, 'P' },
		{ "batch", no_argument, NULL, '1' },
		{ "once", no_argument, NULL, '1' },
		{ "log", no_argument, NULL, 'l' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "log-file", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool count = false, bpf = false;
	int c;

	a->interval = 2;
	a->so.speed = 1;
	while ((c = getopt_long(argc, argv, "+cBr:S:ap:e:m:s:d:b:g:f:o:P1lL:h", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'c':
			count = true;
			break;
		case 'B':
			bpf = true;
			break;
		case 'r':
			a->so.path = optarg;
			break;
		case 'S':
			if (parse_secs(optarg, 1e-3, 1e9, &a->so.speed))
				return usage_error("--speed takes a factor from 0.001 to 1e9, not '%s'",
						   optarg);
			a->speed_set = true;
			break;
		case 'a':
			a->so.target = KVMEXIT_TARGET_SYSTEM;
			break;
		case 'p':
			if (opt_parse_pids(optarg, &a->pids, &a->so.nr_pids))
				return usage_error("-p takes process ids separated by commas, not '%s'",
						   optarg);
			a->so.target = KVMEXIT_TARGET_PIDS;
			break;
		case 'e':
			if (kvmexit_record_events_parse(optarg, &a->so.events))
				return usage_error("-e: unknown event set '%s' (ioport, mmio, msr, all, "
						   "or kvm event names)", optarg);
			break;
		case 'm':
			v = strtoul(optarg, &end, 10);
			if (*end || !v || v > (1ul << 20) || (v & (v - 1)))
				return usage_error("-m takes a power of 2, not '%s'", optarg);
			a->so.mmap_pages = (uint32_t)v;
			break;
		case 's':
			if (parse_secs(optarg, 0.1, 3600, &a->interval))
				return usage_error("-s takes seconds from 0.1 to 3600, not '%s'", optarg);
			break;
		case 'd':
			if (parse_secs(optarg, 0.001, 1e9, &a->duration))
				return usage_error("-d takes a positive number of seconds, not '%s'",
						   optarg);
			break;
		case 'b':
			if (choice(optarg, top_view_names, TOP_VIEW__MAX) < 0)
				return usage_error("--by takes reason, detail, vm, vcpu, process or "
						   "category, not '%s'", optarg);
			a->by = optarg;
			break;
		case 'g':
			a->vm = optarg;
			break;
		case 'f':
			a->filter = optarg;
			break;
		case 'o':
			if (choice(optarg, top_sort_names, TOP_SORT__MAX) < 0)
				return usage_error("--sort takes rate, total, avg, p99 or name, not '%s'",
						   optarg);
			a->sort = optarg;
			break;
		case 'P':
			a->paused = true;
			break;
		case '1':
			a->batch = true;
			break;
		case 'l':
			a->log = true;
			break;
		case OPT_CSV:
			a->csv = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'L':
			a->log_file = optarg;
			a->log = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option");
		}
	}
	if (optind < argc) {
		if (a->so.target == KVMEXIT_TARGET_PIDS || a->so.path)
			return usage_error("a command cannot go with -p or --replay");
		a->so.target = KVMEXIT_TARGET_COMMAND;
		a->so.argv = argv + optind;
	}
	if (a->batch && a->log)
		return usage_error("--batch and --log exclude each other");
	if (a->csv && a->json)
		return usage_error("--csv and --json exclude each other");
	if (a->csv && !a->log)
		return usage_error("--csv needs --log (or -L FILE)");
	if (a->json && !a->log && !a->batch)
		return usage_error("--json needs --log or --batch");
	if (a->so.path && (count || bpf || a->so.target == KVMEXIT_TARGET_PIDS || a->so.events))
		return usage_error("--replay reads a capture: -c, -B, -p and -e are for live sources");
	if (count && bpf)
		return usage_error("--count and --bpf are two sources: give one");
	if (a->speed_set && !a->so.path)
		return usage_error("--speed is for --replay");
	if (count && a->so.target == KVMEXIT_TARGET_PIDS)
		return usage_error("--count counts system-wide or a command, not -p");
	a->so.kind = a->so.path ? SOURCE_REPLAY : count ? SOURCE_COUNT :
		     bpf ? SOURCE_BPF : SOURCE_SAMPLED;
	/* A live view runs for hours beside busy guests: perf kvm stat live's 512 pages. */
	if (!a->so.mmap_pages)
		a->so.mmap_pages = 512;
	a->so.pids = a->pids;
	/* Without a screen, a replay goes as fast as it reads unless told. */
	if (a->so.path && (a->batch || a->log) && !a->speed_set)
		a->so.speed = 1e9;
	return -1;
}

/* Many CPUs x reasons of counters need file descriptors. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Runs the source until its clock reaches until: 1 there, 0 when the
 * source ended, 2 on a signal, or a negative error.
 */
static int run_until(struct top *t, uint64_t until)
{
	for (;;) {
		int r = source_run(t->src, until, 100);

		if (r <= 0)
			return r;
		if (source_now(t->src) >= until)
			return 1;
		if (quit_signal)
			return 2;
	}
}

static FILE *open_log(const char *path, bool csv)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return NULL;
	/* CSV: a header only at the start of the file (kvm_stat's -c -L). */
	if (csv && ftell(f) == 0)
		top_print_csv_header(f);
	return f;
}

static void print_block(const struct top *t, const struct args *a, FILE *f)
{
	if (a->json)
		top_print_json(t, f);
	else if (a->csv)
		top_print_csv(t, f);
	else
		top_print_text(t, f);
}

/* --batch and --log: returns the exit status. */
static int run_plain(struct top *t, const struct args *a)
{
	uint64_t interval = (uint64_t)(a->interval * 1e9), stop = UINT64_MAX;
	bool whole = a->batch && (a->so.path || a->so.target == KVMEXIT_TARGET_COMMAND);
	FILE *f = stdout;
	int r = 1;

	if (a->duration)
		stop = t->start_ns + (uint64_t)(a->duration * 1e9);
	if (a->log_file) {
		f = open_log(a->log_file, a->csv);
		if (!f) {
			fprintf(stderr, "kvmexit top: cannot open %s: %s\n", a->log_file,
				strerror(errno));
			return 1;
		}
	} else if (a->log && a->csv) {
		top_print_csv_header(f);
	}
	while (r == 1) {
		uint64_t until = whole ? stop : kvmexit_snapshot_time(t->cur) + interval;

		if (until > stop)
			until = stop;
		r = run_until(t, until);
		if (r < 0)
			break;
		/* A last part-interval (the end, a signal) is printed too. */
		if (source_now(t->src) > kvmexit_snapshot_time(t->cur) || r == 1) {
			if (top_tick(t) < 0) {
				r = -1;
				break;
			}
			print_block(t, a, f);
		}
		if (a->batch || source_now(t->src) >= stop)
			break;
		if (hup && a->log_file) {
			hup = 0;
			fclose(f);
			f = open_log(a->log_file, a->csv);
			if (!f) {
				fprintf(stderr, "kvmexit top: cannot reopen %s: %s\n", a->log_file,
					strerror(errno));
				return 1;
			}
		}
	}
	if (f != stdout)
		fclose(f);
	if (r < 0) {
		fprintf(stderr, "kvmexit top: %s\n", t->errmsg[0] ? t->errmsg :
			t->src->errmsg[0] ? t->src->errmsg : kvmexit_strerror(r));
		return 1;
	}
	return 0;
}

static int apply_view(struct top *t, const struct args *a)
{
	char err[256];

	if (a->by)
		t->view = (enum top_view)choice(a->by, top_view_names, TOP_VIEW__MAX);
	if (a->sort)
		t->sort = (enum top_sort)choice(a->sort, top_sort_names, TOP_SORT__MAX);
	t->paused = a->paused;
	if (a->filter && top_set_filter(t, a->filter, err, sizeof(err))) {
		fprintf(stderr, "kvmexit top: --filter: %s\n", err);
		return -1;
	}
	/* A name may belong to a VM that has had no exit yet: it is looked for. */
	if (a->vm && top_want_vm(t, a->vm)) {
		fprintf(stderr, "kvmexit top: --vm %s: %s\n", a->vm, kvmexit_strerror(-ENOMEM));
		return -1;
	}
	return top_refresh(t);
}

static void join_cmdline(int argc, char **argv, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n + 1 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "", argv[i]);
}

int cmd_top(int argc, char **argv)
{
	struct args a = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct source *src = NULL;
	struct top t;
	char err[512];
	int ret = parse_args(&a, argc, argv);

	if (ret >= 0) {
		free(a.pids);
		return ret;
	}
	if (!a.batch && !a.log && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		free(a.pids);
		return usage_error("no terminal for the full-screen view: use --batch or --log");
	}
	join_cmdline(argc, argv, a.cmdline, sizeof(a.cmdline));
	a.so.cmdline = a.cmdline;
	if (a.so.kind == SOURCE_COUNT)
		raise_nofile();
	hup_reopens = a.log_file != NULL;
	/* Signals end the loops cleanly (the screen is restored, logs flushed). */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = source_open(&a.so, &src, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "kvmexit top: %s\n", err);
		free(a.pids);
		return 1;
	}
	top_init(&t, src, (uint64_t)(a.interval * 1e9));
	ret = source_start(src);
	if (!ret)
		ret = top_begin(&t);
	if (ret) {
		fprintf(stderr, "kvmexit top: %s\n", t.errmsg[0] ? t.errmsg :
			src->errmsg[0] ? src->errmsg : kvmexit_strerror(ret));
		ret = 1;
	} else if (apply_view(&t, &a)) {
		ret = 2;
	} else if (a.batch || a.log) {
		ret = run_plain(&t, &a);
	} else {
		if (a.duration)
			t.stop_ns = t.start_ns + (uint64_t)(a.duration * 1e9);
		ret = top_screen_run(&t, &quit_signal);
	}
	top_release(&t);
	source_free(src);
	free(a.pids);
	return ret;
}
