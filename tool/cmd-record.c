// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit record: records kvm events into a perf.data capture.  Options,
 * signals and the status line; the recording is the library's recorder.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvmexit.h"
#include "commands.h"
#include "options.h"
#include "escape.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmexit record [-o FILE] [-f] [-a | -p PID[,PID...] | -- COMMAND [ARGS]]\n"
		"                      [-d SECONDS] [-e EVENTSET] [-m PAGES] [--count | --bpf] [-q]\n"
		"\n"
		"Records kvm events (kvm:kvm_exit and kvm:kvm_entry, and more with -e) into\n"
		"a perf.data capture that 'kvmexit report' and 'perf script' read.  Stops\n"
		"on Ctrl-C (SIGINT), SIGTERM, after -d, or when the command exits.\n"
		"\n"
		"  -o, --output FILE     write the capture to FILE (default: kvmexit.data);\n"
		"                        -: to standard output, in perf's pipe mode\n"
		"  -f, --force           overwrite FILE if it exists\n"
		"  -a, --all-cpus        record every process on every CPU (the default)\n"
		"  -p, --pid PID[,PID]   record only these VMM processes, all their threads\n"
		"  -d, --duration SECS   stop after SECS seconds (fractions allowed)\n"
		"  -e, --events SET      add events, comma separated: ioport, mmio, msr,\n"
		"                        all, or kvm event names (kvm_pio, kvm:kvm_msr...)\n"
		"  -m, --mmap-pages N    ring buffer pages per CPU, a power of 2 (default 128)\n"
		"  -c, --count           count exits per reason and CPU in the kernel (no\n"
		"                        samples, nothing lost, lowest cost to the guest)\n"
		"  -b, --bpf             aggregate exits in the kernel with BPF: counts per\n"
		"                        process, vCPU, reason and detail, with exit-handling\n"
		"                        times and percentiles; a fraction of sampling's cost\n"
		"  -q, --quiet           no status line\n"
		"  -h, --help            print this help and exit\n");
}

static struct kvmexit_recorder *recorder;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (recorder)
		kvmexit_recorder_stop(recorder);
}

static void human_bytes(uint64_t b, char *buf, size_t size)
{
	if (b >= 10ull << 30)
		snprintf(buf, size, "%.1f GiB", b / 1073741824.0);
	else if (b >= 10ull << 20)
		snprintf(buf, size, "%.1f MiB", b / 1048576.0);
	else
		snprintf(buf, size, "%.1f KiB", b / 1024.0);
}

static void status_line(const struct kvmexit_record_stats *st, bool count, bool final)
{
	double secs = st->elapsed_ns / 1e9;
	char size[32];

	human_bytes(st->bytes, size, sizeof(size));
	if (count)
		fprintf(stderr, "\r%8.1fs  counting%s", secs, final ? "\n" : "");
	else
		fprintf(stderr, "\r%8.1fs  %" PRIu64 " events  %.0f/s  lost %" PRIu64 "  %s\033[K%s",
			secs, st->events, secs > 0 ? st->events / secs : 0.0, st->lost, size,
			final ? "\n" : "");
}

/* Lets --count open one counter per reason and CPU (kvm_stat does the same). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void join_cmdline(int argc, char **argv, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? " " : "", argv[i]);
}

static int run(struct kvmexit_record_opts *o, bool quiet)
{
	struct kvmexit_record_stats st;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];
	bool status = !quiet && isatty(2);
	int ret;

	/*
	 * Caught from the start, even when inherited as ignored (a background
	 * job of a script), so a signal during the setup is not lost; the
	 * command gets the default back at exec.
	 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = kvmexit_recorder_new(o, &recorder, err, sizeof(err));
	if (ret < 0) {
		esc_warn("kvmexit record", "%s", err);
		return 1;
	}
	if (stop_requested)
		kvmexit_recorder_stop(recorder);
	while ((ret = kvmexit_recorder_run(recorder, status ? 1000 : -1)) > 0) {
		kvmexit_recorder_stats(recorder, &st);
		status_line(&st, o->count || o->bpf, false);
	}
	kvmexit_recorder_stats(recorder, &st);
	if (status)
		status_line(&st, o->count || o->bpf, true);
	if (ret < 0)
		esc_warn("kvmexit record", "%s", kvmexit_recorder_errmsg(recorder));
	if (ret < 0 && !st.events)
		quiet = true;		/* failed before recording: nothing to sum up */
	if (!quiet) {
		const char *dest = o->output && !strcmp(o->output, "-") ? "standard output" : o->output;

		if (o->count)
			fprintf(stderr, "kvmexit record: %" PRIu64 " exits counted in %.3f s%s%s\n",
				st.events, st.elapsed_ns / 1e9, dest ? ", written to " : "",
				dest ? dest : "");
		else if (o->bpf)
			fprintf(stderr, "kvmexit record: %" PRIu64 " exits, %" PRIu64 " entries%s "
				"aggregated in the kernel in %.3f s%s%s\n",
				st.by_type[KVMEXIT_EV_EXIT], st.by_type[KVMEXIT_EV_ENTRY],
				o->events & KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO) ? " and kvm_pio" : "",
				st.elapsed_ns / 1e9, dest ? ", written to " : "",
				dest ? dest : "");
		else
			fprintf(stderr, "kvmexit record: %" PRIu64 " events in %.3f s, %" PRIu64
				" lost%s%s\n", st.events, st.elapsed_ns / 1e9, st.lost,
				dest ? ", written to " : "", dest ? dest : "");
		if (st.lost && o->bpf)
			fprintf(stderr, "kvmexit record: %" PRIu64 " events not counted: the BPF "
				"maps were full (more processes, vCPUs and reasons than they hold), "
				"or the program could not read an exit's fields\n", st.lost);
		else if (st.lost)
			fprintf(stderr, "kvmexit record: the kernel dropped %" PRIu64 " records: "
				"give more ring pages (-m) or use --count\n", st.lost);
	}
	if (ret >= 0 && st.child_exited && WIFEXITED(st.child_status) && WEXITSTATUS(st.child_status) &&
	    !quiet)
		fprintf(stderr, "kvmexit record: %s exited with status %d\n", o->argv[0],
			WEXITSTATUS(st.child_status));
	kvmexit_recorder_free(recorder);
	recorder = NULL;
	return ret < 0 ? 1 : 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "all-cpus", no_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "events", required_argument, NULL, 'e' },
		{ "mmap-pages", required_argument, NULL, 'm' },
		{ "count", no_argument, NULL, 'c' },
		{ "bpf", no_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvmexit_record_opts o = { .sz = sizeof(o), .output = "kvmexit.data" };
	int32_t *pids = NULL;
	size_t nr_pids = 0;
	bool quiet = false, all = false;
	char cmdline[512], *end;
	double secs;
	int c, ret;

	join_cmdline(argc, argv, cmdline, sizeof(cmdline));
	while ((c = getopt_long(argc, argv, "+o:fap:d:e:m:cbqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'f':
			o.overwrite = true;
			break;
		case 'a':
			all = true;
			break;
		case 'p':
			if (opt_parse_pids(optarg, &pids, &nr_pids)) {
				fprintf(stderr, "kvmexit record: -p %s: give process ids, comma "
					"separated\n", optarg);
				free(pids);
				return 2;
			}
			break;
		case 'd':
			secs = strtod(optarg, &end);
			if (*end || !(secs > 0) || secs > 1e9) {
				fprintf(stderr, "kvmexit record: -d %s: give a positive number of "
					"seconds\n", optarg);
				free(pids);
				return 2;
			}
			o.duration_ns = (uint64_t)(secs * 1e9 + 0.5);
			break;
		case 'e':
			if (kvmexit_record_events_parse(optarg, &o.events)) {
				fprintf(stderr, "kvmexit record: -e %s: unknown event set; give ioport, "
					"mmio, msr, all or kvm event names\n", optarg);
				free(pids);
				return 2;
			}
			break;
		case 'm':
			o.mmap_pages = strtoul(optarg, &end, 10);
			if (*end || !o.mmap_pages || (o.mmap_pages & (o.mmap_pages - 1))) {
				fprintf(stderr, "kvmexit record: -m %s: give a power of 2\n", optarg);
				free(pids);
				return 2;
			}
			break;
		case 'c':
			o.count = true;
			break;
		case 'b':
			o.bpf = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			free(pids);
			return 0;
		default:
			usage(stderr);
			free(pids);
			return 2;
		}
	}
	if (o.count && o.bpf) {
		fprintf(stderr, "kvmexit record: --count and --bpf are two sources: give one\n");
		free(pids);
		return 2;
	}
	if ((all && nr_pids) || ((all || nr_pids) && optind < argc)) {
		fprintf(stderr, "kvmexit record: give one of -a, -p or a command\n");
		free(pids);
		return 2;
	}
	if (nr_pids) {
		o.target = KVMEXIT_TARGET_PIDS;
		o.pids = pids;
		o.nr_pids = nr_pids;
	} else if (optind < argc) {
		o.target = KVMEXIT_TARGET_COMMAND;
		o.argv = argv + optind;
	}
	o.cmdline = cmdline;
	if (o.count)
		raise_nofile();
	ret = run(&o, quiet);
	free(pids);
	return ret;
}
