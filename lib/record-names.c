// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recorder's names: what a capture needs so that kvmexit report and
 * perf script name processes, VMs and vCPU threads.  When a process is
 * first recorded (a -p target at the start, else its first sample), it
 * reads ROOT/proc/PID/cmdline for its VM name (kvmexit_vm_name(), stored
 * in the metadata) and ROOT/proc/PID/task/TID/comm for every thread, and
 * writes a PERF_RECORD_COMM for each, as perf synthesizes them for threads
 * that existed before it started.  Later renames (QEMU names its vCPU
 * threads "CPU N/KVM"), execs and new threads come from the kernel: the
 * first event's attr has comm, comm_exec and task set, and the recorder
 * keeps the COMM and FORK records of known processes (kx_rec_names_known()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CMDLINE_MAX (256u << 10)	/* libvirt's QEMU lines run to ~10 KiB */

bool kx_rec_names_known(struct kx_rec_names *n, int32_t pid)
{
	size_t lo = 0, hi = n->nr;

	if (n->nr && pid == n->last)
		return true;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (n->pids[mid] == pid) {
			n->last = pid;
			return true;
		}
		if (n->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int remember(struct kx_rec_names *n, int32_t pid)
{
	size_t i = n->nr;

	if (n->nr == n->alloc) {
		size_t a = n->alloc ? n->alloc * 2 : 16;
		int32_t *p = realloc(n->pids, a * sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->pids = p;
		n->alloc = a;
	}
	while (i > 0 && n->pids[i - 1] > pid) {
		n->pids[i] = n->pids[i - 1];
		i--;
	}
	n->pids[i] = pid;
	n->nr++;
	n->last = pid;
	return 0;
}

/* Reads up to size bytes of a file; returns the length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -1;
	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

static size_t put(unsigned char *p, size_t o, const void *v, size_t n)
{
	memcpy(p + o, v, n);
	return o + n;
}

/*
 * The COMM record of one thread, as the kernel writes it with sample_id_all:
 * pid, tid, the name NUL-padded to 8 bytes, then the trailer of the
 * recorder's sample_type (TID, TIME, CPU, IDENTIFIER).
 */
int kx_rec_write_comm(struct kvmexit_writer *w, const struct kx_rec_comm_ctx *ctx,
		      int32_t pid, int32_t tid, const char *comm)
{
	uint64_t words[(8 + 8 + 16 + 32) / 8] = { 0 };
	unsigned char *rec = (unsigned char *)words;
	size_t len = strnlen(comm, 15), own = (len + 1 + 7) & ~(size_t)7, o = 8;
	struct perf_event_header h = { .type = PERF_RECORD_COMM };
	uint32_t res = 0;

	o = put(rec, o, &pid, 4);
	o = put(rec, o, &tid, 4);
	memcpy(rec + o, comm, len);
	o += own;
	o = put(rec, o, &pid, 4);
	o = put(rec, o, &tid, 4);
	o = put(rec, o, &ctx->time, 8);
	o = put(rec, o, &ctx->cpu, 4);
	o = put(rec, o, &res, 4);
	o = put(rec, o, &ctx->id, 8);
	h.size = (uint16_t)o;
	memcpy(rec, &h, sizeof(h));
	return kx_writer_write_record(w, (const struct perf_event_header *)rec);
}

int kx_rec_name_process(struct kx_rec_names *n, const char *root, int32_t pid,
			const struct kx_rec_comm_ctx *ctx, struct kvmexit_meta *meta,
			struct kvmexit_writer *w)
{
	char path[PATH_MAX], comm[32], name[sizeof(meta->vms[0].name)], *cmdline;
	struct dirent *de;
	ssize_t len;
	DIR *d;
	int err = remember(n, pid);

	if (err)
		return err;
	cmdline = malloc(CMDLINE_MAX);
	if (!cmdline)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/proc/%d/cmdline", root, (int)pid);
	len = read_file(path, cmdline, CMDLINE_MAX);
	if (len > 0 && kvmexit_vm_name(cmdline, (size_t)len, name, sizeof(name)) > 0)
		(void)kx_meta_set_vm(meta, pid, name);	/* a full table: comm names it */
	free(cmdline);
	if (!w)
		return 0;
	snprintf(path, sizeof(path), "%s/proc/%d/task", root, (int)pid);
	d = opendir(path);
	if (!d)
		return 0;		/* gone already: its records say what they can */
	while (!err && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || tid <= 0 || tid > INT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/proc/%d/task/%ld/comm", root, (int)pid, tid);
		len = read_file(path, comm, sizeof(comm) - 1);
		if (len <= 0)
			continue;
		comm[len] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		err = kx_rec_write_comm(w, ctx, pid, (int32_t)tid, comm);
	}
	closedir(d);
	return err;
}

void kx_rec_names_release(struct kx_rec_names *n)
{
	free(n->pids);
	*n = (struct kx_rec_names){ 0 };
}

void kx_rec_names_forget(struct kx_rec_names *n, int32_t pid)
{
	size_t k = 0;

	for (size_t i = 0; i < n->nr; i++)
		if (n->pids[i] != pid)
			n->pids[k++] = n->pids[i];
	n->nr = k;
	if (n->last == pid)
		n->last = n->nr ? n->pids[0] : 0;
}
