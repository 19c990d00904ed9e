// SPDX-License-Identifier: GPL-2.0-only
/*
 * fault-shim.so: an LD_PRELOAD library that makes chosen system calls fail,
 * so the record error paths can be tested (as kmod's testsuite does).
 * Set in the environment:
 *   FAULT_PERF_EVENT_OPEN=EACCES|EPERM|EMFILE|ENOENT
 *	every perf_event_open (through syscall()) fails with that errno
 *   FAULT_BPF=EPERM|...
 *	every bpf() (through syscall(), as libbpf calls it) fails with that errno
 *   FAULT_ENOENT=SUBSTRING
 *	open, openat and access of a path containing SUBSTRING: ENOENT
 *   FAULT_ENOSPC_PATH=SUBSTRING FAULT_ENOSPC_AFTER=N
 *	write and pwrite to a file whose path contains SUBSTRING fail with
 *	ENOSPC once N bytes have been written to it (a partial write first)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int errno_named(const char *name)
{
	static const struct { const char *name; int err; } tab[] = {
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "EMFILE", EMFILE },
		{ "ENOENT", ENOENT }, { "ENOSPC", ENOSPC }, { "EBUSY", EBUSY },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(name, tab[i].name))
			return tab[i].err;
	return EIO;
}

static void *next(const char *sym)
{
	return dlsym(RTLD_NEXT, sym);
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	const char *f = getenv("FAULT_PERF_EVENT_OPEN");
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_perf_event_open && f && *f) {
		errno = errno_named(f);
		return -1;
	}
	f = getenv("FAULT_BPF");
	if (nr == SYS_bpf && f && *f) {
		errno = errno_named(f);
		return -1;
	}
	if (!real)
		real = next("syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int enoent(const char *path)
{
	const char *f = getenv("FAULT_ENOENT");

	if (path && f && *f && strstr(path, f)) {
		errno = ENOENT;
		return 1;
	}
	return 0;
}

#define OPEN_LIKE(name, ...)							\
	int name(__VA_ARGS__, int flags, ...)					\
	{									\
		static int (*real)(__VA_ARGS__, int, ...);			\
		mode_t mode = 0;						\
		va_list ap;							\
										\
		va_start(ap, flags);						\
		if (flags & (O_CREAT | O_TMPFILE))				\
			mode = va_arg(ap, mode_t);				\
		va_end(ap);							\
		if (enoent(path))						\
			return -1;						\
		if (!real)							\
			real = next(#name);					\
		return OPEN_CALL;						\
	}

#define OPEN_CALL real(path, flags, mode)
OPEN_LIKE(open, const char *path)
OPEN_LIKE(open64, const char *path)
#undef OPEN_CALL
#define OPEN_CALL real(dirfd, path, flags, mode)
OPEN_LIKE(openat, int dirfd, const char *path)
OPEN_LIKE(openat64, int dirfd, const char *path)
#undef OPEN_CALL

int access(const char *path, int mode)
{
	static int (*real)(const char *, int);

	if (enoent(path))
		return -1;
	if (!real)
		real = next("access");
	return real(path, mode);
}

static long long written;	/* to the file of FAULT_ENOSPC_PATH */

/* How many more bytes fd may take; -1: no limit. */
static long long room(int fd)
{
	const char *p = getenv("FAULT_ENOSPC_PATH"), *after = getenv("FAULT_ENOSPC_AFTER");
	char link[64], target[4096];
	ssize_t n;

	if (!p || !*p || !after)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -1;
	target[n] = '\0';
	if (!strstr(target, p))
		return -1;
	return written >= atoll(after) ? 0 : atoll(after) - written;
}

/* Cuts count to the room left; 0: fail with ENOSPC. */
static int limit(int fd, size_t *count, long long *left)
{
	*left = room(fd);
	if (*left == 0 && *count) {
		errno = ENOSPC;
		return 0;
	}
	if (*left > 0 && (long long)*count > *left)
		*count = (size_t)*left;
	return 1;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	static ssize_t (*real)(int, const void *, size_t);
	long long left;
	ssize_t r;

	if (!limit(fd, &count, &left))
		return -1;
	if (!real)
		real = next("write");
	r = real(fd, buf, count);
	if (r > 0 && left >= 0)
		written += r;
	return r;
}

#define PWRITE(name, off_type)							\
	ssize_t name(int fd, const void *buf, size_t count, off_type off)	\
	{									\
		static ssize_t (*real)(int, const void *, size_t, off_type);	\
		long long left;							\
		ssize_t r;							\
										\
		if (!limit(fd, &count, &left))					\
			return -1;						\
		if (!real)							\
			real = next(#name);					\
		r = real(fd, buf, count, off);					\
		if (r > 0 && left >= 0)						\
			written += r;						\
		return r;							\
	}

PWRITE(pwrite, off_t)
PWRITE(pwrite64, off64_t)
