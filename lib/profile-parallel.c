// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a large file-mode capture on several threads.
 *
 * The data section is cut into parts at round records
 * (kx_capture_split()); each part is walked by its own reader into its own
 * profile, on its own thread (part 0 on the caller's), and the part
 * profiles are merged in file order (kx_profile_merge()).  The result is
 * exactly the single walk's: each seam is checked to have delivered what a
 * single walk would (kx_capture_parts_agree()); when one did not, or any
 * part failed (a damaged capture, whose error message the single walk
 * gives), the caller walks the capture on one thread instead.
 *
 * Not used with top RIPs: the first RIPS_MAX distinct RIPs of a reason are
 * kept in event order, which part profiles cannot reproduce.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define PARTS_MAX 64
#define PARTS_AUTO_MAX 8		/* each part holds a window and a queue */
#define PART_MIN_AUTO (64ULL << 20)	/* smaller parts are not worth a thread */
#define PART_MIN_ASKED (4ULL << 10)	/* threads asked for: split even small files */

struct part_job {
	struct kvmexit_capture *cap;
	struct kvmexit_profile *prof;
	pthread_t thread;
	bool started;
	int err;
};

static void *part_run(void *arg)
{
	struct part_job *job = arg;

	job->err = kx_capture_part_walk(job->cap, kx_profile_add_events, job->prof);
	return NULL;
}

/* The CPUs this process may run on. */
static unsigned int cpus_usable(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set))
		return (unsigned int)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

static int job_init(struct part_job *job, struct kvmexit_capture *cap, uint64_t start,
		    uint64_t end, const struct kvmexit_profile_opts *opts, bool first)
{
	int err = kx_capture_part_new(cap, start, end, &job->cap);

	if (!err)
		err = kvmexit_profile_new(opts, &job->prof);
	if (err)
		return err;
	kvmexit_profile_set_meta(job->prof, kvmexit_capture_meta(cap));
	if (!first)
		kx_profile_set_part(job->prof);
	return 0;
}

static void jobs_release(struct part_job *jobs, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		if (jobs[k].started)
			pthread_join(jobs[k].thread, NULL);
		kvmexit_capture_close(jobs[k].cap);
		kvmexit_profile_free(jobs[k].prof);
	}
	free(jobs);
}

/* Whether every part walked and every seam agrees. */
static bool jobs_agree(const struct part_job *jobs, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		if (jobs[k].err)
			return false;
		if (k && !kx_capture_parts_agree(jobs[k - 1].cap, jobs[k].cap))
			return false;
	}
	return true;
}

/* Runs parts 1.. on threads and part 0 here; an error only if none could run. */
static void jobs_run(struct part_job *jobs, unsigned int n)
{
	for (unsigned int k = 1; k < n; k++) {
		jobs[k].err = pthread_create(&jobs[k].thread, NULL, part_run, &jobs[k]);
		jobs[k].started = !jobs[k].err;
		if (jobs[k].err)
			jobs[k].err = -jobs[k].err;
	}
	part_run(&jobs[0]);
	for (unsigned int k = 1; k < n; k++) {
		if (jobs[k].started)
			pthread_join(jobs[k].thread, NULL);
		jobs[k].started = false;
	}
}

int kx_profile_load_parts(struct kvmexit_capture *cap, const struct kvmexit_profile_opts *opts,
			  struct kvmexit_profile **out)
{
	struct kvmexit_profile_opts o = kx_profile_opts_copy(opts);
	uint32_t threads = o.threads;
	uint64_t starts[PARTS_MAX + 1];
	struct kvmexit_capture *caps[PARTS_MAX];
	struct part_job *jobs;
	unsigned int n;
	int err = 0;

	if (threads == 1 || o.top_rips || o.accesses)
		return 1;
	n = threads ? threads : cpus_usable();
	if (!threads && n > PARTS_AUTO_MAX)
		n = PARTS_AUTO_MAX;
	n = kx_capture_split(cap, n < PARTS_MAX ? n : PARTS_MAX,
			     threads ? PART_MIN_ASKED : PART_MIN_AUTO, starts);
	if (n < 2)
		return 1;
	jobs = calloc(n, sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	for (unsigned int k = 0; k < n && !err; k++)
		err = job_init(&jobs[k], cap, starts[k], starts[k + 1], opts, k == 0);
	if (!err)
		jobs_run(jobs, n);
	if (err || !jobs_agree(jobs, n)) {
		jobs_release(jobs, n);
		return err == -ENOMEM ? err : 1;
	}
	for (unsigned int k = 1; k < n && !err; k++)
		err = kx_profile_merge(jobs[0].prof, jobs[k].prof);
	if (err) {
		jobs_release(jobs, n);
		return err;
	}
	for (unsigned int k = 0; k < n; k++)
		caps[k] = jobs[k].cap;
	kx_capture_parts_fold(cap, caps, n);
	*out = jobs[0].prof;
	jobs[0].prof = NULL;
	jobs_release(jobs, n);
	return 0;
}
