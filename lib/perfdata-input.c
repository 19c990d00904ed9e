// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reader's input: a file or a stream, read once, through one buffer.
 *
 * Headers, features and pipes go through one buffer of KX_RD_BUF bytes
 * (read(2), or pread(2) so that parts of one file can share its
 * descriptor); a file-mode data section is read through mapped windows of
 * KX_MAP_WINDOW bytes, one at a time (the page cache mapped, not copied).
 * Memory does not grow with the file.  Reads stop at rd->limit (the end of
 * a section or of a part's range).  kx_rd_read(), kx_rd_skip() and
 * kx_rd_offset() are for the tracing data walker (internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfdata-read.h"

int kx_rd_init(struct kx_rd *rd, int fd)
{
	struct stat st;

	rd->fd = fd;
	rd->seekable = !fstat(fd, &st) && S_ISREG(st.st_mode) &&
		       lseek(fd, 0, SEEK_CUR) == 0;
	rd->buf = rd->heap = malloc(KX_RD_BUF + KX_RD_SLACK);
	rd->limit = UINT64_MAX;
	if (rd->seekable)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return rd->buf ? 0 : -ENOMEM;
}

void kx_rd_unmap(struct kx_rd *rd)
{
	if (rd->map)
		munmap(rd->map, rd->map_len);
	rd->map = NULL;
	rd->buf = rd->heap;
	rd->head = rd->tail = 0;
}

/*
 * Windows of the file instead of read(2) into the buffer, from now on (a
 * file-mode data walk): page cache pages are mapped, not copied, which
 * costs next to nothing when the cache holds the file in large folios.
 * Each window is KX_MAP_WINDOW bytes and replaced by the next, so memory
 * does not grow with the file.
 */
void kx_rd_map_windows(struct kx_rd *rd, uint64_t file_size)
{
	if (rd->seekable)
		rd->map_size = file_size;
}

/* Maps the window holding [off, off + n); 1 when windows cannot be used. */
static int rd_map_fill(struct kx_rd *rd, size_t n)
{
	uint64_t base = rd->off & ~(uint64_t)(KX_MAP_ALIGN - 1);
	size_t len;
	void *m;

	if (rd->off + n > rd->map_size)
		return -KVMEXIT_ETRUNC;
	len = rd->map_size - base < KX_MAP_WINDOW ? (size_t)(rd->map_size - base) : KX_MAP_WINDOW;
	kx_rd_unmap(rd);
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, rd->fd, (off_t)base);
	if (m == MAP_FAILED) {
		rd->map_size = 0;	/* read(2) from now on */
		return 1;
	}
	(void)madvise(m, len, MADV_SEQUENTIAL);
	rd->map = m;
	rd->map_len = len;
	rd->buf = m;
	rd->head = (size_t)(rd->off - base);
	rd->tail = len;
	return 0;
}

/* Makes n bytes (n <= KX_RD_BUF) available at buf[head]. */
int kx_rd_fill(struct kx_rd *rd, size_t n)
{
	if (rd->map_size) {
		int r = rd_map_fill(rd, n);

		if (r <= 0)
			return r;
	}
	if (rd->head + n > KX_RD_BUF) {
		memmove(rd->buf, rd->buf + rd->head, rd->tail - rd->head);
		rd->tail -= rd->head;
		rd->head = 0;
	}
	while (rd->tail - rd->head < n) {
		/* pread: the parts of a parallel walk share the descriptor */
		ssize_t r = rd->seekable ?
			pread(rd->fd, rd->buf + rd->tail, KX_RD_BUF - rd->tail,
			      (off_t)(rd->off + (rd->tail - rd->head))) :
			read(rd->fd, rd->buf + rd->tail, KX_RD_BUF - rd->tail);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -KVMEXIT_ETRUNC;
		rd->tail += r;
	}
	return 0;
}

/* True at a clean end of input (no byte left before the limit or EOF). */
bool kx_rd_at_end(struct kx_rd *rd)
{
	if (rd->off >= rd->limit)
		return true;
	if (rd->tail > rd->head || rd->limit != UINT64_MAX)
		return false;	/* a limited range must reach its limit */
	return kx_rd_fill(rd, 1) == -KVMEXIT_ETRUNC;
}

int kx_rd_seek(struct kx_rd *rd, uint64_t off, uint64_t limit)
{
	if (!rd->seekable || off > INT64_MAX)
		return -ESPIPE;
	rd->head = rd->tail = 0;
	rd->off = off;
	rd->limit = limit;
	return 0;
}

uint64_t kx_rd_offset(const struct kx_rd *rd)
{
	return rd->off;
}

int kx_rd_read(struct kx_rd *rd, void *dst, size_t n)
{
	unsigned char *d = dst;

	while (n) {
		size_t chunk = n < KX_RD_BUF / 2 ? n : KX_RD_BUF / 2;
		const unsigned char *p;
		int err = rd_peek(rd, chunk, &p);

		if (err)
			return err;
		memcpy(d, p, chunk);
		rd_consume(rd, chunk);
		d += chunk;
		n -= chunk;
	}
	return 0;
}

int kx_rd_skip(struct kx_rd *rd, uint64_t n)
{
	size_t avail = rd->tail - rd->head;

	if (rd->off + n > rd->limit || rd->off + n < rd->off)
		return -KVMEXIT_ETRUNC;
	if (n <= avail) {
		rd_consume(rd, n);
		return 0;
	}
	if (rd->seekable) {
		struct stat st;

		/* Past the end of the file is cut short, as read(2) of a pipe finds. */
		if (fstat(rd->fd, &st) || rd->off + n > (uint64_t)st.st_size)
			return -KVMEXIT_ETRUNC;
		return kx_rd_seek(rd, rd->off + n, rd->limit);
	}
	while (n) {
		size_t chunk = n < KX_RD_BUF / 2 ? n : KX_RD_BUF / 2;
		const unsigned char *p;
		int err = rd_peek(rd, chunk, &p);

		if (err)
			return err;
		rd_consume(rd, chunk);
		n -= chunk;
	}
	return 0;
}

/*
 * A file that shrinks while its window is mapped (another process truncated
 * or rewrote it in place) turns the next load from the lost pages into
 * SIGBUS.  Nothing that cannot fault is as fast as the mapped windows, so
 * a walk arms a guard (its sigsetjmp() point and its reader) for its
 * thread, and the handler jumps back to the guard when the faulting
 * address is in a window of one of the thread's guarded readers.
 *
 * This is the library's only process-wide state, because signal
 * dispositions are per process: the handler is installed once (the first
 * walk of a mapped file), the disposition it replaced is kept, and every
 * SIGBUS that is not ours (another address, another thread, a kill(2)) goes
 * to it, or, if it was the default or ignore, kills the process as it
 * would have.  Guards are per thread (a thread-local list), so parallel
 * walks on several threads each catch their own faults.  A program that
 * installs its own SIGBUS handler after the first walk takes the signal
 * back: the library then dies on a shrinking file as it did before.
 */
static _Thread_local struct kx_rd_guard *guard_top;
static struct sigaction bus_prev;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	for (struct kx_rd_guard *g = guard_top; g; g = g->prev) {
		const struct kx_rd *rd = g->rd;
		const unsigned char *a = si->si_addr;

		if (rd->map && a >= rd->map && a < rd->map + rd->map_len)
			siglongjmp(g->env, 1);
	}
	if (bus_prev.sa_flags & SA_SIGINFO) {
		bus_prev.sa_sigaction(sig, si, uc);
	} else if (bus_prev.sa_handler != SIG_DFL && bus_prev.sa_handler != SIG_IGN) {
		bus_prev.sa_handler(sig);
	} else {
		/* As if we had never been here: the default action. */
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
	}
}

static void bus_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &bus_prev))
		bus_prev.sa_handler = SIG_DFL;
}

void kx_rd_guard_arm(struct kx_rd_guard *g, const struct kx_rd *rd)
{
	if (rd->map_size)	/* windows will be mapped */
		pthread_once(&bus_once, bus_install);
	g->rd = rd;
	g->prev = guard_top;
	guard_top = g;
}

void kx_rd_guard_disarm(struct kx_rd_guard *g, bool faulted)
{
	guard_top = g->prev;
	if (faulted) {		/* left the handler by a jump: unblock, just in case */
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGBUS);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
}

int kx_rd_shrank(struct kvmexit_capture *cap)
{
	struct stat st;

	if (fstat(cap->rd.fd, &st))
		st.st_size = 0;
	return kx_capture_fail(cap, -KVMEXIT_ETRUNC, "the file shrank to %lld bytes while it was "
			       "read (another process truncated or rewrote it in place): read it "
			       "again once nothing writes it", (long long)st.st_size);
}
