// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of parallel walks: a file-mode capture read in parts cut at round
 * records (lib/perfdata-parts.c) on several threads (lib/profile-parallel.c).
 *
 *  - For captures of several shapes (time-ordered rounds; rounds written
 *    CPU by CPU, which the reader must sort; lost records; several VMM
 *    processes; 6.1 and 6.18 layouts; stock perf's lab captures; the
 *    example captures), cut into 2 to 5 parts: every seam agrees, the
 *    parts' deliveries concatenated are the single walk's, event by event,
 *    and the counts folded back (samples per event, lost records, start
 *    and end) are the single walk's.
 *  - A capture whose rounds go back in time at a seam: that seam does not
 *    agree (kx_capture_parts_agree()), so the load walks on one thread.
 *  - kvmexit_profile_load() with 1 thread and with 2 to 5, and a profile
 *    fed event by event from kvmexit_capture_for_each(): the same rows of
 *    every group and the same totals.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-skip.h"
#include "internal.h"

static char tmpdir[] = "/tmp/test-capture-parts.XXXXXX";
static char gen[4096];

struct events {
	struct kvmexit_event *v;
	size_t nr, alloc;
};

static int collect(const struct kvmexit_event *ev, void *arg)
{
	struct events *e = arg;

	if (e->nr == e->alloc) {
		e->alloc = e->alloc ? 2 * e->alloc : 4096;
		e->v = realloc(e->v, e->alloc * sizeof(*e->v));
		ck_assert(e->v);
	}
	e->v[e->nr++] = *ev;
	return 0;
}

static int collect_run(const struct kvmexit_event *v, size_t n, void *arg)
{
	for (size_t i = 0; i < n; i++)
		collect(&v[i], arg);
	return 0;
}

static void assert_same(const struct kvmexit_event *a, const struct kvmexit_event *b, size_t i)
{
	ck_assert_msg(a->type == b->type && a->time == b->time && a->pid == b->pid &&
		      a->tid == b->tid && a->cpu == b->cpu, "event %zu differs", i);
	switch (a->type) {
	case KVMEXIT_EV_EXIT:
		ck_assert_msg(a->vcpu == b->vcpu && a->exit.isa == b->exit.isa &&
			      a->exit.exit_reason == b->exit.exit_reason &&
			      a->exit.guest_rip == b->exit.guest_rip &&
			      a->exit.info1 == b->exit.info1 && a->exit.info2 == b->exit.info2 &&
			      a->exit.intr_info == b->exit.intr_info &&
			      a->exit.error_code == b->exit.error_code, "exit %zu differs", i);
		break;
	case KVMEXIT_EV_ENTRY:
		ck_assert_msg(a->vcpu == b->vcpu && a->entry.rip == b->entry.rip,
			      "entry %zu differs", i);
		break;
	case KVMEXIT_EV_LOST:
		ck_assert_msg(a->lost.count == b->lost.count, "lost %zu differs", i);
		break;
	default:
		break;
	}
}

static struct kvmexit_capture *open_capture(const char *path)
{
	struct kvmexit_capture *cap;
	char err[512];
	int ret = kvmexit_capture_open(path, &cap, err, sizeof(err));

	ck_assert_msg(ret == 0, "%s: %s", path, err);
	return cap;
}

/* The single walk of path: its events and its capture, walked. */
static struct kvmexit_capture *walk_whole(const char *path, struct events *out)
{
	struct kvmexit_capture *cap = open_capture(path);

	*out = (struct events){ 0 };
	ck_assert_int_eq(kvmexit_capture_for_each(cap, collect, out), 0);
	return cap;
}

/*
 * Walks path in (at most) n parts, one after the other; returns the number
 * of parts, and in *agree whether every seam agrees.  The concatenated
 * deliveries go to out, the folded counts to the returned capture.
 */
static unsigned int walk_parts(const char *path, unsigned int n, struct events *out,
			       bool *agree, struct kvmexit_capture **folded)
{
	struct kvmexit_capture *cap = open_capture(path), *parts[8];
	uint64_t starts[9];
	unsigned int m = kx_capture_split(cap, n, 4096, starts);

	ck_assert_uint_le(m, n);
	*out = (struct events){ 0 };
	*agree = true;
	for (unsigned int k = 0; k < m; k++) {
		ck_assert_uint_lt(starts[k], starts[k + 1]);
		ck_assert_int_eq(kx_capture_part_new(cap, starts[k], starts[k + 1], &parts[k]), 0);
		if (kx_capture_part_walk(parts[k], collect_run, out))
			*agree = false;
		if (k && !kx_capture_parts_agree(parts[k - 1], parts[k]))
			*agree = false;
	}
	kx_capture_parts_fold(cap, parts, m);
	for (unsigned int k = 0; k < m; k++)
		kvmexit_capture_close(parts[k]);
	*folded = cap;
	return m;
}

static void assert_parts_match(const char *path, unsigned int min_parts)
{
	struct events whole, cut;
	struct kvmexit_capture *w = walk_whole(path, &whole), *f;
	const struct kvmexit_meta *mw = kvmexit_capture_meta(w);

	for (unsigned int n = 2; n <= 5; n++) {
		bool agree;
		unsigned int m = walk_parts(path, n, &cut, &agree, &f);
		const struct kvmexit_meta *mf = kvmexit_capture_meta(f);

		ck_assert_msg(m >= (n < min_parts ? n : min_parts),
			      "%s: %u parts asked, %u made", path, n, m);
		ck_assert_msg(m < 2 || agree, "%s in %u parts: a seam disagrees", path, m);
		ck_assert_uint_eq(cut.nr, whole.nr);
		for (size_t i = 0; i < whole.nr; i++)
			assert_same(&cut.v[i], &whole.v[i], i);
		ck_assert_uint_eq(kx_capture_nr_samples(f, "kvm", "kvm_exit"),
				  kx_capture_nr_samples(w, "kvm", "kvm_exit"));
		ck_assert_uint_eq(kx_capture_nr_samples(f, "kvm", "kvm_entry"),
				  kx_capture_nr_samples(w, "kvm", "kvm_entry"));
		ck_assert_uint_eq(mf->start_ns, mw->start_ns);
		ck_assert_uint_eq(mf->end_ns, mw->end_ns);
		ck_assert_uint_eq(mf->lost, mw->lost);
		kvmexit_capture_close(f);
		free(cut.v);
	}
	kvmexit_capture_close(w);
	free(whole.v);
}

/* ------------------------------------------------------------ profiles */

static struct kvmexit_profile *load(const char *path, uint32_t threads)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o), .threads = threads };
	struct kvmexit_profile *p;
	char err[512];
	int ret = kvmexit_profile_load(path, &o, &p, err, sizeof(err));

	ck_assert_msg(ret == 0, "%s: %s", path, err);
	return p;
}

static void assert_same_stats(const struct kvmexit_stat *a, const struct kvmexit_stat *b, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_msg(a[i].isa == b[i].isa && a[i].reason == b[i].reason &&
			      a[i].detail == b[i].detail && a[i].pid == b[i].pid &&
			      a[i].vcpu == b[i].vcpu && a[i].count == b[i].count &&
			      a[i].timed == b[i].timed && a[i].time_total == b[i].time_total &&
			      a[i].time_min == b[i].time_min && a[i].time_max == b[i].time_max &&
			      a[i].time_p50 == b[i].time_p50 && a[i].time_p99 == b[i].time_p99,
			      "row %d differs", i);
}

static int add_cb(const struct kvmexit_event *ev, void *prof)
{
	return kvmexit_profile_add_event(prof, ev);
}

/* The profile of the public, event by event, route: for_each + add_event. */
static struct kvmexit_profile *load_by_event(const char *path)
{
	struct kvmexit_capture *cap = open_capture(path);
	struct kvmexit_profile *p;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	kvmexit_profile_set_meta(p, kvmexit_capture_meta(cap));
	ck_assert_int_eq(kvmexit_capture_for_each(cap, add_cb, p), 0);
	kvmexit_profile_set_meta(p, kvmexit_capture_meta(cap));
	kvmexit_capture_close(cap);
	return p;
}

static const enum kvmexit_group groups[] = {
	KVMEXIT_GROUP_REASON, KVMEXIT_GROUP_DETAIL, KVMEXIT_GROUP_VCPU,
	KVMEXIT_GROUP_PID, KVMEXIT_GROUP_CATEGORY,
};

static void assert_same_profile(const struct kvmexit_profile *one, const struct kvmexit_profile *other,
				const char *path, uint32_t threads)
{
	struct kvmexit_profile_totals t1, tn;

	kvmexit_profile_totals(one, &t1);
	kvmexit_profile_totals(other, &tn);
	ck_assert_msg(t1.events == tn.events && t1.exits == tn.exits && t1.entries == tn.entries &&
		      t1.timed == tn.timed && t1.dropped_pairs == tn.dropped_pairs &&
		      t1.unpaired == tn.unpaired && t1.lost == tn.lost &&
		      t1.other_events == tn.other_events && t1.time_total_ns == tn.time_total_ns &&
		      t1.first_ns == tn.first_ns && t1.last_ns == tn.last_ns &&
		      t1.duration_ns == tn.duration_ns && t1.nr_vcpus == tn.nr_vcpus &&
		      t1.nr_pids == tn.nr_pids && t1.isa == tn.isa,
		      "%s: totals differ (%u threads)", path, threads);
	for (size_t g = 0; g < KX_ARRAY_SIZE(groups); g++) {
		struct kvmexit_stat *a, *b;
		int na = kvmexit_profile_stats(one, groups[g], &a);
		int nb = kvmexit_profile_stats(other, groups[g], &b);

		ck_assert_int_eq(na, nb);
		assert_same_stats(a, b, na);
		kvmexit_stats_free(a);
		kvmexit_stats_free(b);
	}
}

/* Loads with 1 to 5 threads, and event by event: all the same. */
static void assert_profiles_match(const char *path)
{
	struct kvmexit_profile *one = load(path, 1), *by_event = load_by_event(path);

	assert_same_profile(one, by_event, path, 0);
	kvmexit_profile_free(by_event);
	for (uint32_t threads = 2; threads <= 5; threads++) {
		struct kvmexit_profile *many = load(path, threads);

		assert_same_profile(one, many, path, threads);
		kvmexit_profile_free(many);
	}
	kvmexit_profile_free(one);
}

/* ------------------------------------------------------------ captures */

struct shape {
	const char *name, *args;
	unsigned int min_parts;		/* parts the split must make of 5 asked */
};

static const struct shape shapes[] = {
	{ "ordered", "--isa vmx --layout 6.18 --pairs 20000 --round 500", 5 },
	{ "per-cpu", "--isa vmx --layout 6.1 --pairs 20000 --round 700 --vcpus 8 --cpus 4 --per-cpu", 5 },
	{ "svm-lost-pids", "--isa svm --layout 6.1 --pairs 15000 --round 300 --vcpus 6 --cpus 3 "
	  "--pids 3 --lost-every 777 --per-cpu", 5 },
	{ "one-round-each", "--isa svm --layout 6.18 --pairs 3000 --round 1 --vcpus 4 --cpus 2", 5 },
};

static void shape_path(const struct shape *s, char *path, size_t size)
{
	snprintf(path, size, "%s/%s.data", tmpdir, s->name);
}

static void make_shapes(void)
{
	for (size_t i = 0; i < KX_ARRAY_SIZE(shapes); i++) {
		char path[512], cmd[8192];

		shape_path(&shapes[i], path, sizeof(path));
		snprintf(cmd, sizeof(cmd), "%s %s -o %s", gen, shapes[i].args, path);
		if (system(cmd)) {
			fprintf(stderr, "failed: %s\n", cmd);
			exit(1);
		}
	}
}

/* Stock perf's captures and the examples: they may be too small to cut. */
static const char *const stock[] = {
	TESTS_DATADIR "/lab-npt0.perf.data",
	TESTS_DATADIR "/lab-npt1.perf.data",
	TESTS_DATADIR "/lab-npt1.kvmstat.perf.data",
	TESTS_DATADIR "/perf-kvm-pio20.file.data",
	TESTS_DATADIR "/perf-z-pio.file.data",
	TESTS_DATADIR "/perf-z-kvmstat.data",
	TESTS_DATADIR "/../../examples/npt-on.perf.data",
	TESTS_DATADIR "/../../examples/npt-off.perf.data",
};

START_TEST(test_shape_parts)
{
	char path[512];

	shape_path(&shapes[_i], path, sizeof(path));
	assert_parts_match(path, shapes[_i].min_parts);
}
END_TEST

START_TEST(test_stock_parts)
{
	assert_parts_match(stock[_i], 1);
}
END_TEST

START_TEST(test_shape_profiles)
{
	char path[512];

	shape_path(&shapes[_i], path, sizeof(path));
	assert_profiles_match(path);
}
END_TEST

START_TEST(test_stock_profiles)
{
	assert_profiles_match(stock[_i]);
}
END_TEST

/*
 * Rounds of 100 pairs; round 10 ends with a pair at a much later time,
 * and the rounds after it go on from where round 9 stopped: a part that
 * starts after round 10 cannot know what a single walk would deliver.
 */
static void write_backwards(const char *path)
{
	struct kvmexit_writer *w;
	char err[256], fpath[512], *text[2];
	const char *names[2] = { "kvm_exit", "kvm_entry" };

	ck_assert_int_eq(kvmexit_writer_open(path, NULL, &w, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		FILE *f;
		long n;

		snprintf(fpath, sizeof(fpath), "%s/%s.format.6.18.txt", TESTS_DATADIR, names[i]);
		f = fopen(fpath, "r");
		ck_assert(f);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		text[i] = calloc(1, (size_t)n + 1);
		ck_assert_int_eq(fread(text[i], 1, (size_t)n, f), (size_t)n);
		fclose(f);
		ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", text[i]), i);
		free(text[i]);
	}
	for (uint64_t r = 0, t = 1000000; r < 40; r++) {
		for (int i = 0; i < 100; i++, t += 1000) {
			struct kvmexit_event ex = {
				.type = KVMEXIT_EV_EXIT, .time = r == 10 && i == 99 ? 900000000 : t,
				.pid = 4000, .tid = 5000 + i % 2, .cpu = (uint32_t)(i % 2),
				.vcpu = (uint32_t)(i % 2),
				.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = i % 3 ? 48 : 12 },
			};
			struct kvmexit_event en = ex;

			en.type = KVMEXIT_EV_ENTRY;
			en.time = ex.time + 500;
			ck_assert_int_eq(kvmexit_writer_write_event(w, &ex), 0);
			ck_assert_int_eq(kvmexit_writer_write_event(w, &en), 0);
		}
		ck_assert_int_eq(kvmexit_writer_finish_round(w), 0);
	}
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
}

START_TEST(test_backwards_seam)
{
	struct kvmexit_capture *f;
	struct events cut;
	char path[512];
	bool agree;

	snprintf(path, sizeof(path), "%s/backwards.data", tmpdir);
	write_backwards(path);
	/* In 3 parts, the 2nd and 3rd begin after round 10. */
	ck_assert_uint_eq(walk_parts(path, 3, &cut, &agree, &f), 3);
	ck_assert(!agree);
	kvmexit_capture_close(f);
	free(cut.v);
	assert_profiles_match(path);
}
END_TEST

/* ------------------------------------------------------------ shrinking */

static const char *shrink_path;

/* The first delivery truncates the file being read to 4096 bytes. */
static int shrink_once(const struct kvmexit_event *ev, size_t n, void *arg)
{
	int *calls = arg;

	(void)ev;
	(void)n;
	if (!(*calls)++)
		ck_assert_int_eq(truncate(shrink_path, 4096), 0);
	return 0;
}

static int shrink_once_fn(const struct kvmexit_event *ev, void *arg)
{
	return shrink_once(ev, 1, arg);
}

/*
 * A file truncated by another process while its mapped window is read:
 * the loads from the lost pages raise SIGBUS, which the walk turns into an
 * error, one walk or in parts.
 */
START_TEST(test_shrink_while_reading)
{
	struct kvmexit_capture *cap, *part;
	char path[512], want[1024], err[512];
	uint64_t starts[3];
	int calls;

	snprintf(path, sizeof(path), "%s/shrink.data", tmpdir);
	shrink_path = path;
	snprintf(want, sizeof(want), "%s: the file shrank to 4096 bytes while it was read "
		 "(another process truncated or rewrote it in place): read it again once "
		 "nothing writes it", path);
	for (int mode = 0; mode < 3; mode++) {
		unlink(path);
		write_backwards(path);
		calls = 0;
		ck_assert_int_eq(kvmexit_capture_open(path, &cap, err, sizeof(err)), 0);
		if (mode == 0) {
			ck_assert_int_eq(kvmexit_capture_for_each(cap, shrink_once_fn, &calls),
					 -KVMEXIT_ETRUNC);
			ck_assert_str_eq(kvmexit_capture_errmsg(cap), want);
		} else if (mode == 1) {
			ck_assert_int_eq(kx_capture_for_each_batch(cap, shrink_once, &calls),
					 -KVMEXIT_ETRUNC);
			ck_assert_str_eq(kvmexit_capture_errmsg(cap), want);
		} else {
			ck_assert_uint_eq(kx_capture_split(cap, 2, 4096, starts), 2);
			ck_assert_int_eq(kx_capture_part_new(cap, starts[0], starts[1], &part), 0);
			ck_assert_int_eq(kx_capture_part_walk(part, shrink_once, &calls),
					 -KVMEXIT_ETRUNC);
			ck_assert_str_eq(kvmexit_capture_errmsg(part), want);
			kvmexit_capture_close(part);
		}
		ck_assert_int_eq(calls, mode == 0 ? 200 : 1);	/* the first round's events */
		kvmexit_capture_close(cap);
	}
}
END_TEST

static volatile sig_atomic_t app_handler_ran;

static void app_handler(int sig)
{
	(void)sig;
	app_handler_ran = 1;
}

/*
 * SIGBUS that is not a window's goes where it went before the library's
 * handler came: to the program's own handler, or the default action.
 */
START_TEST(test_sigbus_chained)
{
	char path[512];
	struct events ev;
	struct kvmexit_capture *cap;
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/chain.data", tmpdir);
	unlink(path);
	write_backwards(path);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {			/* the default action: killed by SIGBUS */
		cap = walk_whole(path, &ev);
		raise(SIGBUS);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* under ASan, its own handler was the one before ours: it reports and exits 1 */
	ck_assert_msg(WIFSIGNALED(status) ? WTERMSIG(status) == SIGBUS : WEXITSTATUS(status) != 0,
		      "status 0x%x: the SIGBUS did not end the process", status);

	ck_assert(signal(SIGBUS, app_handler) != SIG_ERR);
	cap = walk_whole(path, &ev);
	ck_assert_uint_eq(ev.nr, 8000);
	raise(SIGBUS);
	ck_assert_int_eq(app_handler_ran, 1);
	kvmexit_capture_close(cap);
	free(ev.v);
}
END_TEST

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static Suite *suite(void)
{
	Suite *s = suite_create("capture-parts");
	TCase *tc = tcase_create("parts");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_shape_parts, 0, KX_ARRAY_SIZE(shapes));
	tcase_add_loop_test(tc, test_stock_parts, 0, KX_ARRAY_SIZE(stock));
	tcase_add_loop_test(tc, test_shape_profiles, 0, KX_ARRAY_SIZE(shapes));
	tcase_add_loop_test(tc, test_stock_profiles, 0, KX_ARRAY_SIZE(stock));
	tcase_add_test(tc, test_backwards_seam);
	tcase_add_test(tc, test_shrink_while_reading);
	tcase_add_test(tc, test_sigbus_chained);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *top = getenv("top_builddir");
	struct stat st;
	int failed;

	snprintf(gen, sizeof(gen), "%s/tests/gen-capture", top ? top : ".");
	if (stat(gen, &st))
		check_skip_all("tests/gen-capture is not built");
	if (!mkdtemp(tmpdir))
		check_skip_all("cannot make a temporary directory");
	make_shapes();
	failed = check_run(suite());
	cleanup();
	return failed;
}
