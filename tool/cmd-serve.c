// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit serve: the exits of this host as Prometheus metrics, over HTTP
 * (libmicrohttpd) and/or in a node_exporter textfile.
 *
 * Threads: the main thread records (or replays) and, once per interval,
 * renders the page into memory (tool/metrics.c); libmicrohttpd's one
 * polling thread answers scrapes by copying the finished page under a
 * mutex held only for that copy.  So a slow or stalled scraper never
 * holds up recording, and memory is the page, twice (two formats), plus a
 * copy per open connection (at most CONN_LIMIT of them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvmexit.h"
#include "commands.h"
#include "options.h"
#include "metrics.h"
#include "source.h"
#include "vm-name.h"

#define DEFAULT_LISTEN "127.0.0.1:9595"
#define CONN_LIMIT 16
#define CONN_TIMEOUT_S 10

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmexit serve [--listen ADDR:PORT] [--textfile FILE] [-i SECONDS]\n"
		"                     [--replay FILE [--speed X] | [--count | --bpf] [-p PID[,PID...]]]\n"
		"                     [--per-vcpu] [--histogram-per-vm] [--max-series N]\n"
		"                     [--grace SECONDS] [--buckets-per-octave N] [--once]\n"
		"                     [--openmetrics]\n"
		"\n"
		"Serves the KVM exits of this host as Prometheus metrics on\n"
		"http://ADDR:PORT/metrics (text format 0.0.4, or OpenMetrics 1.0 when the\n"
		"scraper asks for it) and/or writes them to a node_exporter textfile.\n"
		"Runs until SIGTERM or SIGINT.  'man kvmexit-serve' names every metric.\n"
		"\n"
		"  -l, --listen ADDR:PORT  listen there (default " DEFAULT_LISTEN ", loopback;\n"
		"                          [::1]:PORT for IPv6; 0.0.0.0:PORT for all)\n"
		"  -t, --textfile FILE     write the page to FILE every interval, atomically\n"
		"                          (no HTTP server unless --listen is given too)\n"
		"  -i, --interval SECS     render every SECS seconds (default 5)\n"
		"  -c, --count             count exits per reason in the kernel (lowest cost;\n"
		"                          no times, no per-VM split)\n"
		"  -B, --bpf               aggregate exits in the kernel with BPF (counts and\n"
		"                          times per VM and reason; least cost per exit)\n"
		"  -r, --replay FILE       serve the exits of a capture instead of live ones,\n"
		"                          replayed in capture time\n"
		"  -s, --speed X           replay X capture seconds per second (default 1)\n"
		"  -p, --pid PID[,PID]     record only these VMM processes\n"
		"  -m, --mmap-pages N      ring buffer pages per CPU, a power of 2 (default 128)\n"
		"      --per-vcpu          exits counter per vCPU too (more series)\n"
		"      --histogram-per-vm  exit-handling time histograms per VM too\n"
		"      --max-series N      at most about N series (default 10000): VMs beyond\n"
		"                          are counted together under pid=\"other\"\n"
		"      --grace SECS        drop a VM's series SECS after its process is gone\n"
		"                          and its exits stopped (default 300)\n"
		"      --buckets-per-octave N\n"
		"                          histogram buckets per power of two: 1, 2 (default),\n"
		"                          4 or 8\n"
		"      --once              render once (after the capture with --replay),\n"
		"                          write the textfile or standard output, and exit\n"
		"      --openmetrics       with --once and no --textfile: OpenMetrics text\n"
		"  -h, --help              print this help and exit\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmexit serve: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; 'kvmexit serve --help' shows the options\n");
	return 2;
}

struct serve {
	const char *listen, *textfile, *replay;
	int32_t *pids;
	size_t nr_pids;
	uint32_t mmap_pages;
	double interval;
	bool once, openmetrics;
	struct metrics_opts mo;
	struct metrics *metrics;
	pthread_mutex_t lock;		/* guards the published pages against scrapes */
	struct source *src;
	bool running;			/* the source has not ended */
	bool count, bpf;
	double speed;
	double render_seconds;		/* the last update's */
	struct MHD_Daemon *httpd;
};

static volatile sig_atomic_t stop_requested;

/* The loop sees the flag within a 100 ms slice and stops the source. */
static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ------------------------------------------------------------ HTTP */

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct serve *s = cls;
	struct MHD_Response *resp;
	enum metrics_format f;
	unsigned int code = MHD_HTTP_OK;
	const char *type;
	enum MHD_Result ret;
	size_t len;
	char *copy;

	(void)version;
	(void)upload_data;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char no[] = "kvmexit serve: only GET and HEAD\n";

		/* Answer at once; a request body is then discarded. */
		if (*con_cls)
			return MHD_YES;
		*con_cls = s;
		*upload_data_size = 0;
		resp = MHD_create_response_from_buffer(sizeof(no) - 1, (void *)no,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (!strcmp(url, "/metrics")) {
		f = metrics_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								  MHD_HTTP_HEADER_ACCEPT));
		pthread_mutex_lock(&s->lock);
		const char *page = metrics_page(s->metrics, f, &len);
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, page, len);
		pthread_mutex_unlock(&s->lock);
		if (!copy)
			return MHD_NO;
		type = metrics_content_type(f);
	} else {
		static const char root[] = "kvmexit serve: the metrics are at /metrics\n";

		code = strcmp(url, "/") ? MHD_HTTP_NOT_FOUND : MHD_HTTP_OK;
		len = sizeof(root) - 1;
		copy = malloc(len);
		if (!copy)
			return MHD_NO;
		memcpy(copy, root, len);
		type = "text/plain; charset=utf-8";
	}
	resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "127.0.0.1:9595", "[::1]:9595", "0.0.0.0:9595". */
static int parse_listen(const char *text, struct sockaddr_storage *ss, bool *v6)
{
	char host[64];
	const char *colon, *h = text;
	size_t hl;
	char *end;
	long port;

	if (*text == '[') {
		const char *rb = strchr(text, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = text + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - text);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (*text == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*v6 = false;
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

/*
 * The listening socket, ours: SO_REUSEADDR so that a restart binds again at
 * once (connections linger in TIME_WAIT), and nothing more, so that a port
 * another server listens on is refused (libmicrohttpd's own reuse option
 * would also set SO_REUSEPORT, and two servers would share the port).
 */
static int listen_on(const struct sockaddr_storage *ss, bool v6)
{
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 64) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int start_http(struct serve *s)
{
	struct sockaddr_storage ss;
	bool v6;
	sigset_t all, old;
	int fd;

	if (parse_listen(s->listen, &ss, &v6) < 0)
		return 2;	/* parse_args() checked it */
	fd = listen_on(&ss, v6);
	if (fd < 0) {
		fprintf(stderr, "kvmexit serve: cannot listen on %s: %s%s\n", s->listen, strerror(-fd),
			fd == -EADDRINUSE ? " (another server has the port: choose another with --listen)"
			: fd == -EADDRNOTAVAIL ? " (no interface has that address)" : "");
		return 1;
	}
	/* libmicrohttpd's thread must not take our signals: it inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* No MHD_USE_ERROR_LOG: clients that hang up are no news. */
	s->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0),
				    0, NULL, NULL, answer, s,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
				    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->httpd) {
		close(fd);
		fprintf(stderr, "kvmexit serve: cannot start the HTTP server on %s (out of memory "
				"or threads?)\n", s->listen);
		return 1;
	}
	return 0;
}

/* -------------------------------------------------------- textfile */

/* Write, then rename: node_exporter never reads half a page. */
static int write_textfile(const char *path, const char *page, size_t len)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int fd, err = 0;

	/*
	 * A dot name without .prom, which the textfile collector skips; a new
	 * file (O_EXCL, random suffix), so a shared directory cannot hand us
	 * someone else's file or link.  0644: the prometheus user reads it.
	 */
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, path,
		     slash ? slash + 1 : path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0)
		err = -errno;
	for (size_t off = 0; off < len && !err;) {
		ssize_t n = write(fd, page + off, len - off);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* ---------------------------------------------------------- update */

static bool pid_alive(int32_t pid, void *arg)
{
	(void)arg;
	return vm_alive(pid);
}

static int pid_name(int32_t pid, char *buf, size_t size, void *arg)
{
	(void)arg;
	return vm_name_live(pid, buf, size);
}

/* A gone VM leaves the profile (live sources): memory stays bounded. */
static int pid_retire(int32_t pid, void *arg)
{
	struct serve *s = arg;
	int n = source_retire(s->src, pid);

	if (n < 0)
		fprintf(stderr, "kvmexit serve: %s (it stays in memory; tried again at the next "
				"update)\n", s->src->errmsg);
	return n;
}

/* A snapshot of the source now, rendered aside, then published. */
static int update(struct serve *s)
{
	struct metrics_input in = { .meta = &s->src->meta, .running = s->running,
				    .render_seconds = s->render_seconds };
	struct kvmexit_snapshot *snap;
	struct rusage ru;
	struct timespec now, t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = source_snapshot(s->src, &snap, NULL, NULL);
	if (err) {
		fprintf(stderr, "kvmexit serve: cannot take a snapshot: %s\n", kvmexit_strerror(err));
		return err;
	}
	getrusage(RUSAGE_SELF, &ru);
	clock_gettime(CLOCK_REALTIME, &now);
	in.snap = snap;
	in.cpu_user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	in.cpu_system = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	in.timestamp = now.tv_sec + now.tv_nsec / 1e9;
	in.now_ns = kvmexit_snapshot_time(snap);
	/* A replayed capture is history: its VMs are never gone. */
	in.alive = s->replay ? NULL : pid_alive;
	/* Names from /proc: only of processes of this host. */
	in.name = s->replay ? NULL : pid_name;
	in.retire = s->replay ? NULL : pid_retire;
	in.alive_arg = s;
	in.cells = s->src->cells;
	err = metrics_update(s->metrics, &in);
	kvmexit_snapshot_free(snap);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->render_seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (err) {
		fprintf(stderr, "kvmexit serve: cannot render the metrics: %s (the last page stays)\n",
			kvmexit_strerror(err));
		return err;
	}
	pthread_mutex_lock(&s->lock);
	metrics_publish(s->metrics);
	pthread_mutex_unlock(&s->lock);
	if (s->textfile) {
		size_t len;
		/* Only this thread publishes: no lock needed to read. */
		const char *page = metrics_page(s->metrics, METRICS_TEXT, &len);

		err = write_textfile(s->textfile, page, len);
		if (err)
			fprintf(stderr, "kvmexit serve: cannot write %s: %s (check that its directory "
					"exists and is writable)\n", s->textfile, strerror(-err));
	}
	return err;
}

/* ---------------------------------------------------------- sources */

static int open_source(struct serve *s)
{
	struct source_opts o = {
		.kind = s->replay ? SOURCE_REPLAY : s->count ? SOURCE_COUNT :
			s->bpf ? SOURCE_BPF : SOURCE_SAMPLED,
		.target = s->nr_pids ? KVMEXIT_TARGET_PIDS : KVMEXIT_TARGET_SYSTEM,
		.pids = s->pids,
		.nr_pids = s->nr_pids,
		.mmap_pages = s->mmap_pages,
		.cmdline = "kvmexit serve",
		.path = s->replay,
		/* --once replays as fast as the capture can be read. */
		.speed = s->once ? 1e9 : s->speed,
	};
	char err[512];
	int ret = source_open(&o, &s->src, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "kvmexit serve: %s\n", err);
		return 1;
	}
	ret = source_start(s->src);
	if (ret < 0) {
		fprintf(stderr, "kvmexit serve: %s\n",
			s->src->errmsg[0] ? s->src->errmsg : kvmexit_strerror(ret));
		return 1;
	}
	s->running = true;
	return 0;
}

/*
 * Runs the source to the end of the interval in slices of 100 ms, so that
 * SIGTERM is seen soon.  Returns 1 while it runs, 0 once it ended.
 */
static int run_interval(struct serve *s, uint64_t until)
{
	int r = 1;

	while (r == 1 && !stop_requested && (until == UINT64_MAX || source_now(s->src) < until))
		r = source_run(s->src, until, 100);
	if (r < 0)
		fprintf(stderr, "kvmexit serve: %s\n", s->src->errmsg);
	return r;
}

static int loop(struct serve *s)
{
	uint64_t interval_ns = (uint64_t)(s->interval * 1e9);

	while (!stop_requested) {
		if (s->running) {
			int r = run_interval(s, source_now(s->src) + interval_ns);

			if (r < 0)
				return 1;
			if (r == 0) {
				s->running = false;
				/* A live source that ended (its processes exited): done. */
				if (!s->replay) {
					update(s);
					break;
				}
			}
		} else {
			struct timespec ts = { .tv_sec = (time_t)s->interval,
					       .tv_nsec = (long)((s->interval - (double)(time_t)s->interval) * 1e9) };

			/* The capture is read: the page only refreshes. A signal ends the sleep. */
			nanosleep(&ts, NULL);
		}
		if (!stop_requested)
			update(s);
	}
	if (s->running) {
		/* Drain what was recorded (run() returns 0 soon after a stop)... */
		source_stop(s->src);
		for (int i = 0; i < 50 && source_run(s->src, UINT64_MAX, 100) == 1; i++)
			;
		s->running = false;
		/* ...so that a textfile's last page holds every exit until the end. */
		if (s->textfile)
			update(s);
	}
	return 0;
}

/* ---------------------------------------------------------- options */

static bool parse_secs(const char *arg, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min) || v > 86400.0 * 365)
		return false;
	*out = v;
	return true;
}

static bool parse_count(const char *arg, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > max)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_PER_VCPU = 256, OPT_HIST_PER_VM, OPT_MAX_SERIES, OPT_GRACE, OPT_BUCKETS,
	OPT_ONCE, OPT_OPENMETRICS,
};

static int parse_args(struct serve *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "replay", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 's' },
		{ "count", no_argument, NULL, 'c' },
		{ "bpf", no_argument, NULL, 'B' },
		{ "pid", required_argument, NULL, 'p' },
		{ "mmap-pages", required_argument, NULL, 'm' },
		{ "per-vcpu", no_argument, NULL, OPT_PER_VCPU },
		{ "histogram-per-vm", no_argument, NULL, OPT_HIST_PER_VM },
		{ "max-series", required_argument, NULL, OPT_MAX_SERIES },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "buckets-per-octave", required_argument, NULL, OPT_BUCKETS },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "openmetrics", no_argument, NULL, OPT_OPENMETRICS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	double grace = 300;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:t:i:r:s:cBp:m:h", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			s->listen = optarg;
			break;
		case 't':
			s->textfile = optarg;
			break;
		case 'i':
			if (!parse_secs(optarg, 0.01, &s->interval))
				return usage_error("give a positive number of seconds to --interval, not '%s'", optarg);
			break;
		case 'r':
			s->replay = optarg;
			break;
		case 's':
			if (!parse_secs(optarg, 0.001, &s->speed))
				return usage_error("give a positive factor to --speed, not '%s'", optarg);
			break;
		case 'c':
			s->count = true;
			break;
		case 'B':
			s->bpf = true;
			break;
		case 'p':
			if (opt_parse_pids(optarg, &s->pids, &s->nr_pids) < 0)
				return usage_error("--pid wants process ids, comma separated, not '%s'", optarg);
			break;
		case 'm':
			if (!parse_count(optarg, 1u << 20, &v) || (v & (v - 1)))
				return usage_error("give a power of 2 to --mmap-pages, not '%s'", optarg);
			s->mmap_pages = (uint32_t)v;
			break;
		case OPT_PER_VCPU:
			s->mo.per_vcpu = true;
			break;
		case OPT_HIST_PER_VM:
			s->mo.histogram_per_vm = true;
			break;
		case OPT_MAX_SERIES:
			if (!parse_count(optarg, 100000000, &v))
				return usage_error("give a positive number to --max-series, not '%s'", optarg);
			s->mo.max_series = v;
			break;
		case OPT_GRACE:
			if (!parse_secs(optarg, 0, &grace))
				return usage_error("give a number of seconds (0 or more) to --grace, not '%s'", optarg);
			break;
		case OPT_BUCKETS:
			if (!parse_count(optarg, 8, &v) || (v & (v - 1)))
				return usage_error("--buckets-per-octave takes 1, 2, 4 or 8, not '%s'", optarg);
			s->mo.per_octave = (unsigned int)v;
			break;
		case OPT_ONCE:
			s->once = true;
			break;
		case OPT_OPENMETRICS:
			s->openmetrics = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' requires an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (s->replay && (s->nr_pids || s->count || s->bpf))
		return usage_error("%s", "--pid, --count and --bpf are for live sources; a replay serves the whole capture");
	if (s->count && s->bpf)
		return usage_error("%s", "--count and --bpf are two sources: give one");
	s->mo.grace_ns = (uint64_t)(grace * 1e9);
	s->mo.source = s->replay ? "replay" : s->count ? "count" : s->bpf ? "bpf" : "sampled";
	s->mo.version = PACKAGE_VERSION;
	if (!s->listen && !s->textfile && !s->once)
		s->listen = DEFAULT_LISTEN;
	if (s->listen) {
		struct sockaddr_storage ss;
		bool v6;

		if (parse_listen(s->listen, &ss, &v6) < 0)
			return usage_error("--listen wants ADDR:PORT (127.0.0.1:9595, [::1]:9595), not '%s'",
					   s->listen);
	}
	return -1;
}

int cmd_serve(int argc, char **argv)
{
	struct serve s = { .interval = 5, .speed = 1, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	ret = parse_args(&s, argc, argv);
	if (ret >= 0) {
		free(s.pids);
		return ret;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = metrics_new(&s.mo, &s.metrics);
	if (ret < 0) {
		fprintf(stderr, "kvmexit serve: %s\n", kvmexit_strerror(ret));
		free(s.pids);
		return 1;
	}
	ret = open_source(&s);
	if (!ret && s.once) {
		/* A replay to its end; a live source for one interval. */
		int r = run_interval(&s, s.replay ? UINT64_MAX
						  : source_now(s.src) + (uint64_t)(s.interval * 1e9));

		if (r < 0)
			ret = 1;
		s.running = r == 1;
	}
	if (!ret && update(&s) && s.once)
		ret = 1;
	if (!ret && s.once && !s.textfile) {
		size_t len;
		const char *page = metrics_page(s.metrics, s.openmetrics ? METRICS_OPENMETRICS : METRICS_TEXT,
						&len);

		if (fwrite(page, 1, len, stdout) != len || fflush(stdout))
			ret = 1;
	}
	if (!ret && !s.once && s.listen)
		ret = start_http(&s);
	if (!ret && !s.once)
		ret = loop(&s);
	else if (s.src && s.running)
		source_stop(s.src);
	if (s.httpd)
		MHD_stop_daemon(s.httpd);
	source_free(s.src);
	metrics_free(s.metrics);
	free(s.pids);
	return ret;
}
