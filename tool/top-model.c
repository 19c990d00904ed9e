// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit top's model: snapshots at each interval's end, the delta the
 * view shows (library), and its rows named, filtered and sorted (here).
 * Keys change settings and call top_refresh(); nothing here draws.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "top.h"
#include "vm-name.h"

const char *const top_view_names[TOP_VIEW__MAX] = {
	[TOP_BY_REASON] = "reason", [TOP_BY_DETAIL] = "detail", [TOP_BY_VM] = "vm",
	[TOP_BY_VCPU] = "vcpu", [TOP_BY_PROCESS] = "process", [TOP_BY_CATEGORY] = "category",
};

const char *const top_sort_names[TOP_SORT__MAX] = {
	[TOP_SORT_RATE] = "rate", [TOP_SORT_TOTAL] = "total", [TOP_SORT_AVG] = "avg",
	[TOP_SORT_P99] = "p99", [TOP_SORT_NAME] = "name",
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

const char *top_event_name(enum kvmexit_event_type type)
{
	static const char *const names[KVMEXIT_EV__MAX] = {
		[KVMEXIT_EV_EXIT] = "kvm_exit", [KVMEXIT_EV_ENTRY] = "kvm_entry",
		[KVMEXIT_EV_USERSPACE_EXIT] = "kvm_userspace_exit", [KVMEXIT_EV_PIO] = "kvm_pio",
		[KVMEXIT_EV_MMIO] = "kvm_mmio", [KVMEXIT_EV_MSR] = "kvm_msr",
		[KVMEXIT_EV_LOST] = "lost",
	};

	return (unsigned int)type < KVMEXIT_EV__MAX ? names[type] : "?";
}

int top_init(struct top *t, struct source *src, uint64_t interval_ns)
{
	memset(t, 0, sizeof(*t));
	t->src = src;
	t->interval_ns = interval_ns;
	t->vm = -1;
	return 0;
}

/* Frees s unless prev, cur or base still hold it (the base may be one of them). */
static void drop(struct top *t, struct kvmexit_snapshot *s)
{
	if (s && s != t->prev && s != t->cur && s != t->base)
		kvmexit_snapshot_free(s);
}

void top_release(struct top *t)
{
	struct kvmexit_snapshot *p = t->prev, *c = t->cur, *b = t->base;

	t->prev = t->cur = t->base = NULL;
	kvmexit_snapshot_free(p);
	if (c != p)
		kvmexit_snapshot_free(c);
	if (b != p && b != c)
		kvmexit_snapshot_free(b);
	kvmexit_delta_free(t->delta);
	free(t->rows);
	free(t->vms);
	if (t->has_filter)
		regfree(&t->filter);
	memset(t, 0, sizeof(*t));
}

static int snap(struct top *t, struct kvmexit_snapshot **out, uint64_t *types, uint64_t *lost)
{
	int err = source_snapshot(t->src, out, types, lost);

	if (err)
		snprintf(t->errmsg, sizeof(t->errmsg), "%s",
			 t->src->errmsg[0] ? t->src->errmsg : kvmexit_strerror(err));
	return err;
}

int top_begin(struct top *t)
{
	int err = snap(t, &t->prev, t->types_prev, &t->lost_prev);

	if (!err)
		err = snap(t, &t->cur, t->types_cur, &t->lost_cur);
	t->cpu_prev_ns = cpu_ns();
	t->wall_prev_ns = mono_ns();
	if (err)
		return err;
	t->start_ns = kvmexit_snapshot_time(t->prev);
	return top_refresh(t);
}

/* ---------------------------------------------------------------- VMs */

static struct top_vm *vm_add(struct top *t, int32_t pid)
{
	struct top_vm *vm;

	for (size_t i = 0; i < t->nr_vms; i++)
		if (t->vms[i].pid == pid)
			return &t->vms[i];
	if (t->nr_vms == t->alloc_vms) {
		size_t n = t->alloc_vms ? 2 * t->alloc_vms : 16;
		struct top_vm *v = realloc(t->vms, n * sizeof(*v));

		if (!v)
			return NULL;
		t->vms = v;
		t->alloc_vms = n;
	}
	vm = &t->vms[t->nr_vms++];
	*vm = (struct top_vm){ .pid = pid };
	/* Live: the name from /proc; a replay knows pids only (issue 13 adds names). */
	if (!t->src->caps.live || vm_name_live(pid, vm->name, sizeof(vm->name)))
		snprintf(vm->name, sizeof(vm->name), "pid %d", (int)pid);
	return vm;
}

const struct top_vm *top_vm_find(const struct top *t, int32_t pid)
{
	for (size_t i = 0; i < t->nr_vms; i++)
		if (t->vms[i].pid == pid)
			return &t->vms[i];
	return NULL;
}

/* New VMs are named; live, VMs whose process is gone are marked. */
static int vms_update(struct top *t)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_PID,
					.all_reasons = true };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d;
	size_t n;
	int err = kvmexit_delta_new(t->prev, t->cur, &o, &d);

	if (err)
		return err;
	n = kvmexit_delta_rows(d, &r);
	for (size_t i = 0; i < n; i++)
		if (r[i].interval.pid >= 0 && r[i].interval.count && !vm_add(t, r[i].interval.pid))
			err = -ENOMEM;
	kvmexit_delta_free(d);
	if (t->src->caps.live)
		for (size_t i = 0; i < t->nr_vms; i++)
			if (!t->vms[i].exited && !vm_alive(t->vms[i].pid))
				t->vms[i].exited = true;
	return err;
}

/* ---------------------------------------------------------------- rows */

static bool keep_reason(enum kvmexit_isa isa, uint32_t reason, uint32_t detail, void *arg)
{
	const struct top *t = arg;
	char name[64], dname[64], both[130];

	if (kvmexit_reason_name(isa, reason, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "0x%x", reason);
	if (!regexec(&t->filter, name, 0, NULL, 0))
		return true;
	if (!detail || kvmexit_detail_name(isa, reason, detail, dname, sizeof(dname)) < 0)
		return false;
	snprintf(both, sizeof(both), "%s/%s", name, dname);
	return !regexec(&t->filter, both, 0, NULL, 0);
}

static void row_name(const struct top *t, struct top_row *w)
{
	const struct kvmexit_stat *st = &w->r->interval;
	char detail[64] = "";
	const struct top_vm *v;

	if (t->view == TOP_BY_CATEGORY) {
		snprintf(w->what, sizeof(w->what), "%s",
			 kvmexit_category_name((enum kvmexit_category)st->reason));
	} else if (t->view != TOP_BY_VM && t->view != TOP_BY_VCPU) {
		if (kvmexit_reason_name(st->isa, st->reason, w->what, sizeof(w->what)) < 0)
			snprintf(w->what, sizeof(w->what), "0x%x", st->reason);
		if (st->detail &&
		    kvmexit_detail_name(st->isa, st->reason, st->detail, detail, sizeof(detail)) < 0)
			snprintf(detail, sizeof(detail), "0x%x", st->detail);
		if (detail[0]) {
			size_t n = strlen(w->what);

			snprintf(w->what + n, sizeof(w->what) - n, "/%s", detail);
		}
	}
	if (st->pid >= 0) {
		v = top_vm_find(t, st->pid);
		snprintf(w->vm, sizeof(w->vm), "%s", v ? v->name : "?");
	} else if (t->view == TOP_BY_VM || t->view == TOP_BY_VCPU || t->view == TOP_BY_PROCESS) {
		snprintf(w->vm, sizeof(w->vm), "(no VM: counted)");
	}
	snprintf(w->name, sizeof(w->name), "%s%s%s", w->vm, w->vm[0] && w->what[0] ? " " : "",
		 w->what);
}

static double avg_ns(const struct kvmexit_stat *st)
{
	return st->timed ? (double)st->time_total / (double)st->timed : 0;
}

static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct top_row *a = pa, *b = pb;
	const struct kvmexit_stat *x = &a->r->interval, *y = &b->r->interval;
	const struct top *t = arg;
	double dx = 0, dy = 0;

	switch (t->sort) {
	case TOP_SORT_RATE:
		dx = (double)x->count;
		dy = (double)y->count;
		break;
	case TOP_SORT_TOTAL:
		dx = (double)a->r->total.count;
		dy = (double)b->r->total.count;
		break;
	case TOP_SORT_AVG:
		dx = avg_ns(x);
		dy = avg_ns(y);
		break;
	case TOP_SORT_P99:
		dx = (double)x->time_p99;
		dy = (double)y->time_p99;
		break;
	case TOP_SORT_NAME: {
		int c = strcmp(a->name, b->name);

		if (c)
			return c;
		break;
	}
	default:
		break;
	}
	if (dx != dy)
		return dx > dy ? -1 : 1;
	/* Ties: the library's order (interval, total, key). */
	return a->r < b->r ? -1 : a->r > b->r;
}

int top_refresh(struct top *t)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .base = t->base };
	const struct kvmexit_delta_row *r;
	struct top_row *rows;
	size_t n;
	int err;

	switch (t->view) {
	case TOP_BY_DETAIL:
		o.group = KVMEXIT_GROUP_DETAIL;
		break;
	case TOP_BY_VM:
		o.group = KVMEXIT_GROUP_PID;
		o.all_reasons = true;
		break;
	case TOP_BY_VCPU:
		o.group = KVMEXIT_GROUP_VCPU;
		o.all_reasons = true;
		break;
	case TOP_BY_PROCESS:
		o.group = KVMEXIT_GROUP_PID;
		break;
	case TOP_BY_CATEGORY:
		o.group = KVMEXIT_GROUP_CATEGORY;
		break;
	default:
		o.group = KVMEXIT_GROUP_REASON;
	}
	if (t->vm >= 0) {
		o.has_pid = true;
		o.pid = t->vm;
	}
	if (t->has_filter) {
		o.keep = keep_reason;
		o.keep_arg = t;
	}
	kvmexit_delta_free(t->delta);
	t->delta = NULL;
	err = kvmexit_delta_new(t->prev, t->cur, &o, &t->delta);
	if (err) {
		snprintf(t->errmsg, sizeof(t->errmsg), "comparing snapshots: %s",
			 kvmexit_strerror(err));
		return err;
	}
	n = kvmexit_delta_rows(t->delta, &r);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct top_vm *v = r[i].interval.pid >= 0 ? top_vm_find(t, r[i].interval.pid)
								: NULL;

		rows[i] = (struct top_row){ .r = &r[i], .pid = r[i].interval.pid,
					    .vcpu = r[i].interval.vcpu, .exited = v && v->exited };
		row_name(t, &rows[i]);
	}
	qsort_r(rows, n, sizeof(*rows), row_cmp, t);
	free(t->rows);
	t->rows = rows;
	t->nr_rows = n;
	return 0;
}

int top_tick(struct top *t)
{
	struct kvmexit_snapshot *s;
	struct kvmexit_snapshot *old;
	uint64_t types[KVMEXIT_EV__MAX], lost, c = cpu_ns(), w = mono_ns();
	int err = snap(t, &s, types, &lost);

	if (err)
		return err;
	old = t->prev;
	t->prev = t->cur;
	t->cur = s;
	drop(t, old);
	memcpy(t->types_prev, t->types_cur, sizeof(types));
	memcpy(t->types_cur, types, sizeof(types));
	t->lost_prev = t->lost_cur;
	t->lost_cur = lost;
	t->intervals++;
	if (w > t->wall_prev_ns)
		t->cpu_pct = 100.0 * (double)(c - t->cpu_prev_ns) / (double)(w - t->wall_prev_ns);
	t->cpu_prev_ns = c;
	t->wall_prev_ns = w;
	err = vms_update(t);
	return err ? err : top_refresh(t);
}

int top_reset(struct top *t)
{
	struct kvmexit_snapshot *old = t->base;

	/* From the shown interval's end, so that totals and intervals agree. */
	t->base = t->cur;
	drop(t, old);
	memcpy(t->types_base, t->types_cur, sizeof(t->types_base));
	t->lost_base = t->lost_cur;
	return top_refresh(t);
}

int top_set_filter(struct top *t, const char *text, char *err, size_t len)
{
	regex_t re;
	int ret;

	if (!text || !text[0]) {
		if (t->has_filter)
			regfree(&t->filter);
		t->has_filter = false;
		t->filter_text[0] = '\0';
		return top_refresh(t);
	}
	ret = regcomp(&re, text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (ret) {
		char msg[128];

		regerror(ret, &re, msg, sizeof(msg));
		snprintf(err, len, "bad regular expression '%.60s': %s", text, msg);
		return -EINVAL;
	}
	if (t->has_filter)
		regfree(&t->filter);
	t->filter = re;
	t->has_filter = true;
	snprintf(t->filter_text, sizeof(t->filter_text), "%s", text);
	for (char *p = t->filter_text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';	/* shown on screen and in logs */
	return top_refresh(t);
}

int top_set_vm(struct top *t, const char *what, char *err, size_t len)
{
	const struct top_vm *found = NULL;
	char *end;
	long pid;

	if (!what || !what[0]) {
		t->vm = -1;
		return top_refresh(t);
	}
	pid = strtol(what, &end, 10);
	if (!*end && pid >= 0 && pid <= INT32_MAX) {
		t->vm = (int32_t)pid;
		return top_refresh(t);
	}
	for (size_t i = 0; i < t->nr_vms; i++) {
		if (strcmp(t->vms[i].name, what))
			continue;
		if (found) {
			snprintf(err, len, "several VMs are named '%.60s': give the pid", what);
			return -EINVAL;
		}
		found = &t->vms[i];
	}
	if (!found) {
		snprintf(err, len, "no VM named '%.60s' has had exits (a pid also works)", what);
		return -ENOENT;
	}
	t->vm = found->pid;
	return top_refresh(t);
}

double top_interval_s(const struct top *t)
{
	return (double)(kvmexit_snapshot_time(t->cur) - kvmexit_snapshot_time(t->prev)) / 1e9;
}

double top_total_s(const struct top *t)
{
	const struct kvmexit_delta_summary *s = kvmexit_delta_summary(t->delta);

	return (double)(s->to_ns - (t->base ? s->base_ns : t->start_ns)) / 1e9;
}

const struct kvmexit_delta_summary *top_summary(const struct top *t)
{
	return kvmexit_delta_summary(t->delta);
}

void top_host_line(const struct top *t, char *buf, size_t size)
{
	const struct kvmexit_meta *m = &t->src->meta;
	const char *tdp_name = !strcmp(m->kvm_module, "kvm_amd") ? "npt" : "ept";
	const char *tdp = kvmexit_meta_param(m, tdp_name);

	snprintf(buf, size, "%s%s%s%s%s%s%s%s%s%s",
		 m->hostname[0] ? m->hostname : "?",
		 m->vendor[0] ? ", " : "", m->vendor,
		 m->kvm_module[0] ? ", " : "", m->kvm_module,
		 tdp ? " " : "", tdp ? tdp_name : "", tdp ? "=" : "", tdp ? tdp : "",
		 "");
	if (m->osrelease[0]) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, ", Linux %s", m->osrelease);
	}
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}
