// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles: kvm exits aggregated per reason and detail, per vCPU and per
 * VMM process, with exit-handling times.
 *
 * The exit-handling time of an exit runs from its kvm_exit to the next
 * kvm_entry of the same thread (a vCPU thread runs one vCPU, and may
 * migrate between CPUs).  Each thread has one pending-exit slot:
 *  - kvm_exit counts the exit in its cell, the one of its (ISA, reason,
 *    detail, pid, vCPU), and makes it the thread's pending exit; a pending
 *    exit still there (exit, exit, entry) stays counted but untimed
 *    ("unpaired");
 *  - kvm_entry times the pending exit into its cell;
 *  - a lost-records record drops every pending exit ("dropped pairs"):
 *    the records lost may be any thread's entry, whichever CPU reported
 *    the loss, since vCPU threads migrate between CPUs.  In O(1), not a
 *    walk of every thread: it counts the pending exits as dropped and
 *    starts a new generation (lost_gen); a pending exit of an older one
 *    is void.
 * Every row of every grouping is a sum of cells, made when asked, and so
 * are the totals of exits and times.  Cells are few (reasons x details x
 * vCPUs), so the sums are cheap.
 *
 * Hot path: the thread of a tid from a 64-slot cache, the cell of an exit
 * from the thread's own table of the (reason, detail) cells it has seen (a
 * thread runs one vCPU of one process, so they are the thread's), one count
 * per exit and one histogram bucket per timed entry; no allocation but the
 * amortised growth of tables and histogram groups.
 *
 * Parts: a capture can be aggregated in parts, each into its own profile,
 * and the profiles merged in order (kx_profile_merge()); see "Parts" below.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RIPS_MAX 4096		/* distinct RIPs counted per reason */

/* Kinds of hot-path functions (see "The hot path" below). */
#define HOT static inline __attribute__((always_inline))
#define OWN_FRAME static __attribute__((noinline))
#define RARE static __attribute__((noinline, cold))

/*
 * Hashing that a capture cannot aim at: tids, pids, vCPUs, details and
 * RIPs all come from the input, so a fixed hash lets a hostile capture put
 * every key in one probe chain (quadratic time).  Each profile draws its
 * own multipliers (kx_hash_key(): getrandom); for any fixed set of keys, the
 * multiply-add of three words collides for two distinct keys with
 * probability about 2^-64 and the finaliser then spreads the sum, so the
 * expected probe length does not depend on the keys.  The thread tables
 * on the hot path use multiply-shift with the profile's odd multiplier
 * (a universal family: two keys share a slot with probability <= 2/size).
 */
struct hkey {
	uint64_t a[3];			/* odd */
	uint64_t tc;			/* odd: thread tables */
	uint64_t probes;		/* slots looked at, for tests (kx_profile_probes()) */
};

/* An open-addressing map from three 64-bit keys to a non-zero value. */
struct map_ent {
	uint64_t k1, k2, k3, val;	/* val 0: empty */
};

struct map {
	struct map_ent *e;
	size_t mask, nr;
	struct hkey *key;		/* the profile's; set before the first add */
};

#define PROBE(m) ((m)->key->probes++)

static inline size_t map_hash(const struct map *m, uint64_t k1, uint64_t k2, uint64_t k3)
{
	uint64_t h = k1 * m->key->a[0] + k2 * m->key->a[1] + k3 * m->key->a[2];

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & m->mask;
}

static inline bool map_ent_is(const struct map_ent *e, uint64_t k1, uint64_t k2, uint64_t k3)
{
	return e->k1 == k1 && e->k2 == k2 && e->k3 == k3;
}

static uint64_t *map_find(const struct map *m, uint64_t k1, uint64_t k2, uint64_t k3)
{
	if (!m->e)
		return NULL;
	for (size_t i = map_hash(m, k1, k2, k3);; i = (i + 1) & m->mask) {
		struct map_ent *e = &m->e[i];

		PROBE(m);
		if (!e->val)
			return NULL;
		if (map_ent_is(e, k1, k2, k3))
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
		const struct map_ent *o = &old.e[i];
		size_t j;

		if (!o->val)
			continue;
		for (j = map_hash(m, o->k1, o->k2, o->k3); PROBE(m), e[j].val; j = (j + 1) & m->mask)
			;
		e[j] = *o;
	}
	free(old.e);
	return 0;
}

/*
 * The value slot of a key, made (with value 0, which the caller must set
 * non-zero, or take back with map_unadd()) when missing.  NULL: out of
 * memory.  Valid until the next add.
 */
static uint64_t *map_add(struct map *m, uint64_t k1, uint64_t k2, uint64_t k3)
{
	size_t i;

	if ((m->nr + 1) * 2 > (m->e ? m->mask + 1 : 0) && map_grow(m))
		return NULL;
	for (i = map_hash(m, k1, k2, k3); PROBE(m), m->e[i].val; i = (i + 1) & m->mask)
		if (map_ent_is(&m->e[i], k1, k2, k3))
			return &m->e[i].val;
	m->e[i] = (struct map_ent){ .k1 = k1, .k2 = k2, .k3 = k3 };
	m->nr++;
	return &m->e[i].val;
}

/* Takes back a key map_add() just made, whose value is still 0. */
static void map_unadd(struct map *m)
{
	m->nr--;
}

static void map_release(struct map *m)
{
	free(m->e);
	*m = (struct map){ .key = m->key };
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

/*
 * One aggregation cell: the exits of one (ISA, reason, detail, pid, vCPU).
 * Allocated one by one, so that threads can point at them.
 */
struct cell {
	uint64_t count, timed, total;
	uint64_t min, max;		/* min: UINT64_MAX until timed */
	unsigned __int128 sumsq;	/* of the times, for the standard deviation */
	uint64_t k1;			/* key_reason() */
	uint64_t k3;			/* key_pid_vcpu() */
	uint32_t detail;
	uint32_t rips;			/* the reason's RIP table + 1, 0: none */
	struct kx_hist hist;
};

struct cells {
	struct map map;			/* (k1, detail, k3) -> struct cell * */
	struct cell **v;		/* in the order made */
	size_t nr, alloc;
};

static inline uint64_t key_reason(enum kvmexit_isa isa, uint32_t reason)
{
	return (uint64_t)isa << 32 | reason;
}

static inline uint64_t key_pid_vcpu(int32_t pid, uint32_t vcpu)
{
	return (uint64_t)(uint32_t)pid << 32 | vcpu;
}

/* Counted exits (kvmexit_profile_add_count()) have neither. */
#define KEY_NO_VCPU key_pid_vcpu(-1, (uint32_t)-1)
/* The owner of retired processes' exits (kvmexit_profile_retire_pid()). */
#define KEY_RETIRED key_pid_vcpu(KVMEXIT_PID_RETIRED, (uint32_t)-1)

static inline int32_t cell_pid(const struct cell *c)
{
	return (int32_t)(c->k3 >> 32);
}

static struct cell *cell_find(const struct cells *c, uint64_t k1, uint32_t detail, uint64_t k3)
{
	uint64_t *v = map_find(&c->map, k1, detail, k3);

	return v ? (struct cell *)(uintptr_t)*v : NULL;
}

static void cells_release(struct cells *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		kx_hist_release(&c->v[i]->hist);
		free(c->v[i]);
	}
	free(c->v);
	map_release(&c->map);
	*c = (struct cells){ .map.key = c->map.key };	/* the profile's secret stays */
}

/* The guest RIPs of one reason. */
struct rips {
	struct map map;			/* (rip) -> count */
};

/* A thread's cells: (reason key, detail) -> cell, for one pid and vCPU. */
struct tc_ent {
	uint64_t k1;
	uint32_t detail;
	struct cell *cell;		/* NULL: empty */
};

struct tcache {
	struct tc_ent *e;
	uint32_t mask, nr;
	unsigned int shift;		/* 64 - log2(mask + 1) */
	struct hkey *key;		/* the profile's */
};

/* How a thread first appears in a part profile (kx_profile_set_part()). */
enum first_event {
	FIRST_NONE,			/* not a part profile */
	FIRST_EXIT,
	FIRST_ENTRY,			/* at first_time */
	FIRST_OTHER,			/* only other events so far (others_first) */
};

/* A vCPU thread: its pending exit, and the cells it has counted into. */
struct thread {
	struct cell *pending;		/* the exit awaiting its entry, or NULL; */
	uint64_t pending_gen;		/* ... void unless this is the profile's lost_gen */
	uint64_t exit_time;
	int32_t pid;			/* the pid and vCPU of cache's cells */
	uint32_t vcpu;
	struct tcache cache;
	int32_t tid;
	uint8_t first;			/* enum first_event */
	bool lost_first;		/* a lost record came before its first event */
	bool entry_kept;		/* FIRST_ENTRY: of the pid and vCPU filtered on */
	uint32_t others_first;		/* kept other events before its first exit,
					 * entry or lost record (part profiles) */
	uint64_t first_time;
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
	bool filtered;			/* any of opts.pid, vcpu, reason */
	bool part;			/* kx_profile_set_part() */
	bool seen_lost;			/* a lost record came */
	struct kvmexit_meta meta;
	struct hkey hkey;		/* of every map and thread table */
	struct cells cells;
	struct map thread_map;		/* (tid) -> index + 1 */
	struct tid_slot tid_cache[64];	/* by tid % 64 */
	struct thread *threads;
	size_t nr_threads, alloc_threads;
	struct map rip_map;		/* (reason key) -> index + 1 */
	struct rips *rips;
	size_t nr_rips, alloc_rips;
	/*
	 * Counted as events come: events, entries, unpaired, dropped_pairs,
	 * other_events, and first_ns/last_ns (UINT64_MAX and 0 before the
	 * first event).  The rest is summed from cells when asked.
	 */
	struct kvmexit_profile_totals t;
	uint64_t lost_events;
	/* kvm_exit event times, before filters: UINT64_MAX and 0 before one. */
	uint64_t first_exit, last_exit;
	uint64_t table_exit_span;	/* a count table's "# exit_span:", ns */
	bool counted;			/* kvmexit_profile_add_count() added exits */
	struct kx_names names;		/* thread names (COMM records) */
	struct kx_access acc;		/* opts.accesses (access.c) */
	char *vm_name;			/* opts.vm_name, copied */
	uint64_t lost_gen;		/* lost records so far: pending exits' generation */
	uint64_t nr_pending;		/* threads with a pending exit of this generation */
	uint64_t nr_retired;		/* processes retired (kvmexit_profile_retire_pid()) */
	/*
	 * (pid) -> its life: nr_retired + 1 when its first cell was made, gone
	 * when it is retired.  A pid reused after its retirement has a new
	 * life, by which snapshots tell it from its old one (lib/snapshot.c).
	 * Kept from the first retirement on (lives_prepare()); before it, every
	 * pid's life is 1, and a profile that retires nothing pays nothing.
	 */
	struct map lives;
	/* --bpf (kx_profile_set_cells()): kvm_pio counts per pid, and those retired. */
	struct map pio_pids;		/* (pid) -> events */
	uint64_t retired_events, retired_other;
};

/* The thread's pending exit, NULL if none or dropped by a lost record since. */
static inline struct cell *pending_of(const struct kvmexit_profile *p, const struct thread *th)
{
	return th->pending && th->pending_gen == p->lost_gen ? th->pending : NULL;
}

static void hkey_init(struct hkey *k)
{
	uint64_t r[4];

	kx_hash_key(r, 4);	/* odd */
	for (int i = 0; i < 3; i++)
		k->a[i] = r[i];
	k->tc = r[3];
	k->probes = 0;
}

uint64_t kx_profile_probes(const struct kvmexit_profile *p)
{
	return p->hkey.probes;
}

KVMEXIT_API int kvmexit_profile_new(const struct kvmexit_profile_opts *opts,
				    struct kvmexit_profile **out)
{
	struct kvmexit_profile *p;

	if (!out || (opts && opts->sz < sizeof(opts->sz)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->opts = kx_profile_opts_copy(opts);
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
	if (p->opts.vm_name) {
		p->vm_name = strdup(p->opts.vm_name);
		if (!p->vm_name) {
			free(p->reason_name);
			free(p);
			return -ENOMEM;
		}
		p->opts.vm_name = p->vm_name;
	}
	p->filtered = p->opts.pid >= 0 || p->opts.vcpu >= 0 || p->opts.has_reason ||
		      p->reason_name;
	p->t.first_ns = UINT64_MAX;
	p->first_exit = UINT64_MAX;
	hkey_init(&p->hkey);
	p->cells.map.key = p->thread_map.key = p->rip_map.key = p->pio_pids.key = &p->hkey;
	p->lives.key = &p->hkey;
	*out = p;
	return 0;
}

KVMEXIT_API void kvmexit_profile_free(struct kvmexit_profile *p)
{
	if (!p)
		return;
	cells_release(&p->cells);
	map_release(&p->thread_map);
	for (size_t i = 0; i < p->nr_threads; i++)
		free(p->threads[i].cache.e);
	free(p->threads);
	for (size_t i = 0; i < p->nr_rips; i++)
		map_release(&p->rips[i].map);
	free(p->rips);
	map_release(&p->rip_map);
	map_release(&p->pio_pids);
	map_release(&p->lives);
	free(p->reason_name);
	kx_names_release(&p->names);
	kx_access_release(&p->acc);
	free(p->vm_name);
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

/* The RIP table of a reason, made when missing: its index + 1. */
static int rips_get(struct kvmexit_profile *p, uint64_t k1, uint32_t *out)
{
	uint64_t *v = map_add(&p->rip_map, k1, 0, 0);

	if (!v)
		return -ENOMEM;
	if (!*v) {
		if (array_grow((void **)&p->rips, &p->alloc_rips, p->nr_rips, sizeof(*p->rips))) {
			map_unadd(&p->rip_map);
			return -ENOMEM;
		}
		p->rips[p->nr_rips] = (struct rips){ .map.key = &p->hkey };
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
		v = map_add(m, rip, 0, 0);
		if (!v)
			return -ENOMEM;
	} else {
		v = map_find(m, rip, 0, 0);
		if (!v)
			return 0;	/* "other": the reason's count has it */
	}
	*v += n;
	return 0;
}

/* pid's life in lives, made when it has none: the profile's nr_retired + 1. */
static int life_note(struct kvmexit_profile *p, int32_t pid)
{
	uint64_t *v = map_add(&p->lives, (uint32_t)pid, 0, 0);

	if (!v)
		return -ENOMEM;
	if (!*v)
		*v = p->nr_retired + 1;
	return 0;
}

/* The cell of a key, made when missing (with its reason's RIP table). */
static struct cell *cell_get(struct kvmexit_profile *p, uint64_t k1, uint32_t detail,
			     uint64_t k3)
{
	struct cells *cs = &p->cells;
	struct cell *c = cell_find(cs, k1, detail, k3);
	uint32_t rips = 0;
	uint64_t *v;

	if (c)
		return c;
	if (p->opts.top_rips && rips_get(p, k1, &rips))
		return NULL;
	/* from the first retirement on, a new pid's life (lives) */
	if (p->nr_retired && (int32_t)(k3 >> 32) >= 0 && life_note(p, (int32_t)(k3 >> 32)))
		return NULL;
	if (array_grow((void **)&cs->v, &cs->alloc, cs->nr, sizeof(*cs->v)))
		return NULL;
	c = calloc(1, sizeof(*c));
	v = c ? map_add(&cs->map, k1, detail, k3) : NULL;
	if (!v) {
		free(c);
		return NULL;
	}
	c->k1 = k1;
	c->detail = detail;
	c->k3 = k3;
	c->min = UINT64_MAX;
	c->rips = rips;
	*v = (uintptr_t)c;
	cs->v[cs->nr++] = c;
	return c;
}

static inline uint32_t tcache_slot(const struct tcache *t, uint64_t k1, uint32_t detail)
{
	uint64_t h = ((k1 << 32 | k1 >> 32) ^ detail) * t->key->tc;

	return (uint32_t)(h >> t->shift);
}

/* The cell of (k1, detail) in a thread's table, or NULL. */
static inline struct cell *tcache_find(const struct tcache *t, uint64_t k1, uint32_t detail)
{
	if (!t->e)
		return NULL;
	for (uint32_t i = tcache_slot(t, k1, detail);; i = (i + 1) & t->mask) {
		const struct tc_ent *e = &t->e[i];

		PROBE(t);
		if (!e->cell)
			return NULL;
		if (e->k1 == k1 && e->detail == detail)
			return e->cell;
	}
}

static void tcache_put(struct tcache *t, struct cell *c)
{
	uint32_t i = tcache_slot(t, c->k1, c->detail);

	while (PROBE(t), t->e[i].cell)
		i = (i + 1) & t->mask;
	t->e[i] = (struct tc_ent){ .k1 = c->k1, .detail = c->detail, .cell = c };
	t->nr++;
}

/* Adds a cell that tcache_find() did not find. */
static int tcache_add(struct tcache *t, struct cell *c)
{
	struct tcache old = *t;
	uint32_t cap;

	if ((t->nr + 1) * 2 > (t->e ? t->mask + 1 : 0)) {
		cap = t->e ? (t->mask + 1) * 2 : 4;	/* most threads run few reasons */
		t->e = calloc(cap, sizeof(*t->e));
		if (!t->e) {
			*t = old;
			return -ENOMEM;
		}
		t->mask = cap - 1;
		t->shift = 64 - (unsigned int)__builtin_ctz(cap);
		t->nr = 0;
		for (uint32_t i = 0; old.e && i <= old.mask; i++)
			if (old.e[i].cell)
				tcache_put(t, old.e[i].cell);
		free(old.e);
	}
	tcache_put(t, c);
	return 0;
}

/* The thread's cells are of another pid or vCPU now: forget them. */
static void tcache_reset(struct thread *th, int32_t pid, uint32_t vcpu)
{
	if (th->cache.e)
		memset(th->cache.e, 0, (th->cache.mask + 1) * sizeof(*th->cache.e));
	th->cache.nr = 0;
	th->pid = pid;
	th->vcpu = vcpu;
}

/* An exit's cell that its thread's table lacks: found or made, and added. */
RARE struct cell *exit_cell(struct kvmexit_profile *p, struct thread *th,
			   const struct kvmexit_event *ev, uint64_t k1, uint32_t detail)
{
	struct cell *c;

	if (ev->pid != th->pid || ev->vcpu != th->vcpu)
		tcache_reset(th, ev->pid, ev->vcpu);
	c = cell_get(p, k1, detail, key_pid_vcpu(ev->pid, ev->vcpu));
	if (c && tcache_add(&th->cache, c))
		return NULL;
	return c;
}

/* The thread of tid, or NULL, past the tid cache. */
OWN_FRAME struct thread *thread_lookup(struct kvmexit_profile *p, int32_t tid)
{
	struct tid_slot *tc = &p->tid_cache[(uint32_t)tid % 64];
	uint64_t *v = map_find(&p->thread_map, (uint32_t)tid, 0, 0);

	if (!v)
		return NULL;
	tc->tid = tid;
	tc->idx = (uint32_t)*v;
	return &p->threads[*v - 1];
}

/*
 * A new thread for tid (which has none), not pending; in a part profile,
 * it remembers how it first appears.  NULL: out of memory.
 */
RARE struct thread *thread_new(struct kvmexit_profile *p, int32_t tid,
			       enum first_event first, uint64_t time)
{
	uint64_t *v = map_add(&p->thread_map, (uint32_t)tid, 0, 0);

	if (!v)
		return NULL;
	if (array_grow((void **)&p->threads, &p->alloc_threads, p->nr_threads,
		       sizeof(*p->threads))) {
		map_unadd(&p->thread_map);
		return NULL;
	}
	p->threads[p->nr_threads] = (struct thread){ .tid = tid, .cache.key = &p->hkey };
	if (p->part) {
		p->threads[p->nr_threads].first = (uint8_t)first;
		p->threads[p->nr_threads].first_time = time;
		p->threads[p->nr_threads].lost_first = p->seen_lost;
	}
	*v = ++p->nr_threads;
	return thread_lookup(p, tid);
}

static const struct thread *thread_of(const struct kvmexit_profile *p, int32_t tid);

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

/* Whether the filters keep an exit (only called when there are some). */
static bool exit_wanted(struct kvmexit_profile *p, const struct kvmexit_event *ev,
			enum kvmexit_isa isa, uint32_t reason)
{
	if (p->opts.pid >= 0 && ev->pid != p->opts.pid)
		return false;
	if (p->opts.vcpu >= 0 && ev->vcpu != (uint32_t)p->opts.vcpu)
		return false;
	return reason_wanted(p, isa, reason);
}

/*
 * The hot path: kvmexit_profile_add_event() tail-calls add_exit() or
 * add_entry() (OWN_FRAME: not inlined, so that it saves no registers);
 * HOT functions are inlined into them; whatever the common case does not
 * need (a thread past the tid cache, filters, a new cell, a new histogram
 * group, RIPs) is in an OWN_FRAME or RARE function, tail-called, so that
 * the common case is short and saves few registers.
 */

/* The thread of tid in the tid cache, or NULL. */
HOT struct thread *thread_cached(struct kvmexit_profile *p, int32_t tid)
{
	const struct tid_slot *tc = &p->tid_cache[(uint32_t)tid % 64];

	if (__builtin_expect(tc->idx && tc->tid == tid, 1))
		return &p->threads[tc->idx - 1];
	return NULL;
}

/* Counts an exit into its cell c, which becomes th's pending exit. */
HOT int count_in(struct kvmexit_profile *p, const struct kvmexit_event *ev,
		 const struct kvmexit_exit *x, struct thread *th, struct cell *c)
{
	c->count++;
	th->pending = c;
	th->pending_gen = p->lost_gen;
	p->nr_pending++;
	th->exit_time = ev->time;
	if (p->opts.top_rips)
		return rip_count(p, c->rips, x->guest_rip, 1);
	return 0;
}

RARE int count_in_new(struct kvmexit_profile *p, const struct kvmexit_event *ev,
		      const struct kvmexit_exit *x, struct thread *th, uint64_t k1,
		      uint32_t detail)
{
	struct cell *c = exit_cell(p, th, ev, k1, detail);

	return c ? count_in(p, ev, x, th, c) : -ENOMEM;
}

/* Counts a wanted exit of thread th, its cell from the thread's table. */
HOT int count_wanted(struct kvmexit_profile *p, const struct kvmexit_event *ev,
		     const struct kvmexit_exit *x, struct thread *th, uint64_t k1,
		     uint32_t detail)
{
	struct cell *c = NULL;

	if (__builtin_expect(ev->pid == th->pid && ev->vcpu == th->vcpu, 1))
		c = tcache_find(&th->cache, k1, detail);
	if (__builtin_expect(!c, 0))
		return count_in_new(p, ev, x, th, k1, detail);
	return count_in(p, ev, x, th, c);
}

OWN_FRAME int count_filtered(struct kvmexit_profile *p, const struct kvmexit_event *ev,
			     const struct kvmexit_exit *x, struct thread *th, uint32_t detail)
{
	enum kvmexit_isa isa = x->isa;
	uint32_t reason = isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(x->exit_reason) :
						  x->exit_reason;

	if (!exit_wanted(p, ev, isa, reason))
		return 0;
	return count_wanted(p, ev, x, th, key_reason(isa, reason), detail);
}

/* Whether an event is of the pid and vCPU filtered on (kvm_entry has both). */
static inline bool ids_wanted(const struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	return (p->opts.pid < 0 || ev->pid == p->opts.pid) &&
	       (p->opts.vcpu < 0 || ev->vcpu == (uint32_t)p->opts.vcpu);
}

/*
 * A part profile's thread made by other events (FIRST_OTHER) shows how it
 * really begins: by this exit or entry.
 */
RARE void first_seen(struct kvmexit_profile *p, struct thread *th, enum first_event first,
		     const struct kvmexit_event *ev)
{
	th->first = (uint8_t)first;
	th->first_time = ev->time;
	th->lost_first = p->seen_lost;
	th->entry_kept = ids_wanted(p, ev);
}

/*
 * An exit of thread th: ends th's pending exit (untimed), and counts this
 * one if the filters want it.  x is ev's exit, with its ISA known.
 */
HOT int count_exit(struct kvmexit_profile *p, const struct kvmexit_event *ev,
		   const struct kvmexit_exit *x, struct thread *th, uint32_t detail)
{
	enum kvmexit_isa isa = x->isa;
	uint32_t reason = isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(x->exit_reason) :
						  x->exit_reason;

	if (th->pending) {
		if (th->pending_gen == p->lost_gen) {
			p->t.unpaired++;
			p->nr_pending--;
		}
		th->pending = NULL;
	}
	if (p->filtered)
		return count_filtered(p, ev, x, th, detail);
	return count_wanted(p, ev, x, th, key_reason(isa, reason), detail);
}

/* An exit whose thread is past the tid cache, or new. */
OWN_FRAME int count_exit_thread(struct kvmexit_profile *p, const struct kvmexit_event *ev,
				const struct kvmexit_exit *x, uint32_t detail)
{
	struct thread *th = thread_lookup(p, ev->tid);

	if (th && th->first == FIRST_OTHER)
		first_seen(p, th, FIRST_EXIT, ev);
	if (!th) {
		th = thread_new(p, ev->tid, FIRST_EXIT, ev->time);
		if (!th)
			return -ENOMEM;
	}
	return count_exit(p, ev, x, th, detail);
}

HOT int count_exit_x(struct kvmexit_profile *p, const struct kvmexit_event *ev,
		     const struct kvmexit_exit *x)
{
	uint32_t detail = kvmexit_exit_detail(x);
	struct thread *th = thread_cached(p, ev->tid);

	if (__builtin_expect(!th, 0))
		return count_exit_thread(p, ev, x, detail);
	return count_exit(p, ev, x, th, detail);
}

/* An exit without an ISA of its own has the meta's. */
OWN_FRAME int add_exit_meta_isa(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct kvmexit_exit x = ev->exit;

	x.isa = p->meta.isa;
	return count_exit_x(p, ev, &x);
}

OWN_FRAME int add_exit(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	if (__builtin_expect(ev->exit.isa == KVMEXIT_ISA_UNKNOWN, 0))
		return add_exit_meta_isa(p, ev);
	return count_exit_x(p, ev, &ev->exit);
}

RARE int cell_time_new_group(struct cell *c, uint64_t dt);

/* Times one exit of dt ns into c. */
HOT int cell_time(struct cell *c, uint64_t dt)
{
	unsigned int b = kx_hist_index(dt);
	uint64_t *g = c->hist.group[b >> KX_HIST_SUB_BITS];

	if (__builtin_expect(!g, 0))
		return cell_time_new_group(c, dt);
	g[b & (KX_HIST_SUB - 1)]++;
	if (dt < c->min)
		c->min = dt;
	if (dt > c->max)
		c->max = dt;
	c->timed++;
	c->total += dt;
	c->sumsq += (unsigned __int128)dt * dt;
	return 0;
}

RARE int cell_time_new_group(struct cell *c, uint64_t dt)
{
	uint64_t **g = &c->hist.group[kx_hist_index(dt) >> KX_HIST_SUB_BITS];

	*g = calloc(KX_HIST_SUB, sizeof(**g));
	return *g ? cell_time(c, dt) : -ENOMEM;
}

/* An entry of thread th at time t: times th's pending exit. */
HOT int time_pending(struct kvmexit_profile *p, struct thread *th, uint64_t t)
{
	struct cell *c = th->pending;

	if (!c)
		return 0;
	th->pending = NULL;
	if (th->pending_gen != p->lost_gen)
		return 0;	/* dropped by a lost record */
	p->nr_pending--;
	if (t < th->exit_time)
		return 0;	/* out of order: untimed rather than wrong */
	return cell_time(c, t - th->exit_time);
}

/*
 * An entry whose thread is past the tid cache, or unknown: nothing to time
 * then, but a part profile remembers it (the thread may have had an exit
 * pending in the part before).
 */
OWN_FRAME int add_entry_thread(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct thread *th = thread_lookup(p, ev->tid);

	if (th && th->first == FIRST_OTHER)
		first_seen(p, th, FIRST_ENTRY, ev);
	if (th)
		return time_pending(p, th, ev->time);
	if (p->part) {
		th = thread_new(p, ev->tid, FIRST_ENTRY, ev->time);
		if (!th)
			return -ENOMEM;
		th->entry_kept = ids_wanted(p, ev);
	}
	return 0;
}

/*
 * Whether the filters keep an entry: its pid and vCPU (kvm_entry has
 * both), and with a reason filter, a kept exit pending on its thread (a
 * part profile's first entry of a thread is settled by kx_profile_merge()).
 */
RARE bool entry_wanted(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	const struct thread *th;

	if (!ids_wanted(p, ev))
		return false;
	if (!p->opts.has_reason && !p->reason_name)
		return true;
	th = thread_of(p, ev->tid);
	return th && pending_of(p, th);
}

OWN_FRAME int add_entry(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct thread *th = thread_cached(p, ev->tid);

	if (!p->filtered || entry_wanted(p, ev))
		p->t.entries++;
	if (__builtin_expect(!th, 0))
		return add_entry_thread(p, ev);
	return time_pending(p, th, ev->time);
}

OWN_FRAME int add_lost(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	p->t.dropped_pairs += p->nr_pending;
	p->nr_pending = 0;
	p->lost_gen++;
	p->lost_events += ev->lost.count;
	p->seen_lost = true;
	return 0;
}

/*
 * With a vCPU or reason filter, other events (kvm_pio, kvm_mmio, kvm_msr,
 * kvm_userspace_exit carry no vCPU or reason) are kept when they come while
 * a kept exit of their thread is pending: they belong to its handling.  A
 * part profile keeps count of those of a thread it has not seen otherwise
 * (before any lost record), for kx_profile_merge() to settle.  Such a
 * FIRST_OTHER thread stays out of the tid cache, so that only the rare
 * paths (count_exit_thread(), add_entry_thread()) need to see it begin.
 */
RARE int add_other_kept(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	struct thread *th = (struct thread *)thread_of(p, ev->tid);

	if (th) {
		if (pending_of(p, th))
			p->t.other_events++;
		else if (th->first == FIRST_OTHER && !p->seen_lost)
			th->others_first++;
		return 0;
	}
	if (!p->part || p->seen_lost)
		return 0;
	th = thread_new(p, ev->tid, FIRST_OTHER, 0);
	if (!th)
		return -ENOMEM;
	th->others_first = 1;
	p->tid_cache[(uint32_t)ev->tid % 64].idx = 0;
	return 0;
}

OWN_FRAME int add_other(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	switch ((int)ev->type) {
	case KVMEXIT_EV_USERSPACE_EXIT:
	case KVMEXIT_EV_PIO:
	case KVMEXIT_EV_MMIO:
	case KVMEXIT_EV_MSR:
		p->t.events++;
		if (p->opts.pid >= 0 && ev->pid != p->opts.pid)
			return 0;
		if (p->opts.vcpu >= 0 || p->opts.has_reason || p->reason_name)
			return add_other_kept(p, ev);
		p->t.other_events++;
		return 0;
	case KX_EV_COMM:
		return kx_names_set(&p->names, ev->pid, ev->tid,
				    kx_event_comm((struct kvmexit_event *)ev), 16);
	default:
		return -EINVAL;
	}
}

/* One event, but for the first and last times (below). */
static inline __attribute__((always_inline)) int
add_untimed(struct kvmexit_profile *p, const struct kvmexit_event *ev)
{
	enum kvmexit_event_type type = ev->type;

	if (type == KVMEXIT_EV_EXIT) {
		p->t.events++;
		return add_exit(p, ev);
	}
	if (type == KVMEXIT_EV_ENTRY) {
		p->t.events++;
		return add_entry(p, ev);
	}
	if (type == KVMEXIT_EV_LOST)
		return add_lost(p, ev);
	return add_other(p, ev);
}

/* The first and last times: of events other than lost records. */
static inline void add_times(struct kvmexit_profile *p, uint64_t first, uint64_t last)
{
	if (first < p->t.first_ns)
		p->t.first_ns = first;
	if (last > p->t.last_ns)
		p->t.last_ns = last;
}

/* The first and last kvm_exit times, which rates are taken over. */
static inline void add_exit_times(struct kvmexit_profile *p, uint64_t first, uint64_t last)
{
	if (first < p->first_exit)
		p->first_exit = first;
	if (last > p->last_exit)
		p->last_exit = last;
}

/*
 * Accesses (opts.accesses) of a run of events, before the run's exits and
 * entries: their state is their own, so the order between the two does not
 * matter, and the hot loop below has no test for them.
 */
OWN_FRAME int add_accesses(struct kvmexit_profile *p, const struct kvmexit_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = kx_access_add(&p->acc, &v[i]);

		if (err)
			return err;
	}
	return 0;
}

KVMEXIT_API int kvmexit_profile_add_event(struct kvmexit_profile *p,
					  const struct kvmexit_event *ev)
{
	if (__builtin_expect(p->opts.accesses, 0)) {
		int err = add_accesses(p, ev, 1);

		if (err)
			return err;
	}
	if (ev->type != KVMEXIT_EV_LOST && ev->type != KX_EV_COMM)
		add_times(p, ev->time, ev->time);
	if (ev->type == KVMEXIT_EV_EXIT)
		add_exit_times(p, ev->time, ev->time);
	return add_untimed(p, ev);
}

/* A run is in time order: its first and last events but lost records bound it. */
int kx_profile_add_events(const struct kvmexit_event *v, size_t n, void *prof)
{
	struct kvmexit_profile *p = prof;
	size_t lo = 0, hi = n;

	/* names (KX_EV_COMM) may be synthesized with any time: not events */
	while (lo < hi && (v[lo].type == KVMEXIT_EV_LOST || v[lo].type == KX_EV_COMM))
		lo++;
	while (hi > lo && (v[hi - 1].type == KVMEXIT_EV_LOST || v[hi - 1].type == KX_EV_COMM))
		hi--;
	if (lo < hi)
		add_times(p, v[lo].time, v[hi - 1].time);
	/* Its first and last exits: a step or two in, as exits and entries alternate. */
	while (lo < hi && v[lo].type != KVMEXIT_EV_EXIT)
		lo++;
	while (hi > lo && v[hi - 1].type != KVMEXIT_EV_EXIT)
		hi--;
	if (lo < hi)
		add_exit_times(p, v[lo].time, v[hi - 1].time);
	if (__builtin_expect(p->opts.accesses, 0)) {
		int err = add_accesses(p, v, n);

		if (err)
			return err;
	}
	for (size_t i = 0; i < n; i++) {
		int err = add_untimed(p, &v[i]);

		if (err)
			return err;
	}
	return 0;
}

KVMEXIT_API int kvmexit_profile_add_count(struct kvmexit_profile *p,
					  enum kvmexit_isa isa,
					  uint32_t exit_reason, uint32_t detail,
					  uint64_t count)
{
	uint32_t reason;
	struct cell *c;

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
	c = cell_get(p, key_reason(isa, reason), detail, KEY_NO_VCPU);
	if (!c)
		return -ENOMEM;
	c->count += count;
	p->counted = true;
	return 0;
}

int kx_profile_add_cell(struct kvmexit_profile *p, const struct kx_cell_rec *r,
			const struct kx_bucket *b)
{
	enum kvmexit_isa isa = r->isa;
	uint32_t reason;
	struct cell *c;

	if (isa > KVMEXIT_ISA_SVM)
		return -EINVAL;
	if (isa == KVMEXIT_ISA_UNKNOWN)
		isa = p->meta.isa;
	reason = isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(r->reason) : r->reason;
	if ((p->opts.pid >= 0 && r->pid != p->opts.pid) ||
	    (p->opts.vcpu >= 0 && r->vcpu != p->opts.vcpu) || !reason_wanted(p, isa, reason))
		return 0;
	if (!r->count && !r->timed)
		return 0;
	c = cell_get(p, key_reason(isa, reason), r->detail,
		     key_pid_vcpu(r->pid, (uint32_t)r->vcpu));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < r->nr; i++) {
		uint64_t v = kx_hist_bucket_value(b[i].idx);
		int err = kx_hist_add_bucket(&c->hist, b[i].idx, b[i].count);

		if (err)
			return err;
		/*
		 * The kernel keeps no sum of squares: each bucket's midpoint
		 * stands for its times, so the standard deviation of an
		 * in-kernel cell is within the buckets' error (1.6%).
		 */
		c->sumsq += (unsigned __int128)v * v * b[i].count;
	}
	c->count += r->count;
	if (r->timed) {
		c->timed += r->timed;
		c->total += r->total;
		if (r->min < c->min)
			c->min = r->min;
		if (r->max > c->max)
			c->max = r->max;
	}
	return 0;
}

void kx_profile_add_pio(struct kvmexit_profile *p, const struct kx_pio_rec *pio)
{
	p->t.events += pio->count;
	if (p->opts.pid < 0 || pio->pid == p->opts.pid)
		p->t.other_events += pio->count;
}

static int cells_drop(struct kvmexit_profile *p, int32_t pid);
static int pio_pids_set(struct kvmexit_profile *p, const struct kx_counts *c);

int kx_profile_set_cells(struct kvmexit_profile *p, const struct kx_counts *c)
{
	int err;

	/*
	 * Everything the profile aggregated goes, but what retired processes
	 * left (the kernel's maps no longer have it); its options and meta stay.
	 */
	err = cells_drop(p, INT32_MIN);
	if (err)
		return err;
	map_release(&p->thread_map);
	for (size_t i = 0; i < p->nr_threads; i++)
		free(p->threads[i].cache.e);
	free(p->threads);
	p->threads = NULL;
	p->nr_threads = p->alloc_threads = 0;
	memset(p->tid_cache, 0, sizeof(p->tid_cache));
	for (size_t i = 0; i < p->nr_rips; i++)
		map_release(&p->rips[i].map);
	free(p->rips);
	p->rips = NULL;
	p->nr_rips = p->alloc_rips = 0;
	map_release(&p->rip_map);
	for (size_t i = 0; i < p->cells.nr; i++) {	/* the retired owner's */
		p->cells.v[i]->rips = 0;
		if (p->opts.top_rips && rips_get(p, p->cells.v[i]->k1, &p->cells.v[i]->rips))
			return -ENOMEM;
	}
	memset(&p->t, 0, sizeof(p->t));
	p->t.first_ns = UINT64_MAX;
	p->lost_events = 0;
	p->seen_lost = false;
	p->nr_pending = 0;		/* the threads are gone */
	p->first_exit = UINT64_MAX;
	p->last_exit = 0;
	for (size_t i = 0; i < c->nr_cells; i++) {
		err = kx_profile_add_cell(p, &c->cells[i], c->buckets + c->cells[i].first);
		if (err)
			return err;
	}
	for (size_t i = 0; i < c->nr_pios; i++)
		kx_profile_add_pio(p, &c->pios[i]);
	p->t.events += p->retired_events;
	p->t.other_events += p->retired_other;
	return pio_pids_set(p, c);
}

/*
 * Parts.  A part profile aggregates a part of a capture that does not start
 * it, on its own (another thread may aggregate the part before).  What it
 * cannot know is the exit each thread had pending when the part began, so
 * each of its threads remembers how it first appears: by an exit, or by an
 * entry (and when), and whether a lost record came before.  Merging it into
 * the profile of everything before it (kx_profile_merge()) then settles the
 * exits that profile has pending, as its events would have:
 *  - the part saw the thread: a lost record first drops the pending exit;
 *    an exit first leaves it untimed ("unpaired"); an entry first times it,
 *    unless the entry is earlier (then it stays untimed, as in add_entry());
 *  - the part did not see the thread: any lost record in the part drops the
 *    pending exit; else it stays pending.
 * Then each thread the part saw takes the part's state.  Cells, counts and
 * RIPs add up.  RIP tables are exact as long as no reason has more than
 * RIPS_MAX distinct RIPs (then whole and merged profiles may keep different
 * ones): the parallel walk is not used with top_rips.
 */
void kx_profile_set_part(struct kvmexit_profile *p)
{
	p->part = true;
}

static bool same_filters(const struct kvmexit_profile *a, const struct kvmexit_profile *b)
{
	const struct kvmexit_profile_opts *x = &a->opts, *y = &b->opts;

	if (x->pid != y->pid || x->vcpu != y->vcpu || x->top_rips != y->top_rips ||
	    x->has_reason != y->has_reason || !a->reason_name != !b->reason_name)
		return false;
	if (!a->vm_name != !b->vm_name || (a->vm_name && strcmp(a->vm_name, b->vm_name)))
		return false;
	if (x->has_reason && (x->reason_isa != y->reason_isa || x->reason != y->reason))
		return false;
	return !a->reason_name || !strcmp(a->reason_name, b->reason_name);
}

/* The thread of tid in a profile that is not changed, or NULL. */
static const struct thread *thread_of(const struct kvmexit_profile *p, int32_t tid)
{
	uint64_t *v = map_find(&p->thread_map, (uint32_t)tid, 0, 0);

	return v ? &p->threads[*v - 1] : NULL;
}

/* Settles dst's pending exits by how src (the next part) begins. */
static int merge_pending(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	for (size_t i = 0; i < dst->nr_threads; i++) {
		struct thread *th = &dst->threads[i];
		const struct thread *s;
		struct cell *c = pending_of(dst, th);
		int err;

		if (!c)
			continue;
		s = thread_of(src, th->tid);
		if (s)
			dst->t.other_events += s->others_first;	/* of this exit */
		if (s && s->first == FIRST_OTHER)
			s = NULL;		/* no exit or entry in src */
		if (!s && !src->seen_lost)
			continue;		/* still pending */
		th->pending = NULL;
		dst->nr_pending--;
		if (!s || s->lost_first) {
			dst->t.dropped_pairs++;
			continue;
		}
		if (s->first == FIRST_ENTRY && s->entry_kept &&
		    (dst->opts.has_reason || dst->reason_name))
			dst->t.entries++;	/* the entry of a kept exit (entry_wanted()) */
		if (s->first == FIRST_EXIT) {
			dst->t.unpaired++;
		} else if (s->first_time >= th->exit_time) {
			err = cell_time(c, s->first_time - th->exit_time);
			if (err)
				return err;
		}
	}
	return 0;
}

static int cell_add(struct cell *d, const struct cell *s)
{
	d->count += s->count;
	d->timed += s->timed;
	d->total += s->total;
	d->sumsq += s->sumsq;
	if (s->min < d->min)
		d->min = s->min;
	if (s->max > d->max)
		d->max = s->max;
	return kx_hist_merge(&d->hist, &s->hist);
}

static int merge_cells(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	for (size_t i = 0; i < src->cells.nr; i++) {
		const struct cell *s = src->cells.v[i];
		struct cell *d = cell_get(dst, s->k1, s->detail, s->k3);
		int err = d ? cell_add(d, s) : -ENOMEM;

		if (err)
			return err;
	}
	return 0;
}

/* The threads src saw take src's state (its cells by key: they are dst's now). */
static int merge_threads(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	for (size_t i = 0; i < src->nr_threads; i++) {
		const struct thread *s = &src->threads[i];
		const struct cell *sc = pending_of(src, s);
		struct thread *th;

		if (s->first == FIRST_OTHER)
			continue;		/* src saw no exit or entry of it */
		th = thread_lookup(dst, s->tid);
		if (!th)
			th = thread_new(dst, s->tid, FIRST_NONE, 0);
		if (!th)
			return -ENOMEM;
		if (pending_of(dst, th))
			dst->nr_pending--;
		th->pending = sc ? cell_find(&dst->cells, sc->k1, sc->detail, sc->k3) : NULL;
		th->pending_gen = dst->lost_gen;
		dst->nr_pending += th->pending != NULL;
		th->exit_time = s->exit_time;
	}
	return 0;
}

static int rip_key_cmp(const void *a, const void *b)
{
	const struct map_ent *x = a, *y = b;

	return x->k1 < y->k1 ? -1 : x->k1 > y->k1;
}

/*
 * In RIP order, not the map's (keyed by each profile's own secret): when
 * dst's table fills up, the RIPs it keeps do not depend on the keys.
 */
static int merge_rips(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	const struct map *rm = &src->rip_map;
	struct map_ent *v = NULL;
	int err = 0;

	for (size_t i = 0; rm->e && i <= rm->mask && !err; i++) {
		const struct map *m;
		uint32_t rips;
		size_t n = 0;

		if (!rm->e[i].val)
			continue;
		err = rips_get(dst, rm->e[i].k1, &rips);
		m = &src->rips[rm->e[i].val - 1].map;
		if (err || !m->nr)
			continue;
		free(v);
		v = malloc(m->nr * sizeof(*v));
		if (!v) {
			err = -ENOMEM;
			break;
		}
		for (size_t j = 0; j <= m->mask; j++)
			if (m->e[j].val)
				v[n++] = m->e[j];
		qsort(v, n, sizeof(*v), rip_key_cmp);
		for (size_t j = 0; j < n && !err; j++)
			err = rip_count(dst, rips, v[j].k1, v[j].val);
	}
	free(v);
	return err;
}

static void merge_totals(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	struct kvmexit_profile_totals *d = &dst->t;
	const struct kvmexit_profile_totals *s = &src->t;

	d->events += s->events;
	d->entries += s->entries;
	d->unpaired += s->unpaired;
	d->dropped_pairs += s->dropped_pairs;
	d->other_events += s->other_events;
	if (s->first_ns < d->first_ns)
		d->first_ns = s->first_ns;
	if (s->last_ns > d->last_ns)
		d->last_ns = s->last_ns;
	dst->lost_events += src->lost_events;
	dst->seen_lost |= src->seen_lost;
	add_exit_times(dst, src->first_exit, src->last_exit);
}

int kx_profile_merge(struct kvmexit_profile *dst, const struct kvmexit_profile *src)
{
	int err;

	if (dst == src || dst->part || !src->part || !same_filters(dst, src))
		return -EINVAL;
	err = merge_pending(dst, src);
	if (!err)
		err = merge_cells(dst, src);
	if (!err)
		err = merge_threads(dst, src);
	if (!err)
		err = merge_rips(dst, src);
	if (!err)
		err = kx_names_merge(&dst->names, &src->names);
	if (!err)
		merge_totals(dst, src);
	return err;
}

/*
 * Distinct values of (k3 >> shift) among the cells, other than none and none2:
 * vCPUs (pid+vCPU keys, shift 0) or processes (their pid half).
 */
static uint32_t distinct_k3(const struct cells *c, unsigned int shift, uint64_t none,
			    uint64_t none2)
{
	struct map seen = { .key = c->map.key };
	uint32_t n = 0;

	for (size_t i = 0; i < c->nr; i++) {
		uint64_t key = c->v[i]->k3 >> shift, *v;

		if (key == none || key == none2)
			continue;
		v = map_add(&seen, key, 0, 0);
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

/* --------------------------------------------------------- accesses */

KVMEXIT_API int kvmexit_profile_accesses(const struct kvmexit_profile *p,
					 enum kvmexit_access_kind kind,
					 struct kvmexit_access_stat **rows)
{
	return kx_access_rows(&p->acc, kind, rows);
}

KVMEXIT_API void kvmexit_access_stats_free(struct kvmexit_access_stat *rows)
{
	free(rows);
}

/* ------------------------------------------------------------ names */

KVMEXIT_API int kvmexit_profile_set_comm(struct kvmexit_profile *p, int32_t pid, int32_t tid,
					 const char *comm)
{
	if (!p || !comm)
		return -EINVAL;
	return kx_names_set(&p->names, pid, tid, comm, strlen(comm));
}

KVMEXIT_API const char *kvmexit_profile_comm(const struct kvmexit_profile *p, int32_t tid)
{
	const struct kx_name *n = kx_names_find(&p->names, tid);

	return n ? n->comm : NULL;
}

KVMEXIT_API const char *kvmexit_profile_vm_name(const struct kvmexit_profile *p, int32_t pid)
{
	const char *name = kvmexit_meta_vm_name(&p->meta, pid);

	return name ? name : kvmexit_profile_comm(p, pid);
}

KVMEXIT_API const char *kvmexit_profile_vcpu_name(const struct kvmexit_profile *p, int32_t pid,
						  int32_t vcpu)
{
	for (size_t i = p->nr_threads; i-- > 0;) {
		const struct thread *th = &p->threads[i];

		if (th->pid == pid && th->vcpu == (uint32_t)vcpu && th->cache.nr)
			return kvmexit_profile_comm(p, th->tid);
	}
	return NULL;
}

/*
 * The cells of opts.vm_name's processes, as a view (v[] and nr only) in
 * *view, or all cells.  Free view->v when the view is returned.  Out of
 * memory, the view is empty.
 */
static const struct cells *vm_cells(const struct kvmexit_profile *p, struct cells *view)
{
	*view = (struct cells){ .map.key = p->cells.map.key };
	if (!p->vm_name)
		return &p->cells;
	view->v = malloc((p->cells.nr ? p->cells.nr : 1) * sizeof(*view->v));
	for (size_t i = 0; view->v && i < p->cells.nr; i++) {
		struct cell *c = p->cells.v[i];
		const char *name = kvmexit_profile_vm_name(p, (int32_t)(c->k3 >> 32));

		if (c->k3 != KEY_NO_VCPU && name && !strcmp(name, p->vm_name))
			view->v[view->nr++] = c;
	}
	return view;
}

/* The totals that are sums of cells: exits, timed, time_total_ns; and the ISA. */
static void totals_of_cells(const struct cells *cs, struct kvmexit_profile_totals *out)
{
	unsigned int isa_mask = 0;

	for (size_t i = 0; i < cs->nr; i++) {
		const struct cell *c = cs->v[i];

		out->exits += c->count;
		out->timed += c->timed;
		out->time_total_ns += c->total;
		if (c->count)
			isa_mask |= 1u << ((c->k1 >> 32) & 3);
	}
	switch (isa_mask) {
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

void kx_profile_set_exit_span(struct kvmexit_profile *p, uint64_t span_ns)
{
	p->table_exit_span = span_ns;
}

/*
 * The recording window, where the input records one: kvmexit's section
 * (its recorder's start and end), a --count capture or a count table.
 * Stock perf's HEADER_SAMPLE_TIME is only its first and last samples.
 */
static uint64_t window_of(const struct kvmexit_profile *p)
{
	const struct kvmexit_meta *m = &p->meta;

	if ((m->has_kvmexit || m->counts_only || p->counted) && m->start_ns &&
	    m->end_ns > m->start_ns)
		return m->end_ns - m->start_ns;
	return 0;
}

/* Fills *s, and returns the span rates are taken over (0: unknown). */
static uint64_t rate_span(const struct kvmexit_profile *p, struct kvmexit_rate_span *s)
{
	*s = (struct kvmexit_rate_span){ .sz = sizeof(*s), .window_ns = window_of(p) };
	if (p->first_exit <= p->last_exit) {
		s->first_exit_ns = p->first_exit;
		s->last_exit_ns = p->last_exit;
	}
	if (p->last_exit > p->first_exit && p->first_exit != UINT64_MAX) {
		s->basis = KVMEXIT_RATE_EXIT_SPAN;
		s->span_ns = p->last_exit - p->first_exit;
	} else if (p->table_exit_span) {
		s->basis = KVMEXIT_RATE_EXIT_SPAN;
		s->span_ns = p->table_exit_span;
	} else if ((p->meta.counts_only || p->counted) && p->first_exit == UINT64_MAX &&
		   s->window_ns) {
		s->basis = KVMEXIT_RATE_WINDOW;
		s->span_ns = s->window_ns;
	}
	return s->span_ns;
}

KVMEXIT_API int kvmexit_profile_rate_span(const struct kvmexit_profile *p,
					  struct kvmexit_rate_span *out)
{
	struct kvmexit_rate_span s;
	size_t sz;

	if (!p || !out || out->sz < sizeof(out->sz))
		return -EINVAL;
	sz = out->sz < sizeof(s) ? out->sz : sizeof(s);
	rate_span(p, &s);
	s.sz = out->sz;
	memcpy(out, &s, sz);
	return 0;
}

KVMEXIT_API const char *kvmexit_rate_basis_name(enum kvmexit_rate_basis basis)
{
	switch (basis) {
	case KVMEXIT_RATE_EXIT_SPAN:
		return "exit span";
	case KVMEXIT_RATE_WINDOW:
		return "recording window";
	default:
		return "unknown";
	}
}

KVMEXIT_API void kvmexit_profile_totals(const struct kvmexit_profile *p,
					struct kvmexit_profile_totals *out)
{
	const struct kvmexit_meta *m = &p->meta;
	struct kvmexit_rate_span span;
	struct cells view;
	const struct cells *cs = vm_cells(p, &view);

	*out = p->t;
	if (out->first_ns > out->last_ns)	/* no event */
		out->first_ns = out->last_ns = 0;
	totals_of_cells(cs, out);
	/* Lost records are the capture's own account; the meta's is a fallback. */
	out->lost = p->lost_events ? p->lost_events : m->lost;
	out->duration_ns = rate_span(p, &span);
	out->nr_vcpus = distinct_k3(cs, 0, KEY_NO_VCPU, KEY_RETIRED);
	out->nr_pids = distinct_k3(cs, 32, (uint32_t)-1, KEY_RETIRED >> 32);
	if (cs == &view)
		free(view.v);
}

/* A row being summed from cells. */
struct acc {
	struct kvmexit_stat st;
	struct kx_hist hist;
	unsigned __int128 sumsq;
};

/*
 * The key of the row of group g that a cell (k1: ISA and reason, detail,
 * k3: pid and vCPU) goes to: the one rule of kvmexit_profile_stats() and
 * of snapshot deltas (snapshot.c).
 */
void kx_row_key(enum kvmexit_group g, uint64_t c_k1, uint32_t detail, uint64_t k3,
		uint64_t *k1, uint64_t *k2)
{
	enum kvmexit_isa isa = (enum kvmexit_isa)(c_k1 >> 32);

	*k1 = c_k1;
	*k2 = 0;
	switch (g) {
	case KVMEXIT_GROUP_REASON:
		break;
	case KVMEXIT_GROUP_CATEGORY:
		*k1 = key_reason(isa, kvmexit_detail_category(isa, (uint32_t)c_k1, detail));
		break;
	case KVMEXIT_GROUP_DETAIL:
		*k2 = detail;
		break;
	case KVMEXIT_GROUP_VCPU:
		*k2 = k3;
		break;
	case KVMEXIT_GROUP_PID:
		*k2 = (uint32_t)(k3 >> 32);
		break;
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
	a->sumsq += c->sumsq;
	return kx_hist_merge(&a->hist, &c->hist);
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

/*
 * The population standard deviation of n times summing to total, with
 * squares summing to sumsq: sqrt(n * sumsq - total^2) / n, the radicand
 * exact in 128 bits (long double past that), rounded to the ns.
 */
static uint64_t stddev_of(uint64_t n, uint64_t total, unsigned __int128 sumsq)
{
	unsigned __int128 ns, tt = (unsigned __int128)total * total;
	long double v;

	if (__builtin_mul_overflow((unsigned __int128)n, sumsq, &ns))
		v = ((long double)sumsq - (long double)tt / n) * n;
	else
		v = ns > tt ? (long double)(ns - tt) : 0;
	return v > 0 ? (uint64_t)llroundl(sqrtl(v) / n) : 0;
}

/* Sums the cells into the rows of group g (accs[], *nr of them). */
static int sum_rows(const struct cells *c, enum kvmexit_group g, struct acc **accs, size_t *nr)
{
	struct map rows = { .key = c->map.key };
	size_t alloc = 0;
	int err = 0;

	*accs = NULL;
	*nr = 0;
	for (size_t i = 0; i < c->nr && !err; i++) {
		uint64_t k1, k2, *v;

		kx_row_key(g, c->v[i]->k1, c->v[i]->detail, c->v[i]->k3, &k1, &k2);
		v = map_add(&rows, k1, k2, 0);
		if (!v || (!*v && array_grow((void **)accs, &alloc, *nr, sizeof(**accs)))) {
			if (v && !*v)
				map_unadd(&rows);
			err = -ENOMEM;
			break;
		}
		if (!*v) {
			memset(&(*accs)[*nr], 0, sizeof(**accs));
			row_init(g, &(*accs)[*nr].st, k1, k2);
			*v = ++*nr;
		}
		err = row_add(&(*accs)[*v - 1], c->v[i]);
	}
	map_release(&rows);
	return err;
}

KVMEXIT_API int kvmexit_profile_stats(const struct kvmexit_profile *p,
				      enum kvmexit_group group,
				      struct kvmexit_stat **out)
{
	const struct cells *cs;
	struct cells view;
	struct kvmexit_stat *rows;
	struct acc *accs;
	size_t nr;
	int err;

	switch (group) {
	case KVMEXIT_GROUP_REASON:
	case KVMEXIT_GROUP_DETAIL:
	case KVMEXIT_GROUP_CATEGORY:
	case KVMEXIT_GROUP_VCPU:
	case KVMEXIT_GROUP_PID:
		break;
	default:
		return -EINVAL;
	}
	cs = vm_cells(p, &view);
	err = sum_rows(cs, group, &accs, &nr);
	if (cs == &view)
		free(view.v);
	rows = err ? NULL : calloc(nr ? nr : 1, sizeof(*rows));
	if (!rows && !err)
		err = -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		struct kvmexit_stat *st = &accs[i].st;

		st->time_p50 = kx_hist_percentile(&accs[i].hist, st->timed, 50,
						  st->time_min, st->time_max);
		st->time_p99 = kx_hist_percentile(&accs[i].hist, st->timed, 99,
						  st->time_min, st->time_max);
		if (st->timed) {
			st->time_avg = st->time_total / st->timed;
			st->time_stddev = stddev_of(st->timed, st->time_total, accs[i].sumsq);
		}
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
	v = map_find(&p->rip_map, key_reason(isa, reason), 0, 0);
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

/* Snapshots (lib/snapshot.c) read the cells through this view. */
int kx_profile_for_each_cell(const struct kvmexit_profile *p,
			     int (*fn)(const struct kx_cell_view *cell, void *arg), void *arg)
{
	for (size_t i = 0; i < p->cells.nr; i++) {
		const struct cell *c = p->cells.v[i];
		struct kx_cell_view v = {
			.k1 = c->k1, .detail = c->detail, .k3 = c->k3, .count = c->count,
			.timed = c->timed, .total = c->total, .min = c->min, .max = c->max,
			.hist = &c->hist,
		};
		int ret;

		if (cell_pid(c) >= 0) {		/* no entry: before the first retirement */
			const uint64_t *life = map_find(&p->lives, (uint32_t)cell_pid(c), 0, 0);

			v.life = life ? *life : 1;
		}
		ret = fn(&v, arg);

		if (ret)
			return ret;
	}
	return 0;
}

size_t kx_profile_nr_cells(const struct kvmexit_profile *p)
{
	return p->cells.nr;
}

/* ---------------------------------------------------------------- */
/* Classic histograms of exit-handling times (exporters).           */
/* ---------------------------------------------------------------- */

KVMEXIT_API int kvmexit_profile_time_bounds(unsigned int per_octave, unsigned int lo_shift,
					    unsigned int hi_shift, uint64_t *out, size_t max)
{
	size_t n = 0;

	/* Sub-buckets of a power of two from 2^6 on: KX_HIST_SUB of them. */
	if (!per_octave || per_octave > KX_HIST_SUB || (per_octave & (per_octave - 1)) ||
	    lo_shift < KX_HIST_SUB_BITS + 1 || lo_shift > hi_shift || hi_shift > 40)
		return -EINVAL;
	for (unsigned int k = lo_shift; k <= hi_shift; k++)
		for (unsigned int j = 0; j < per_octave && (k < hi_shift || j == 0); j++) {
			uint64_t b = ((uint64_t)1 << k) + (((uint64_t)j << k) / per_octave) - 1;

			if (n < max)
				out[n] = b;
			n++;
		}
	return (int)n;
}

/* ------------------------------------------------------- retiring */

/*
 * A map of room for nr keys, empty: made before anything changes, so that
 * what follows cannot fail.  NULL e: out of memory.
 */
static struct map map_sized(struct hkey *key, size_t nr)
{
	size_t cap = 64;

	while ((nr + 1) * 2 > cap)
		cap *= 2;
	return (struct map){ .e = calloc(cap, sizeof(struct map_ent)), .mask = cap - 1, .key = key };
}

/* Puts a key known to be missing into a map map_sized() made room for. */
static void map_put_new(struct map *m, uint64_t k1, uint64_t k2, uint64_t k3, uint64_t val)
{
	size_t i = map_hash(m, k1, k2, k3);

	while (m->e[i].val)
		i = (i + 1) & m->mask;
	m->e[i] = (struct map_ent){ .k1 = k1, .k2 = k2, .k3 = k3, .val = val };
	m->nr++;
}

/* Whether a cell stays when pid's go (pid INT32_MIN: all but the retired owner's). */
static inline bool cell_stays(const struct cell *c, int32_t pid)
{
	return pid == INT32_MIN ? c->k3 == KEY_RETIRED : cell_pid(c) != pid;
}

/*
 * The cells' map without pid's, made aside: open addressing has no
 * delete, so a fresh table, sized to the cells that stay (it shrinks too),
 * leaves nothing behind.  m->e NULL and 0: none of pid's; -ENOMEM.
 */
static int cells_drop_prepare(struct kvmexit_profile *p, int32_t pid, struct map *m)
{
	size_t keep = 0;

	*m = (struct map){ 0 };
	for (size_t i = 0; i < p->cells.nr; i++)
		keep += cell_stays(p->cells.v[i], pid);
	if (keep == p->cells.nr)
		return 0;
	*m = map_sized(&p->hkey, keep);
	return m->e ? 0 : -ENOMEM;
}

/* Frees pid's cells, and the others go into m (cells_drop_prepare()'s). */
static void cells_drop_commit(struct kvmexit_profile *p, int32_t pid, struct map *m)
{
	struct cells *cs = &p->cells;
	size_t k = 0;

	if (!m->e)
		return;
	for (size_t i = 0; i < cs->nr; i++) {
		struct cell *c = cs->v[i];

		if (cell_stays(c, pid)) {
			map_put_new(m, c->k1, c->detail, c->k3, (uintptr_t)c);
			cs->v[k++] = c;
			continue;
		}
		kx_hist_release(&c->hist);
		free(c);
	}
	cs->nr = k;
	map_release(&cs->map);
	cs->map = *m;
}

/* Frees pid's cells (INT32_MIN: all but the retired owner's); -ENOMEM: none. */
static int cells_drop(struct kvmexit_profile *p, int32_t pid)
{
	struct map m;
	int err = cells_drop_prepare(p, pid, &m);

	if (!err)
		cells_drop_commit(p, pid, &m);
	return err;
}

/* The groups of src's histogram that dst lacks, made: then merging cannot fail. */
static int hist_reserve(struct kx_hist *dst, const struct kx_hist *src)
{
	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++)
		if (src->group[g] && !dst->group[g] &&
		    !(dst->group[g] = calloc(KX_HIST_SUB, sizeof(uint64_t))))
			return -ENOMEM;
	return 0;
}

/* --bpf: the kvm_pio events of each pid (+ 1), as the last read of the maps had them. */
static int pio_pids_set(struct kvmexit_profile *p, const struct kx_counts *c)
{
	map_release(&p->pio_pids);
	for (size_t i = 0; i < c->nr_pios; i++) {
		uint64_t *v = map_add(&p->pio_pids, (uint32_t)c->pios[i].pid, 0, 0);

		if (!v)
			return -ENOMEM;
		*v += c->pios[i].count + !*v;	/* events + 1: a value is never 0 */
	}
	return 0;
}

/*
 * Threads of pid go: their tables point at its cells.  A thread's table
 * and pending exit are of its pid and vCPU only (tcache_reset()), so no
 * other thread points at them.  The thread map is rebuilt (no delete) and
 * the tid cache emptied.  -ENOMEM: nothing changed.
 */
static int threads_drop(struct kvmexit_profile *p, int32_t pid)
{
	size_t keep = 0, k = 0;
	struct map m;

	for (size_t i = 0; i < p->nr_threads; i++)
		keep += p->threads[i].pid != pid;
	if (keep == p->nr_threads)
		return 0;
	m = map_sized(&p->hkey, keep);
	if (!m.e)
		return -ENOMEM;
	for (size_t i = 0; i < p->nr_threads; i++) {
		struct thread *th = &p->threads[i];

		if (th->pid == pid) {
			if (pending_of(p, th))
				p->nr_pending--;	/* counted, never timed */
			free(th->cache.e);
			continue;
		}
		p->threads[k] = *th;
		map_put_new(&m, (uint32_t)th->tid, 0, 0, ++k);
	}
	p->nr_threads = k;
	map_release(&p->thread_map);
	p->thread_map = m;
	memset(p->tid_cache, 0, sizeof(p->tid_cache));
	return 0;
}

/*
 * The lives once pid is retired, made aside as cells_drop_prepare() makes
 * the cells' map: without pid's; at the first retirement, life 1 for every
 * other pid with cells.  lives->e NULL and 0: nothing changes; -ENOMEM.
 */
static int lives_prepare(struct kvmexit_profile *p, int32_t pid, struct map *lives)
{
	*lives = (struct map){ 0 };
	if (!p->nr_retired) {
		lives->key = &p->hkey;
		for (size_t i = 0; i < p->cells.nr; i++) {
			int32_t other = cell_pid(p->cells.v[i]);
			uint64_t *v;

			if (other < 0 || other == pid)
				continue;
			v = map_add(lives, (uint32_t)other, 0, 0);
			if (!v) {
				map_release(lives);
				return -ENOMEM;
			}
			*v = 1;
		}
		return 0;
	}
	if (!map_find(&p->lives, (uint32_t)pid, 0, 0))
		return 0;
	*lives = map_sized(&p->hkey, p->lives.nr - 1);
	if (!lives->e)
		return -ENOMEM;
	for (size_t i = 0; i <= p->lives.mask; i++) {
		const struct map_ent *e = &p->lives.e[i];

		if (e->val && e->k1 != (uint32_t)pid)
			map_put_new(lives, e->k1, 0, 0, e->val);
	}
	return 0;
}

KVMEXIT_API int kvmexit_profile_retire_pid(struct kvmexit_profile *p, int32_t pid)
{
	struct cells *cs;
	struct map m, lives = { 0 };
	size_t n = 0;
	int err = 0;

	if (!p || pid < 0 || p->part)
		return -EINVAL;
	cs = &p->cells;
	/*
	 * First what can fail: the retired owner's cells (empty ones are
	 * harmless), their histogram groups, the new tables.  Then the fold
	 * and the frees, which cannot.
	 */
	for (size_t i = 0; i < cs->nr && !err; i++) {
		struct cell *c = cs->v[i], *r;

		if (cell_pid(c) != pid)
			continue;
		n++;
		r = cell_get(p, c->k1, c->detail, KEY_RETIRED);
		err = r ? hist_reserve(&r->hist, &c->hist) : -ENOMEM;
	}
	if (!err)
		err = cells_drop_prepare(p, pid, &m);
	if (!err && n && (err = lives_prepare(p, pid, &lives)))
		free(m.e);
	if (!err && (err = threads_drop(p, pid))) {
		free(m.e);
		free(lives.e);
	}
	if (err)
		return err;
	for (size_t i = 0; i < cs->nr; i++) {
		struct cell *c = cs->v[i];

		if (cell_pid(c) == pid)
			cell_add(cell_find(cs, c->k1, c->detail, KEY_RETIRED), c);
	}
	cells_drop_commit(p, pid, &m);
	if (lives.e) {
		map_release(&p->lives);
		p->lives = lives;
	}
	kx_names_forget_pid(&p->names, pid);
	if (p->pio_pids.e) {
		uint64_t *v = map_find(&p->pio_pids, (uint32_t)pid, 0, 0);

		if (v) {
			p->retired_events += *v - 1;
			if (p->opts.pid < 0 || p->opts.pid == pid)
				p->retired_other += *v - 1;
			*v = 1;
		}
	}
	p->nr_retired += n > 0;
	return (int)n;
}

KVMEXIT_API size_t kvmexit_profile_nr_cells(const struct kvmexit_profile *p)
{
	return p->cells.nr;
}

size_t kx_profile_nr_threads(const struct kvmexit_profile *p)
{
	return p->nr_threads;
}

uint64_t kx_profile_nr_retired(const struct kvmexit_profile *p)
{
	return p->nr_retired;
}
