// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thread names (comm) by tid, as a capture's COMM records set them: a
 * small open-addressing table.  Names are kept as given (untrusted bytes,
 * up to 15 and a NUL, as the kernel's TASK_COMM_LEN).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t slot_of(const struct kx_names *n, int32_t tid)
{
	uint64_t h = (uint32_t)tid * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & n->mask;
}

const struct kx_name *kx_names_find(const struct kx_names *n, int32_t tid)
{
	if (!n->slots)
		return NULL;
	for (size_t i = slot_of(n, tid);; i = (i + 1) & n->mask) {
		uint32_t s = n->slots[i];

		if (!s)
			return NULL;
		if (n->v[s - 1].tid == tid)
			return &n->v[s - 1];
	}
}

static int grow(struct kx_names *n)
{
	size_t cap = n->slots ? (n->mask + 1) * 2 : 64;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	struct kx_name *v = realloc(n->v, cap / 2 * sizeof(*v));

	if (!slots || !v) {
		free(slots);
		if (v)
			n->v = v;
		return -ENOMEM;
	}
	free(n->slots);
	n->v = v;
	n->slots = slots;
	n->mask = cap - 1;
	for (size_t k = 0; k < n->nr; k++) {
		size_t i = slot_of(n, v[k].tid);

		while (slots[i])
			i = (i + 1) & n->mask;
		slots[i] = (uint32_t)k + 1;
	}
	return 0;
}

int kx_names_set(struct kx_names *n, int32_t pid, int32_t tid, const char *comm, size_t len)
{
	struct kx_name *e = (struct kx_name *)kx_names_find(n, tid);
	size_t i;

	if (!e) {
		if (n->nr >= UINT32_MAX - 1)
			return -ENOMEM;
		if ((n->nr + 1) * 2 > (n->slots ? n->mask + 1 : 0) && grow(n))
			return -ENOMEM;
		for (i = slot_of(n, tid); n->slots[i]; i = (i + 1) & n->mask)
			;
		e = &n->v[n->nr++];
		n->slots[i] = (uint32_t)n->nr;
		e->tid = tid;
	}
	e->pid = pid;
	len = strnlen(comm, len < sizeof(e->comm) ? len : sizeof(e->comm) - 1);
	memcpy(e->comm, comm, len);
	e->comm[len] = '\0';
	return 0;
}

int kx_names_merge(struct kx_names *dst, const struct kx_names *src)
{
	for (size_t k = 0; k < src->nr; k++) {
		const struct kx_name *s = &src->v[k];
		int err = kx_names_set(dst, s->pid, s->tid, s->comm, sizeof(s->comm));

		if (err)
			return err;
	}
	return 0;
}

void kx_names_release(struct kx_names *n)
{
	free(n->v);
	free(n->slots);
	*n = (struct kx_names){ 0 };
}

void kx_names_forget_pid(struct kx_names *n, int32_t pid)
{
	size_t keep = 0, cap = 64;
	uint32_t *slots;

	for (size_t k = 0; k < n->nr; k++)
		keep += n->v[k].pid != pid;
	if (keep == n->nr)
		return;
	while ((keep + 1) * 2 > cap)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return;		/* the names stay: they only take memory */
	free(n->slots);
	n->slots = slots;
	n->mask = cap - 1;
	keep = 0;
	for (size_t k = 0; k < n->nr; k++) {
		size_t i;

		if (n->v[k].pid == pid)
			continue;
		n->v[keep] = n->v[k];
		for (i = slot_of(n, n->v[keep].tid); slots[i]; i = (i + 1) & n->mask)
			;
		slots[i] = (uint32_t)++keep;
	}
	n->nr = keep;
}
