// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles: kvm exits aggregated per reason and detail, per vCPU and per
 * VMM process, with exit-handling times.
 *
 * The exit-handling time of an exit runs from its kvm_exit to the next
 * kvm_entry of the same thread (a vCPU thread runs one vCPU, and may
 * migrate between CPUs).  Each thread has one pending-exit slot:
 *  - kvm_exit counts the exit in two cells (reason+detail, pid+vCPU+reason)
 *    and makes it the thread's pending exit; a pending exit still there
 *    (exit, exit, entry) stays counted but untimed ("unpaired");
 *  - kvm_entry times the pending exit into the same two cells;
 *  - a lost-records record drops every pending exit ("dropped pairs"):
 *    the records lost may be any thread's entry, whichever CPU reported
 *    the loss, since vCPU threads migrate between CPUs.
 * Reason and category rows are sums of reason+detail cells, process rows
 * sums of pid+vCPU+reason cells, made when asked.
 *
 * Hot path: a few open-addressing lookups on integer keys, with each
 * thread caching the cells of its recent exits (32 slots, direct mapped by
 * reason and detail: exits repeat); no allocation but the amortised growth
 * of tables and histogram groups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RIPS_MAX 4096		/* distinct RIPs counted per reason */

/* An open-addressing map from two 64-bit keys to a non-zero value. */
struct map_ent {
	uint64_t k1, k2, val;	/* val 0: empty */
};

struct map {
	struct map_ent *e;
	size_t mask, nr;
};

static inline size_t map_hash(const struct map *m, uint64_t k1, uint64_t k2)
{
	uint64_t h = (k1 ^ (k2 * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;

	return (size_t)(h ^ (h >> 31)) & m->mask;
}

static inline uint64_t *map_find(const struct map *m, uint64_t k1, uint64_t k2)
{
	if (!m->e)
		return NULL;
	for (size_t i = map_hash(m, k1, k2);; i = (i + 1) & m->mask) {
		struct map_ent *e = &m->e[i];

		if (!e->val)
			return NULL;
		if (e->k1 == k1 && e->k2 == k2)
			return &e->val;
	}
}

static int map_grow(struct map *m)
{
	size_t cap = m->e ? (m->mask + 1) * 2 : 64;
	struct map_ent *e = calloc(cap, sizeof(*e));
	struct map old = *m;

	if (!e)
		return -ENOMEM;
	m->e = e;
	m->mask = cap - 1;
	for (size_t i = 0; old.e && i <= old.mask; i++) {
		size_t j;

		if (!old.e[i].val)
			continue;
		for (j = map_hash(m, old.e[i].k1, old.e[i].k2); e[j].val; j = (j + 1) & m->mask)
			;
		e[j] = old.e[i];
	}
	free(old.e);
	return 0;
}

/*
 * The value slot of a key, made (with value 0, which the caller must set
 * non-zero) when missing.  NULL: out of memory.  Valid until the next add.
 */
static inline uint64_t *map_add(struct map *m, uint64_t k1, uint64_t k2)
{
	size_t i;

	if ((m->nr + 1) * 2 > (m->e ? m->mask + 1 : 0) && map_grow(m))
		return NULL;
	for (i = map_hash(m, k1, k2); m->e[i].val; i = (i + 1) & m->mask)
		if (m->e[i].k1 == k1 && m->e[i].k2 == k2)
			return &m->e[i].val;
	m->e[i].k1 = k1;
	m->e[i].k2 = k2;
	m->nr++;
	return &m->e[i].val;
}

static void map_release(struct map *m)
{
	free(m->e);
	*m = (struct map){ 0 };
}

/* A growing array of fixed-size items. */
static int array_grow(void **v, size_t *alloc, size_t nr, size_t size)
{
	size_t n;
	void *p;

	if (nr < *alloc)
		return 0;
	n = *alloc ? *alloc * 2 : 16;
	p = realloc(*v, n * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*alloc = n;
	return 0;
}

/* One aggregation cell: counts and times of one key. */
struct cell {
	uint64_t k1, k2;
	uint64_t count, timed, total, min, max;
	struct kx_hist *hist;		/* allocated at the first timed exit */
	uint32_t rips;			/* detail cells: RIP table + 1, 0: none */
};

struct cells {
	struct map map;			/* (k1, k2) -> index + 1 */
	struct cell *v;
	size_t nr, alloc;
};

/* Keys: k1 = isa << 32 | reason everywhere; k2 says which cell. */
static inline uint64_t key_reason(enum kvmexit_isa isa, uint32_t reason)
{
	return (uint64_t)isa << 32 | reason;
}

static inline uint64_t key_pid_vcpu(int32_t pid, int32_t vcpu)
{
	return (uint64_t)(uint32_t)pid << 32 | (uint32_t)vcpu;
}

/* The index of the cell for (k1, k2), made when missing; -ENOMEM. */
static int cells_get(struct cells *c, uint64_t k1, uint64_t k2, uint32_t *idx, bool *made)
{
	uint64_t *v = map_add(&c->map, k1, k2);

	if (!v)
		return -ENOMEM;
	*made = !*v;
	if (*v) {
		*idx = (uint32_t)(*v - 1);
		return 0;
	}
	if (array_grow((void **)&c->v, &c->alloc, c->nr, sizeof(*c->v))) {
		/* Keep the map consistent: take the key out again. */
		c->map.nr--;
		*v = 0;
		return -ENOMEM;
	}
	c->v[c->nr] = (struct cell){ .k1 = k1, .k2 = k2 };
	*idx = (uint32_t)c->nr;
	*v = ++c->nr;
	return 0;
}

static void cells_release(struct cells *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		if (c->v[i].hist)
			kx_hist_release(c->v[i].hist);
		free(c->v[i].hist);
	}
	free(c->v);
	map_release(&c->map);
	*c = (struct cells){ 0 };
}

/* Times one exit of dt ns into c; bucket is kx_hist_index(dt). */
static int cell_time(struct cell *c, uint64_t dt, unsigned int bucket)
{
	uint64_t **g;

	if (__builtin_expect(!c->hist, 0)) {
		c->hist = calloc(1, sizeof(*c->hist));
		if (!c->hist)
			return -ENOMEM;
	}
	g = &c->hist->group[bucket >> KX_HIST_SUB_BITS];
	if (__builtin_expect(!*g, 0)) {
		*g = calloc(KX_HIST_SUB, sizeof(**g));
		if (!*g)
			return -ENOMEM;
	}
	(*g)[bucket & (KX_HIST_SUB - 1)]++;
	if (!c->timed || dt < c->min)
		c->min = dt;
	if (dt > c->max)
		c->max = dt;
	c->timed++;
	c->total += dt;
	return 0;
}

/* The guest RIPs of one reason. */
struct rips {
	struct map map;			/* (rip, 0) -> count */
};

/* Cell tables; process rows are sums of the pid+vCPU+reason cells. */
enum { C_DETAIL, C_VCPU, C__MAX };

/* The cells of one (reason, detail, pid, vCPU) a thread has seen. */
struct tcell {
	uint64_t k1;
	uint32_t detail;
	int32_t pid, vcpu;
	uint32_t cell[C__MAX];
};

#define TCELLS_BITS 5
#define TCELLS (1u << TCELLS_BITS)	/* a thread's cache of cells */

/* A vCPU thread: its pending exit, and the cells of its recent exits. */
struct thread {
	bool pending;			/* cell[] is an exit awaiting its entry */
	uint32_t tc_valid;		/* bit i: tc[i] is valid */
	uint64_t exit_time;
	uint32_t cell[C__MAX];
	struct tcell tc[TCELLS];	/* direct mapped by tcell_slot() */
};

/* A cached thread lookup: idx is the thread's index + 1, 0: empty. */
struct tid_slot {
	int32_t tid;
	uint32_t idx;
};

struct kvmexit_profile {
	struct kvmexit_profile_opts opts;
	char *reason_name;
	uint32_t name_code[3];		/* reason_name per ISA: code + 1, 0 unresolved */
	bool name_tried[3];
	struct kvmexit_meta meta;
	struct cells cells[C__MAX];
	struct map thread_map;		/* (tid, 0) -> index + 1 */
	struct tid_slot tid_cache[64];	/* by tid % 64 */
	struct thread *threads;
	size_t nr_threads, alloc_threads;
	struct map rip_map;		/* (k1, 0) -> index + 1 */
	struct rips *rips;
	size_t nr_rips, alloc_rips;
	struct kvmexit_profile_totals t;
	uint64_t lost_events;
	bool seen_time;
	bool filtered;			/* any of opts.pid, vcpu, reason */
	unsigned int isa_mask;
};

KVMEXIT_API int kvmexit_profile_new(const struct kvmexit_profile_opts *opts,
				    struct kvmexit_profile **out)
{
	struct kvmexit_profile *p;

	if (!out || (opts && opts->sz < sizeof(opts->sz)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->opts = (struct kvmexit_profile_opts){ .sz = sizeof(p->opts), .pid = -1, .vcpu = -1 };
	if (opts) {
		size_t n = opts->sz < sizeof(*opts) ? opts->sz : sizeof(*opts);

		memcpy(&p->opts, opts, n);
		p->opts.sz = sizeof(p->opts);
	}
	/* Internally a filter is on when its id is >= 0. */
	if ((p->opts.has_pid && p->opts.pid < 0) || (p->opts.has_vcpu && p->opts.vcpu < 0)) {
		free(p);
		return -EINVAL;
	}
	if (!p->opts.has_pid)
		p->opts.pid = -1;
	if (!p->opts.has_vcpu)
		p->opts.vcpu = -1;
	if (p->opts.reason_name) {
		p->reason_name = strdup(p->opts.reason_name);
		if (!p->reason_name) {
			free(p);
			return -ENOMEM;
		}
		p->opts.reason_name = p->reason_name;
	}
	p->filtered = p->opts.pid >= 0 || p->opts.vcpu >= 0 || p->opts.has_reason ||
		      p->reason_name;
	*out = p;
	return 0;
}

KVMEXIT_API void kvmexit_profile_free(struct kvmexit_profile *p)
{
	if (!p)
		return;
	for (int i = 0; i < C__MAX; i++)
		cells_release(&p->cells[i]);
	map_release(&p->thread_map);
	free(p->threads);
	for (size_t i = 0; i < p->nr_rips; i++)
		map_release(&p->rips[i].map);
	free(p->rips);
	map_release(&p->rip_map);
	free(p->reason_name);
	free(p);
}

bool kx_profile_filters_ids(const struct kvmexit_profile *p)
{
	return p->opts.pid >= 0 || p->opts.vcpu >= 0;
}

KVMEXIT_API void kvmexit_profile_set_meta(struct kvmexit_profile *p,
					  const struct kvmexit_meta *meta)
{
	p->meta = *meta;
}

KVMEXIT_API const struct kvmexit_meta *
kvmexit_profile_meta(const struct kvmexit_profile *p)
{
	return &p->meta;
}

/* The thread of tid, made when missing (not pending). */
static int thread_get(struct kvmexit_profile *p, int32_t tid, struct thread **out)
{
	struct tid_slot *tc = &p->tid_cache[(uint32_t)tid % 64];
	uint64_t *v;

	if (tc->idx && tc->tid == tid) {
		*out = &p->threads[tc->idx - 1];
		return 0;
	}
	v = map_add(&p->thread_map, (uint32_t)tid, 0);
	if (!v)
		return -ENOMEM;
	if (!*v) {
		if (array_grow((void **)&p->threads, &p->alloc_threads, p->nr_threads,
			       sizeof(*p->threads))) {
			p->thread_map.nr--;
			return -ENOMEM;
		}
		p->threads[p->nr_threads] = (struct thread){ 0 };
		*v = ++p->nr_threads;
	}
	tc->tid = tid;
	tc->idx = (uint32_t)*v;
	*out = &p->threads[*v - 1];
	return 0;
}

static struct thread *thread_find(struct kvmexit_profile *p, int32_t tid)
{
	struct tid_slot *tc = &p->tid_cache[(uint32_t)tid % 64];
	uint64_t *v;

	if (tc->idx && tc->tid == tid)
		return &p->threads[tc->idx - 1];
	v = map_find(&p->thread_map, (uint32_t)tid, 0);
	if (!v)
		return NULL;
	tc->tid = tid;
	tc->idx = (uint32_t)*v;
	return &p->threads[*v - 1];
}

/* Resolves opts.reason_name in one ISA, once. */
static bool name_matches(struct kvmexit_profile *p, enum kvmexit_isa isa, uint32_t reason)
{
	uint32_t code;

	if (isa > KVMEXIT_ISA_SVM)
		return false;
	if (!p->name_tried[isa]) {
		p->name_tried[isa] = true;
		if (isa != KVMEXIT_ISA_UNKNOWN &&
		    !kvmexit_reason_parse(isa, p->reason_name, &code))
			p->name_code[isa] = (isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(code) : code) + 1;
	}
	return p->name_code[isa] && p->name_code[isa] - 1 == reason;
}

static bool reason_wanted(struct kvmexit_profile *p, enum kvmexit_isa isa, uint32_t reason)
{
	const struct kvmexit_profile_opts *o = &p->opts;
	uint32_t want;

	if (p->reason_name)
		return name_matches(p, isa, reason);
	if (!o->has_reason)
		return true;
	if (o->reason_isa != KVMEXIT_ISA_UNKNOWN && o->reason_isa != isa)
		return false;
	want = isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(o->reason) : o->reason;
	return want == reason;
}

static inline bool exit_wanted(struct kvmexit_profile *p, const struct kvmexit_event *ev,
				enum kvmexit_isa isa, uint32_t reason)
{
	if (!p->filtered)
		return true;
	if (p->opts.pid >= 0 && ev->pid != p->opts.pid)
		return false;
	if (p->opts.vcpu >= 0 && ev->vcpu != (uint32_t)p->opts.vcpu)
		return false;
	return reason_wanted(p, isa, reason);
}

/* The RIP table of a reason, made when missing: its index + 1. */
static int rips_get(struct kvmexit_profile *p, uint64_t k1, uint32_t *out)
{
	uint64_t *v = map_add(&p->rip_map, k1, 0);

	if (!v)
		return -ENOMEM;
	if (!*v) {
		if (array_grow((void **)&p->rips, &p->alloc_rips, p->nr_rips, sizeof(*p->rips))) {
			p->rip_map.nr--;
			return -ENOMEM;
		}
		p->rips[p->nr_rips] = (struct rips){ 0 };
		*v = ++p->nr_rips;
	}
	*out = (uint32_t)*v;
	return 0;
}

static int rip_count(struct kvmexit_profile *p, uint32_t rips, uint64_t rip, uint64_t n)
{
	struct map *m = &p->rips[rips - 1].map;
	uint64_t *v;

	if (m->nr < RIPS_MAX) {
		v = map_add(m, rip, 0);
		if (!v)
			return -ENOMEM;
	} else {
		v = map_find(m, rip, 0);
		if (!v)
			return 0;	/* "other": the reason's count has it */
	}
	*v += n;
	return 0;
}

static inline unsigned int tcell_slot(uint64_t k1, uint32_t detail)
{
	uint32_t h = ((uint32_t)k1 ^ (uint32_t)(k1 >> 32)) * 0x9e3779b1u + detail * 0x85ebca6bu;

	return h >> (32 - TCELLS_BITS);
}

/* Finds (or makes) the cells of an exit into the thread's cache slot. */
static int exit_cells(struct kvmexit_profile *p, struct thread *th, unsigned int slot,
		      uint64_t k1, uint32_t detail, int32_t pid, int32_t vcpu)
{
	struct cells *c = p->cells;
	struct tcell *t = &th->tc[slot];
	bool made;
	int err;

	th->tc_valid &= ~(1u << slot);
	err = cells_get(&c[C_DETAIL], k1, detail, &t->cell[C_DETAIL], &made);
	if (!err && made && p->opts.top_rips)
		err = rips_get(p, k1, &c[C_DETAIL].v[t->cell[C_DETAIL]].rips);
	if (!err)
		err = cells_get(&c[C_VCPU], k1, key_pid_vcpu(pid, vcpu), &t->cell[C_VCPU], &made);
	if (err)
		return err;
	th->tc_valid |= 1u << slot;
	t->k1 = k1;
	t->detail = detail;
	t->pid = pid;
	t->vcpu = vcpu;
	return 0;
}

static int add_exit(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct kvmexit_exit x = ev->exit;
	struct thread *th;
	struct tcell *t;
	unsigned int slot;
	uint32_t reason, detail;
	uint64_t k1;
	int err;

	if (x.isa == KVMEXIT_ISA_UNKNOWN)
		x.isa = p->meta.isa;
	reason = x.isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(x.exit_reason) : x.exit_reason;
	err = thread_get(p, ev->tid, &th);
	if (err)
		return err;
	if (th->pending)
		p->t.unpaired++;
	th->pending = false;
	if (!exit_wanted(p, ev, x.isa, reason))
		return 0;
	detail = kvmexit_exit_detail(&x);
	k1 = key_reason(x.isa, reason);
	slot = tcell_slot(k1, detail);
	t = &th->tc[slot];
	if (!(th->tc_valid & (1u << slot)) || t->k1 != k1 || t->detail != detail ||
	    t->pid != ev->pid || t->vcpu != (int32_t)ev->vcpu) {
		err = exit_cells(p, th, slot, k1, detail, ev->pid, (int32_t)ev->vcpu);
		if (err)
			return err;
	}
	for (int i = 0; i < C__MAX; i++) {
		th->cell[i] = t->cell[i];
		p->cells[i].v[t->cell[i]].count++;
	}
	th->pending = true;
	th->exit_time = ev->time;
	p->t.exits++;
	p->isa_mask |= 1u << (x.isa & 3);
	if (p->opts.top_rips)
		return rip_count(p, p->cells[C_DETAIL].v[th->cell[C_DETAIL]].rips, x.guest_rip, 1);
	return 0;
}

static int add_entry(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct thread *th = thread_find(p, ev->tid);
	unsigned int bucket;
	uint64_t dt;
	int err = 0;

	if (p->opts.pid < 0 || ev->pid == p->opts.pid)
		p->t.entries++;
	if (!th || !th->pending)
		return 0;
	th->pending = false;
	if (ev->time < th->exit_time)
		return 0;	/* out of order: untimed rather than wrong */
	dt = ev->time - th->exit_time;
	bucket = kx_hist_index(dt);
	for (int i = 0; i < C__MAX && !err; i++)
		err = cell_time(&p->cells[i].v[th->cell[i]], dt, bucket);
	p->t.timed++;
	p->t.time_total_ns += dt;
	return err;
}

static void add_lost(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	for (size_t i = 0; i < p->nr_threads; i++) {
		if (p->threads[i].pending) {
			p->threads[i].pending = false;
			p->t.dropped_pairs++;
		}
	}
	p->lost_events += ev->lost.count;
}

KVMEXIT_API int kvmexit_profile_add_event(struct kvmexit_profile *p,
					  const struct kvmexit_event *ev)
{
	if (ev->type == KVMEXIT_EV_LOST) {
		add_lost(p, ev);
		return 0;
	}
	p->t.events++;
	if (!p->seen_time || ev->time < p->t.first_ns)
		p->t.first_ns = ev->time;
	if (!p->seen_time || ev->time > p->t.last_ns)
		p->t.last_ns = ev->time;
	p->seen_time = true;
	switch (ev->type) {
	case KVMEXIT_EV_EXIT:
		return add_exit(p, ev);
	case KVMEXIT_EV_ENTRY:
		return add_entry(p, ev);
	case KVMEXIT_EV_USERSPACE_EXIT:
	case KVMEXIT_EV_PIO:
	case KVMEXIT_EV_MMIO:
	case KVMEXIT_EV_MSR:
		if (p->opts.pid < 0 || ev->pid == p->opts.pid)
			p->t.other_events++;
		return 0;
	default:
		p->t.events--;
		return -EINVAL;
	}
}

KVMEXIT_API int kvmexit_profile_add_count(struct kvmexit_profile *p,
					  enum kvmexit_isa isa,
					  uint32_t exit_reason, uint32_t detail,
					  uint64_t count)
{
	struct thread th = { 0 };
	uint32_t reason;
	int err;

	if (isa > KVMEXIT_ISA_SVM)
		return -EINVAL;
	/* Counts carry no process or vCPU: such a filter cannot apply. */
	if (p->opts.pid >= 0 || p->opts.vcpu >= 0)
		return -EOPNOTSUPP;
	if (isa == KVMEXIT_ISA_UNKNOWN)
		isa = p->meta.isa;
	reason = isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(exit_reason) : exit_reason;
	if (!reason_wanted(p, isa, reason) || !count)
		return 0;
	err = exit_cells(p, &th, 0, key_reason(isa, reason), detail, -1, -1);
	if (err)
		return err;
	for (int i = 0; i < C__MAX; i++)
		p->cells[i].v[th.tc[0].cell[i]].count += count;
	p->t.exits += count;
	p->isa_mask |= 1u << (isa & 3);
	return 0;
}

/*
 * Distinct values of (k2 >> shift) among the cells of one table, other than
 * none: vCPUs (pid+vCPU keys, shift 0) or processes (their pid half).
 */
static uint32_t distinct_k2(const struct cells *c, unsigned int shift, uint64_t none)
{
	struct map seen = { 0 };
	uint32_t n = 0;

	for (size_t i = 0; i < c->nr; i++) {
		uint64_t key = c->v[i].k2 >> shift, *v;

		if (key == none)
			continue;
		v = map_add(&seen, key, 0);
		if (!v)
			break;
		if (!*v) {
			*v = 1;
			n++;
		}
	}
	map_release(&seen);
	return n;
}

KVMEXIT_API void kvmexit_profile_totals(const struct kvmexit_profile *p,
					struct kvmexit_profile_totals *out)
{
	const struct kvmexit_meta *m = &p->meta;

	*out = p->t;
	/* Lost records are the capture's own account; the meta's is a fallback. */
	out->lost = p->lost_events ? p->lost_events : m->lost;
	if (m->start_ns && m->end_ns > m->start_ns)
		out->duration_ns = m->end_ns - m->start_ns;
	else
		out->duration_ns = p->t.last_ns - p->t.first_ns;
	out->nr_vcpus = distinct_k2(&p->cells[C_VCPU], 0, key_pid_vcpu(-1, -1));
	out->nr_pids = distinct_k2(&p->cells[C_VCPU], 32, (uint32_t)-1);
	switch (p->isa_mask) {
	case 1u << KVMEXIT_ISA_VMX:
		out->isa = KVMEXIT_ISA_VMX;
		break;
	case 1u << KVMEXIT_ISA_SVM:
		out->isa = KVMEXIT_ISA_SVM;
		break;
	default:
		out->isa = KVMEXIT_ISA_UNKNOWN;
	}
}

/* A row being summed from cells. */
struct acc {
	struct kvmexit_stat st;
	struct kx_hist hist;
};

static void row_key(enum kvmexit_group g, const struct cell *c, uint64_t *k1, uint64_t *k2)
{
	enum kvmexit_isa isa = (enum kvmexit_isa)(c->k1 >> 32);

	*k1 = c->k1;
	*k2 = 0;
	switch (g) {
	case KVMEXIT_GROUP_REASON:
		break;
	case KVMEXIT_GROUP_CATEGORY:	/* detail cells: k2 is the detail */
		*k1 = key_reason(isa, kvmexit_detail_category(isa, (uint32_t)c->k1,
							      (uint32_t)c->k2));
		break;
	case KVMEXIT_GROUP_PID:		/* from pid+vCPU cells */
		*k2 = (uint32_t)(c->k2 >> 32);
		break;
	default:
		*k2 = c->k2;
	}
}

static void row_init(enum kvmexit_group g, struct kvmexit_stat *st, uint64_t k1, uint64_t k2)
{
	*st = (struct kvmexit_stat){
		.isa = (enum kvmexit_isa)(k1 >> 32),
		.reason = (uint32_t)k1,
		.vcpu = -1,
		.pid = -1,
	};
	if (g == KVMEXIT_GROUP_DETAIL)
		st->detail = (uint32_t)k2;
	else if (g == KVMEXIT_GROUP_VCPU) {
		st->pid = (int32_t)(k2 >> 32);
		st->vcpu = (int32_t)(uint32_t)k2;
	} else if (g == KVMEXIT_GROUP_PID)
		st->pid = (int32_t)(uint32_t)k2;
}

static int row_add(struct acc *a, const struct cell *c)
{
	struct kvmexit_stat *st = &a->st;

	st->count += c->count;
	if (!c->timed)
		return 0;
	if (!st->timed || c->min < st->time_min)
		st->time_min = c->min;
	if (c->max > st->time_max)
		st->time_max = c->max;
	st->timed += c->timed;
	st->time_total += c->total;
	return kx_hist_merge(&a->hist, c->hist);
}

static int stat_cmp(const void *a, const void *b)
{
	const struct kvmexit_stat *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->isa != y->isa)
		return x->isa < y->isa ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->detail != y->detail)
		return x->detail < y->detail ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

/* Sums the cells of one table into rows (accs[], *nr of them). */
static int sum_rows(const struct cells *c, enum kvmexit_group g, struct acc **accs, size_t *nr)
{
	struct map rows = { 0 };
	size_t alloc = 0;
	int err = 0;

	*accs = NULL;
	*nr = 0;
	for (size_t i = 0; i < c->nr && !err; i++) {
		uint64_t k1, k2, *v;

		row_key(g, &c->v[i], &k1, &k2);
		v = map_add(&rows, k1, k2);
		if (!v || (!*v && array_grow((void **)accs, &alloc, *nr, sizeof(**accs)))) {
			if (v && !*v)
				rows.nr--;
			err = -ENOMEM;
			break;
		}
		if (!*v) {
			memset(&(*accs)[*nr], 0, sizeof(**accs));
			row_init(g, &(*accs)[*nr].st, k1, k2);
			*v = ++*nr;
		}
		err = row_add(&(*accs)[*v - 1], &c->v[i]);
	}
	map_release(&rows);
	return err;
}

KVMEXIT_API int kvmexit_profile_stats(const struct kvmexit_profile *p,
				      enum kvmexit_group group,
				      struct kvmexit_stat **out)
{
	const struct cells *c;
	struct kvmexit_stat *rows;
	struct acc *accs;
	size_t nr;
	int err;

	switch (group) {
	case KVMEXIT_GROUP_REASON:
	case KVMEXIT_GROUP_DETAIL:
	case KVMEXIT_GROUP_CATEGORY:
		c = &p->cells[C_DETAIL];
		break;
	case KVMEXIT_GROUP_VCPU:
	case KVMEXIT_GROUP_PID:
		c = &p->cells[C_VCPU];
		break;
	default:
		return -EINVAL;
	}
	err = sum_rows(c, group, &accs, &nr);
	rows = err ? NULL : calloc(nr ? nr : 1, sizeof(*rows));
	if (!rows && !err)
		err = -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		struct kvmexit_stat *st = &accs[i].st;

		st->time_p50 = kx_hist_percentile(&accs[i].hist, st->timed, 50,
						  st->time_min, st->time_max);
		st->time_p99 = kx_hist_percentile(&accs[i].hist, st->timed, 99,
						  st->time_min, st->time_max);
		if (rows)
			rows[i] = *st;
		kx_hist_release(&accs[i].hist);
	}
	free(accs);
	if (err) {
		free(rows);
		return err;
	}
	qsort(rows, nr, sizeof(*rows), stat_cmp);
	*out = rows;
	return (int)nr;
}

KVMEXIT_API void kvmexit_stats_free(struct kvmexit_stat *rows)
{
	free(rows);
}

static int rip_cmp(const void *a, const void *b)
{
	const struct kvmexit_rip *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->rip < y->rip ? -1 : x->rip > y->rip;
}

KVMEXIT_API size_t kvmexit_profile_top_rips(const struct kvmexit_profile *p,
					    enum kvmexit_isa isa, uint32_t reason,
					    struct kvmexit_rip *out, size_t max)
{
	const struct map *m;
	struct kvmexit_rip *all;
	uint64_t *v;
	size_t n = 0;

	if (isa == KVMEXIT_ISA_VMX)
		reason = kvmexit_vmx_basic(reason);
	v = map_find(&p->rip_map, key_reason(isa, reason), 0);
	if (!v || !max)
		return 0;
	m = &p->rips[*v - 1].map;
	all = malloc((m->nr ? m->nr : 1) * sizeof(*all));
	if (!all)
		return 0;
	for (size_t i = 0; m->e && i <= m->mask; i++)
		if (m->e[i].val)
			all[n++] = (struct kvmexit_rip){ .rip = m->e[i].k1, .count = m->e[i].val };
	qsort(all, n, sizeof(*all), rip_cmp);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}
