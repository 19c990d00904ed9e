// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter's metrics model and its two text expositions.
 *
 * Every update reads one snapshot of the profile (everything since the
 * start, as kvmexit_delta_new(NULL, snap) sums it): per VM and reason rows
 * become kvmexit_exits_total samples, per reason rows become the
 * kvmexit_exit_handling_seconds histogram, whose bucket bounds are edges of
 * the profile's log-linear histogram (kvmexit_profile_time_bounds()), so
 * every bucket count is exact and a quantile lies in the same bucket as the
 * exact one.  The samples are kept once and printed in both formats, so a
 * scrape only copies a finished page.
 *
 * VMs: one per VMM pid.  A VM is gone once its exits stopped for the grace
 * time and its process is gone; its series are then dropped, its exits
 * counted in kvmexit_retired_exits_total instead, and (live sources) its
 * process retired from the profile (kvmexit_profile_retire_pid(): its
 * cells folded into the retired owner's, which keeps the per-reason
 * histograms whole) and its entry here freed: memory stays bounded by the
 * VMs that run, not by those that ran.  The retired owner's rows are
 * never series of their own.  The series
 * limit: VMs get series oldest first while the page stays within the
 * limit; the exits of the VMs beyond it are summed into pid="other", so
 * sums over VMs stay exact.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define LABELS_MAX 512
#define VM_NAME_MAX 64
#define REASON_LABELS_MAX 200	/* reason and category, escaped */
/*
 * Series that depend on neither VMs nor reasons: lost, cpu x2, vms,
 * folded, retired VMs, retired exits, cells, update time, render time,
 * running, info.
 */
#define FIXED_SERIES 12

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

struct vm {
	int32_t pid;
	uint64_t seq;			/* order first seen */
	uint64_t count;			/* its exits at the last change */
	uint64_t changed_ns;		/* source time of the last change */
	uint64_t now_count;		/* scratch: its exits in this update */
	size_t nseries;			/* scratch: series it needs */
	bool gone, admitted, seen;
	bool retired;			/* retired from the profile: freed after this update */
	bool named;			/* name asked for (once) */
	char vm[2 * VM_NAME_MAX];	/* its name, escaped; "" when unknown */
};

struct exit_sample {
	char labels[LABELS_MAX];
	uint64_t value;
};

struct hist_sample {
	char labels[LABELS_MAX];
	uint64_t *le;			/* nb cumulative counts */
	uint64_t count, sum_ns;
};

/* A reason's folded ("other") sums: exits, and histogram counts per VM. */
struct fold {
	enum kvmexit_isa isa;
	uint32_t reason;
	uint64_t exits;
	bool timed;
	struct hist_sample h;
};

struct metrics {
	struct metrics_opts o;
	uint64_t *bounds;
	size_t nb;
	struct vm *vms;			/* sorted by pid */
	size_t nr_vms, alloc_vms;
	uint64_t seq;
	struct buf page[2];		/* what scrapes copy */
	struct buf next[2];		/* rendered, not yet published */
	struct metrics_state st;
};

size_t metrics_escape(const char *in, char *out, size_t size)
{
	size_t n = 0;

#define PUT(c) do { if (n + 1 < size) out[n] = (c); n++; } while (0)
	for (const unsigned char *s = (const unsigned char *)in; *s;) {
		unsigned char c = *s;
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			     (c & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		for (i = 1; len && i < len; i++)
			if ((s[i] & 0xc0) != 0x80)
				len = 0;
		/* Control characters and broken UTF-8 never reach a page. */
		if (!len || c < 0x20 || c == 0x7f) {
			PUT('?');
			s++;
			continue;
		}
		if (c == '\\' || c == '"')
			PUT('\\');
		for (i = 0; i < len; i++)
			PUT((char)s[i]);
		s += len;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
#undef PUT
	return n;
}

int metrics_new(const struct metrics_opts *opts, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int n;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->o = *opts;
	if (!m->o.max_series)
		m->o.max_series = METRICS_DEFAULT_MAX_SERIES;
	if (!m->o.per_octave)
		m->o.per_octave = 2;
	if (!m->o.lo_shift)
		m->o.lo_shift = 7;
	if (!m->o.hi_shift)
		m->o.hi_shift = 26;
	if (!m->o.source)
		m->o.source = "sampled";
	if (!m->o.version)
		m->o.version = "";
	n = kvmexit_profile_time_bounds(m->o.per_octave, m->o.lo_shift, m->o.hi_shift, NULL, 0);
	if (n < 0) {
		free(m);
		return n;
	}
	m->nb = (size_t)n;
	m->bounds = calloc(m->nb, sizeof(*m->bounds));
	if (!m->bounds) {
		free(m);
		return -ENOMEM;
	}
	kvmexit_profile_time_bounds(m->o.per_octave, m->o.lo_shift, m->o.hi_shift, m->bounds, m->nb);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->bounds);
	free(m->vms);
	for (int i = 0; i < 2; i++) {
		free(m->page[i].p);
		free(m->next[i].p);
	}
	free(m);
}

static struct vm *vm_find(struct metrics *m, int32_t pid)
{
	size_t lo = 0, hi = m->nr_vms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->vms[mid].pid == pid)
			return &m->vms[mid];
		if (m->vms[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct vm *vm_get(struct metrics *m, int32_t pid)
{
	struct vm *v = vm_find(m, pid);
	size_t at = 0;

	if (v)
		return v;
	if (m->nr_vms == m->alloc_vms) {
		size_t alloc = m->alloc_vms ? m->alloc_vms * 2 : 16;
		struct vm *n = realloc(m->vms, alloc * sizeof(*n));

		if (!n)
			return NULL;
		m->vms = n;
		m->alloc_vms = alloc;
	}
	while (at < m->nr_vms && m->vms[at].pid < pid)
		at++;
	memmove(&m->vms[at + 1], &m->vms[at], (m->nr_vms - at) * sizeof(*m->vms));
	m->nr_vms++;
	m->vms[at] = (struct vm){ .pid = pid, .seq = m->seq++ };
	return &m->vms[at];
}

static int row_cmp(const void *a, const void *b)
{
	const struct kvmexit_stat *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	if (x->isa != y->isa)
		return x->isa < y->isa ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static int vm_seq_cmp(const void *a, const void *b)
{
	const struct vm *x = *(const struct vm *const *)a, *y = *(const struct vm *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The snapshot's rows of a grouping (all it holds), sorted; or a negative error. */
static int rows_of(const struct kvmexit_snapshot *snap, enum kvmexit_group g,
		   struct kvmexit_stat **rows)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = g };
	const struct kvmexit_delta_row *dr;
	struct kvmexit_delta *d;
	size_t n;
	int err = kvmexit_delta_new(NULL, snap, &o, &d);

	*rows = NULL;
	if (err)
		return err;
	n = kvmexit_delta_rows(d, &dr);
	*rows = calloc(n ? n : 1, sizeof(**rows));
	if (!*rows) {
		kvmexit_delta_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		(*rows)[i] = dr[i].total;
	kvmexit_delta_free(d);
	qsort(*rows, n, sizeof(**rows), row_cmp);
	return (int)n;
}

static void reason_labels(const struct kvmexit_stat *r, char *out, size_t size)
{
	char name[48], esc[100];

	kvmexit_reason_name(r->isa, r->reason, name, sizeof(name));
	metrics_escape(name, esc, sizeof(esc));
	snprintf(out, size, "reason=\"%s\",category=\"%s\"", esc,
		 kvmexit_category_name(kvmexit_detail_category(r->isa, r->reason, 0)));
}

/* pid="1234",vm="name", (the vm label when the VM has a name). */
static void vm_labels(const struct vm *v, int32_t pid, char *out, size_t size)
{
	if (v && v->vm[0])
		snprintf(out, size, "pid=\"%d\",vm=\"%s\",", pid, v->vm);
	else
		snprintf(out, size, "pid=\"%d\",", pid);
}

/* Everything one update renders, before printing. */
struct samples {
	struct exit_sample *exits;
	size_t nr_exits;
	struct hist_sample *hists;
	size_t nr_hists;
	struct fold *folds;
	size_t nr_folds;
	uint64_t lost;
	uint64_t retired_exits;		/* of the retired owner and of gone VMs */
	const struct kvmexit_meta *meta;
};

static void samples_release(struct samples *s)
{
	for (size_t i = 0; i < s->nr_hists; i++)
		free(s->hists[i].le);
	for (size_t i = 0; i < s->nr_folds; i++)
		free(s->folds[i].h.le);
	free(s->exits);
	free(s->hists);
	free(s->folds);
}

static struct fold *fold_get(struct samples *s, const struct kvmexit_stat *r, size_t nb)
{
	struct fold *f;

	for (size_t i = 0; i < s->nr_folds; i++)
		if (s->folds[i].isa == r->isa && s->folds[i].reason == r->reason)
			return &s->folds[i];
	f = realloc(s->folds, (s->nr_folds + 1) * sizeof(*f));
	if (!f)
		return NULL;
	s->folds = f;
	f = &s->folds[s->nr_folds];
	*f = (struct fold){ .isa = r->isa, .reason = r->reason };
	f->h.le = calloc(nb ? nb : 1, sizeof(uint64_t));
	if (!f->h.le)
		return NULL;
	s->nr_folds++;
	return f;
}

static int hist_add(struct metrics *m, struct samples *s, const struct kvmexit_snapshot *p,
		    enum kvmexit_group g, const struct kvmexit_stat *r, const char *labels)
{
	struct hist_sample *h = &s->hists[s->nr_hists];

	h->le = calloc(m->nb ? m->nb : 1, sizeof(uint64_t));
	if (!h->le)
		return -ENOMEM;
	s->nr_hists++;
	snprintf(h->labels, sizeof(h->labels), "%s", labels);
	h->count = r->timed;
	h->sum_ns = r->time_total;
	return kvmexit_snapshot_time_counts(p, g, r, m->bounds, m->nb, h->le);
}

/* Series a histogram takes: its buckets, +Inf, _sum and _count. */
static size_t hist_series(const struct metrics *m)
{
	return m->nb + 3;
}

/* VMs: changes, gone ones, and who gets series within the limit. */
static int vms_update(struct metrics *m, const struct metrics_input *in,
		      const struct kvmexit_stat *er, size_t ne,
		      const struct kvmexit_stat *hr, size_t nh, size_t fixed)
{
	struct vm **order;
	size_t used = 0;

	for (size_t i = 0; i < m->nr_vms; i++) {
		m->vms[i].now_count = 0;
		m->vms[i].nseries = 0;
		m->vms[i].seen = false;
	}
	for (size_t i = 0; i < ne; i++) {
		struct vm *v;

		if (er[i].pid < 0)
			continue;
		v = vm_get(m, er[i].pid);
		if (!v)
			return -ENOMEM;
		if (!v->named && in->name) {
			char name[VM_NAME_MAX];

			v->named = true;
			if (!in->name(v->pid, name, sizeof(name), in->alive_arg))
				metrics_escape(name, v->vm, sizeof(v->vm));
		}
		v->now_count += er[i].count;
		v->nseries++;
		v->seen = true;
	}
	for (size_t i = 0; i < nh; i++) {
		struct vm *v = hr[i].pid >= 0 && hr[i].timed ? vm_find(m, hr[i].pid) : NULL;

		if (v)
			v->nseries += hist_series(m);
	}
	order = calloc(m->nr_vms ? m->nr_vms : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	m->st.vms = m->st.vms_folded = m->st.vms_gone = 0;
	for (size_t i = 0; i < m->nr_vms; i++) {
		struct vm *v = &m->vms[i];

		order[i] = v;
		if (v->now_count != v->count || !v->changed_ns) {
			v->count = v->now_count;
			v->changed_ns = in->now_ns ? in->now_ns : 1;
			v->gone = false;
		} else if (!v->gone && in->alive && in->now_ns - v->changed_ns >= m->o.grace_ns &&
			   !in->alive(v->pid, in->alive_arg)) {
			v->gone = true;
		}
	}
	qsort(order, m->nr_vms, sizeof(*order), vm_seq_cmp);
	for (size_t i = 0; i < m->nr_vms; i++) {
		struct vm *v = order[i];

		v->admitted = false;
		if (v->gone) {
			/* Its rows stay in this snapshot; the entry goes after the page. */
			if (in->retire && in->retire(v->pid, in->alive_arg) >= 0) {
				v->retired = true;
				m->st.vms_retired++;
			} else {
				m->st.vms_gone++;
			}
			continue;
		}
		if (fixed + used + v->nseries <= m->o.max_series) {
			v->admitted = true;
			used += v->nseries;
			m->st.vms++;
		} else {
			m->st.vms_folded++;
		}
	}
	free(order);
	return 0;
}

static int build(struct metrics *m, const struct metrics_input *in, struct samples *s)
{
	struct kvmexit_stat *er = NULL, *rr = NULL, *hr = NULL;
	int ne, nr, nh = 0, err = 0;
	size_t fixed = FIXED_SERIES;
	struct kvmexit_profile_totals t;
	enum kvmexit_group eg = m->o.per_vcpu ? KVMEXIT_GROUP_VCPU : KVMEXIT_GROUP_PID;
	char labels[LABELS_MAX], rl[REASON_LABELS_MAX];

	kvmexit_snapshot_totals(in->snap, &t);
	s->lost = t.lost;
	s->meta = in->meta;
	ne = rows_of(in->snap, eg, &er);
	nr = rows_of(in->snap, KVMEXIT_GROUP_REASON, &rr);
	if (ne >= 0 && nr >= 0 && m->o.histogram_per_vm)
		nh = rows_of(in->snap, KVMEXIT_GROUP_PID, &hr);
	if (ne < 0 || nr < 0 || nh < 0) {
		err = ne < 0 ? ne : nr < 0 ? nr : nh;
		goto out;
	}
	/* Per reason: histogram, and room for the "other" exits (and histogram). */
	for (int i = 0; i < nr; i++)
		fixed += 1 + (rr[i].timed ? hist_series(m) : 0) +
			 (m->o.histogram_per_vm && rr[i].timed ? hist_series(m) : 0);
	for (int i = 0; i < ne; i++)
		fixed += er[i].pid < 0 && er[i].pid != KVMEXIT_PID_RETIRED;
	err = vms_update(m, in, er, (size_t)ne, hr, (size_t)nh, fixed);
	if (err)
		goto out;

	s->exits = calloc((size_t)ne + 1, sizeof(*s->exits));
	s->hists = calloc((size_t)nr + (size_t)nh + 1, sizeof(*s->hists));
	if (!s->exits || !s->hists) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < ne; i++) {
		const struct kvmexit_stat *r = &er[i];
		const struct vm *v = r->pid >= 0 ? vm_find(m, r->pid) : NULL;
		struct exit_sample *e;

		if (r->pid == KVMEXIT_PID_RETIRED || (v && v->gone)) {
			s->retired_exits += r->count;
			continue;
		}
		reason_labels(r, rl, sizeof(rl));
		if (v && !v->admitted) {
			struct fold *f = fold_get(s, r, m->nb);

			if (!f) {
				err = -ENOMEM;
				goto out;
			}
			f->exits += r->count;
			continue;
		}
		e = &s->exits[s->nr_exits++];
		e->value = r->count;
		if (r->pid < 0)
			snprintf(e->labels, sizeof(e->labels), "%s", rl);
		else {
			char vl[2 * VM_NAME_MAX + 32];

			vm_labels(v, r->pid, vl, sizeof(vl));
			if (m->o.per_vcpu && r->vcpu >= 0)
				snprintf(e->labels, sizeof(e->labels), "%svcpu=\"%d\",%s", vl,
					 r->vcpu, rl);
			else
				snprintf(e->labels, sizeof(e->labels), "%s%s", vl, rl);
		}
	}
	for (int i = 0; i < nr && !err; i++) {
		if (!rr[i].timed)
			continue;
		reason_labels(&rr[i], rl, sizeof(rl));
		err = hist_add(m, s, in->snap, KVMEXIT_GROUP_REASON, &rr[i], rl);
	}
	for (int i = 0; i < nh && !err; i++) {
		const struct kvmexit_stat *r = &hr[i];
		const struct vm *v = r->pid >= 0 ? vm_find(m, r->pid) : NULL;

		if (!r->timed || r->pid == KVMEXIT_PID_RETIRED || (v && v->gone))
			continue;
		reason_labels(r, rl, sizeof(rl));
		if (v && !v->admitted) {
			struct fold *f = fold_get(s, r, m->nb);
			struct hist_sample tmp = { .le = calloc(m->nb ? m->nb : 1, sizeof(uint64_t)) };

			if (!f || !tmp.le) {
				free(tmp.le);
				err = -ENOMEM;
				break;
			}
			err = kvmexit_snapshot_time_counts(in->snap, KVMEXIT_GROUP_PID, r, m->bounds,
							  m->nb, tmp.le);
			for (size_t j = 0; j < m->nb; j++)
				f->h.le[j] += tmp.le[j];
			free(tmp.le);
			f->timed = true;
			f->h.count += r->timed;
			f->h.sum_ns += r->time_total;
			continue;
		}
		if (r->pid >= 0) {
			char vl[2 * VM_NAME_MAX + 32];

			vm_labels(v, r->pid, vl, sizeof(vl));
			snprintf(labels, sizeof(labels), "%s%s", vl, rl);
		} else {
			snprintf(labels, sizeof(labels), "%s", rl);
		}
		err = hist_add(m, s, in->snap, KVMEXIT_GROUP_PID, r, labels);
	}
out:
	free(er);
	free(rr);
	free(hr);
	return err;
}

/* ns as exact decimal seconds: 1500 -> "0.0000015". */
static const char *secs(uint64_t ns, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);

	while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';
	return buf;
}

static void family(struct buf *b, enum metrics_format f, const char *name, const char *type,
		   const char *unit, const char *help)
{
	bool om = f == METRICS_OPENMETRICS;
	/* 0.0.4 names a counter family by its samples (_total), OpenMetrics without. */
	size_t len = strlen(name);
	bool strip = om && !strcmp(type, "counter") && len > 6 && !strcmp(name + len - 6, "_total");
	bool info = !strcmp(type, "info");

	if (om && info && len > 5 && !strcmp(name + len - 5, "_info"))
		len -= 5;
	else if (strip)
		len -= 6;
	else
		len = strlen(name);
	buf_printf(b, "# HELP %.*s %s\n", (int)len, name, help);
	buf_printf(b, "# TYPE %.*s %s\n", (int)len, name, info && !om ? "gauge" : type);
	if (om && unit)
		buf_printf(b, "# UNIT %.*s %s\n", (int)len, name, unit);
}

static void print_hist(struct buf *b, const struct metrics *m, const char *name,
		       const struct hist_sample *h, const char *pre_labels)
{
	char v[48];

	for (size_t j = 0; j < m->nb; j++)
		buf_printf(b, "%s_bucket{%s%s,le=\"%s\"} %" PRIu64 "\n", name, pre_labels, h->labels,
			   secs(m->bounds[j], v, sizeof(v)), h->le[j]);
	buf_printf(b, "%s_bucket{%s%s,le=\"+Inf\"} %" PRIu64 "\n", name, pre_labels, h->labels,
		   h->count);
	buf_printf(b, "%s_sum{%s%s} %s\n", name, pre_labels, h->labels, secs(h->sum_ns, v, sizeof(v)));
	buf_printf(b, "%s_count{%s%s} %" PRIu64 "\n", name, pre_labels, h->labels, h->count);
}

static const char *paging_of(const struct kvmexit_meta *meta)
{
	int tdp = meta ? kvmexit_meta_tdp(meta) : -1;

	if (tdp < 0)
		return "unknown";
	if (!tdp)
		return "shadow";
	return meta->isa == KVMEXIT_ISA_SVM || !strcmp(meta->kvm_module, "kvm_amd") ? "npt" : "ept";
}

static void render(struct metrics *m, const struct metrics_input *in, const struct samples *s,
		   enum metrics_format f, struct buf *b)
{
	const char *ex = "kvmexit_exits_total", *hn = "kvmexit_exit_handling_seconds";
	char vendor[48], kernel[200], module[48], v[48];
	bool any_hist = s->nr_hists > 0;
	size_t n = 0;

	b->len = 0;
	b->oom = false;
	family(b, f, ex, "counter", NULL,
	       "KVM exits per VM (VMM pid) and exit reason, since kvmexit started.");
	for (size_t i = 0; i < s->nr_exits; i++, n++)
		buf_printf(b, "%s{%s} %" PRIu64 "\n", ex, s->exits[i].labels, s->exits[i].value);
	for (size_t i = 0; i < s->nr_folds; i++, n++) {
		struct kvmexit_stat r = { .isa = s->folds[i].isa, .reason = s->folds[i].reason };
		char rl[LABELS_MAX];

		reason_labels(&r, rl, sizeof(rl));
		buf_printf(b, "%s{pid=\"other\",%s} %" PRIu64 "\n", ex, rl, s->folds[i].exits);
	}
	for (size_t i = 0; i < s->nr_folds; i++)
		any_hist |= s->folds[i].timed;
	if (any_hist) {
		family(b, f, hn, "histogram", "seconds",
		       "Exit-handling time (kvm_exit to the next kvm_entry of the vCPU) per reason.");
		for (size_t i = 0; i < s->nr_hists; i++, n += hist_series(m))
			print_hist(b, m, hn, &s->hists[i], "");
		for (size_t i = 0; i < s->nr_folds; i++) {
			struct kvmexit_stat r = { .isa = s->folds[i].isa, .reason = s->folds[i].reason };
			struct hist_sample h = s->folds[i].h;

			if (!s->folds[i].timed)
				continue;
			reason_labels(&r, h.labels, sizeof(h.labels));
			print_hist(b, m, hn, &h, "pid=\"other\",");
			n += hist_series(m);
		}
	}
	family(b, f, "kvmexit_lost_events_total", "counter", NULL,
	       "Records the kernel dropped (ring buffer full); exits in them are not counted.");
	buf_printf(b, "kvmexit_lost_events_total %" PRIu64 "\n", s->lost);
	family(b, f, "kvmexit_cpu_seconds_total", "counter", "seconds",
	       "CPU time kvmexit itself used, by mode.");
	buf_printf(b, "kvmexit_cpu_seconds_total{mode=\"user\"} %.6f\n", in->cpu_user);
	buf_printf(b, "kvmexit_cpu_seconds_total{mode=\"system\"} %.6f\n", in->cpu_system);
	family(b, f, "kvmexit_vms", "gauge", NULL, "VMs (VMM processes) with their own series.");
	buf_printf(b, "kvmexit_vms %zu\n", m->st.vms);
	family(b, f, "kvmexit_vms_folded", "gauge", NULL,
	       "VMs beyond --max-series, whose exits are counted under pid other.");
	buf_printf(b, "kvmexit_vms_folded %zu\n", m->st.vms_folded);
	family(b, f, "kvmexit_vms_retired_total", "counter", NULL,
	       "VMs gone (stopped for the grace time, process ended) and retired from kvmexit's memory.");
	buf_printf(b, "kvmexit_vms_retired_total %" PRIu64 "\n", m->st.vms_retired);
	family(b, f, "kvmexit_retired_exits_total", "counter", NULL,
	       "Exits of VMs whose series were dropped (gone): with kvmexit_exits_total, every exit.");
	buf_printf(b, "kvmexit_retired_exits_total %" PRIu64 "\n", s->retired_exits);
	family(b, f, "kvmexit_profile_cells", "gauge", NULL,
	       "Aggregation cells kvmexit holds (per VM, vCPU, reason and detail, and per retired reason and detail): its memory.");
	buf_printf(b, "kvmexit_profile_cells %zu\n", in->cells);
	family(b, f, "kvmexit_last_update_timestamp_seconds", "gauge", "seconds",
	       "When kvmexit last rendered this page (Unix time).");
	buf_printf(b, "kvmexit_last_update_timestamp_seconds %.3f\n", in->timestamp);
	family(b, f, "kvmexit_render_seconds", "gauge", "seconds",
	       "How long rendering the previous page took.");
	buf_printf(b, "kvmexit_render_seconds %.6f\n", in->render_seconds);
	family(b, f, "kvmexit_source_running", "gauge", NULL,
	       "1 while kvmexit records (or replays); 0 once its source has ended.");
	buf_printf(b, "kvmexit_source_running %d\n", in->running ? 1 : 0);
	metrics_escape(s->meta ? s->meta->vendor : "", vendor, sizeof(vendor));
	metrics_escape(s->meta ? s->meta->osrelease : "", kernel, sizeof(kernel));
	metrics_escape(s->meta ? s->meta->kvm_module : "", module, sizeof(module));
	metrics_escape(m->o.version, v, sizeof(v));
	family(b, f, "kvmexit_host_info", "info", NULL,
	       "The host kvmexit watches and how: kvm module, paging (ept, npt or shadow), vendor, kernel, source.");
	buf_printf(b, "kvmexit_host_info{version=\"%s\",source=\"%s\",kvm_module=\"%s\",paging=\"%s\","
		      "vendor=\"%s\",kernel=\"%s\"} 1\n",
		   v, m->o.source, module, paging_of(s->meta), vendor, kernel);
	if (f == METRICS_OPENMETRICS)
		buf_printf(b, "# EOF\n");
	m->st.series = n + FIXED_SERIES;
}

/* Frees the entries of VMs retired in this update (a reused pid starts afresh). */
static void vms_forget_retired(struct metrics *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nr_vms; i++)
		if (!m->vms[i].retired)
			m->vms[k++] = m->vms[i];
	m->nr_vms = k;
}

int metrics_update(struct metrics *m, const struct metrics_input *in)
{
	struct samples s = { 0 };
	int err = build(m, in, &s);

	if (!err) {
		render(m, in, &s, METRICS_TEXT, &m->next[0]);
		render(m, in, &s, METRICS_OPENMETRICS, &m->next[1]);
		if (m->next[0].oom || m->next[1].oom)
			err = -ENOMEM;
	}
	samples_release(&s);
	vms_forget_retired(m);
	return err;
}

void metrics_publish(struct metrics *m)
{
	for (int i = 0; i < 2; i++) {
		struct buf b = m->page[i];

		m->page[i] = m->next[i];
		m->next[i] = b;
	}
}

const char *metrics_page(const struct metrics *m, enum metrics_format f, size_t *len)
{
	const struct buf *b = &m->page[f == METRICS_OPENMETRICS];

	*len = b->oom ? 0 : b->len;
	return b->p && !b->oom ? b->p : "";
}

const char *metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					: "text/plain; version=0.0.4; charset=utf-8";
}

/* The q of one media range ("type;a=b;q=0.5"): 1 when absent. */
static double q_of(const char *s, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (s[i] == ';') {
			size_t j = i + 1;

			while (j < len && s[j] == ' ')
				j++;
			if (j + 1 < len && s[j] == 'q' && s[j + 1] == '=')
				return strtod(s + j + 2, NULL);
		}
	return 1.0;
}

enum metrics_format metrics_negotiate(const char *accept)
{
	double om = -1, text = -1;

	for (const char *p = accept; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		double q;

		while (len && *p == ' ')
			p++, len--;
		q = q_of(p, len);
		if (len >= 28 && !strncmp(p, "application/openmetrics-text", 28)) {
			if (q > om)
				om = q;
		} else if ((len >= 10 && !strncmp(p, "text/plain", 10)) || (len >= 3 && !strncmp(p, "*/*", 3))) {
			if (q > text)
				text = q;
		}
		p = end ? end + 1 : p + len;
	}
	return om > 0 && om >= text ? METRICS_OPENMETRICS : METRICS_TEXT;
}

void metrics_state(const struct metrics *m, struct metrics_state *st)
{
	*st = m->st;
}
