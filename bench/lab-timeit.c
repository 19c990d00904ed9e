// SPDX-License-Identifier: GPL-2.0-only
/*
 * lab-timeit LABEL COMMAND [ARG]...: runs COMMAND and prints to stderr
 * "LABEL REAL USER SYS" in seconds with microseconds (busybox time gives
 * hundredths, too coarse for bench/lab-bpf-bench's per-exit costs).
 * Exits with COMMAND's status.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: lab-timeit LABEL COMMAND [ARG]...\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("lab-timeit: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("lab-timeit: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("lab-timeit: wait4");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%s %.6f %.6f %.6f\n", argv[1],
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		secs(&ru.ru_utime), secs(&ru.ru_stime));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
