// SPDX-License-Identifier: GPL-2.0-only
/* Live sources: the common part (see source.h); one file per source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "vm-name.h"

int source_open(const struct source_opts *o, struct source **out, char *err, size_t len)
{
	struct source *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	ret = kvmexit_profile_new(NULL, &s->prof);
	if (ret) {
		free(s);
		return ret;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (o->kind == SOURCE_REPLAY)
		ret = source_open_replay(o, s);
	else if (o->kind == SOURCE_BPF)
		ret = source_open_bpf(o, s);
	else
		ret = source_open_record(o, s);
	if (ret) {
		snprintf(err, len, "%s", s->errmsg[0] ? s->errmsg : kvmexit_strerror(ret));
		source_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int source_start(struct source *s)
{
	return s->ops->start(s);
}

int source_run(struct source *s, uint64_t until_ns, int timeout_ms)
{
	return s->ops->run(s, until_ns, timeout_ms);
}

uint64_t source_now(const struct source *s)
{
	return s->ops->now(s);
}

void source_pause(struct source *s, bool paused)
{
	if (s->ops->pause)
		s->ops->pause(s, paused);
}

void source_stop(struct source *s)
{
	s->ops->stop(s);
}

int source_snapshot(struct source *s, struct kvmexit_snapshot **out,
		    uint64_t by_type[KVMEXIT_EV__MAX], uint64_t *lost)
{
	int err = s->ops->sync ? s->ops->sync(s) : 0;

	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	err = kvmexit_snapshot_new(s->prof, source_now(s), out);
	s->cells = kvmexit_profile_nr_cells(s->prof);
	if (by_type)
		memcpy(by_type, s->by_type, sizeof(s->by_type));
	if (lost)
		*lost = s->lost;
	pthread_mutex_unlock(&s->lock);
	return err;
}

const char *source_vm_name(const struct source *s, int32_t pid)
{
	for (size_t i = 0; i < s->nr_vms; i++)
		if (s->vms[i].pid == pid)
			return s->vms[i].name;
	return NULL;
}

int source_vm_seen(struct source *s, int32_t pid)
{
	struct source_vm *vm;

	if (pid < 0 || source_vm_name(s, pid))
		return 0;
	if (s->nr_vms == s->alloc_vms) {
		size_t n = s->alloc_vms ? 2 * s->alloc_vms : 16;
		struct source_vm *v = realloc(s->vms, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->vms = v;
		s->alloc_vms = n;
	}
	vm = &s->vms[s->nr_vms++];
	vm->pid = pid;
	if (vm_name_live(pid, vm->name, sizeof(vm->name)))
		snprintf(vm->name, sizeof(vm->name), "pid %d", (int)pid);
	return 0;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->release)
		s->ops->release(s);
	free(s->vms);
	kvmexit_profile_free(s->prof);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int source_retire_profile(struct source *s, int32_t pid)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = kvmexit_profile_retire_pid(s->prof, pid);
	pthread_mutex_unlock(&s->lock);
	if (n < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "retiring process %d: %s", (int)pid,
			 kvmexit_strerror(n));
	return n;
}

int source_retire(struct source *s, int32_t pid)
{
	int n;

	if (!s->ops->retire)
		return -EOPNOTSUPP;
	n = s->ops->retire(s, pid);
	if (n < 0)
		return n;
	/* Its name goes too: a process reusing the pid is another VM. */
	for (size_t i = 0; i < s->nr_vms; i++)
		if (s->vms[i].pid == pid) {
			s->vms[i] = s->vms[--s->nr_vms];
			break;
		}
	return n;
}
