// SPDX-License-Identifier: GPL-2.0-only
/*
 * A capture's attrs (from the file header's attrs section or HEADER_ATTR
 * records) and their sample ids: where each sample field is, which attr a
 * sample belongs to (by its id, IDENTIFIER or the ID position, which must
 * be the same for every attr), and which kvm event format decodes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfdata-read.h"

/* perf's id position of a sample: __evsel__calc_id_pos(). */
static int calc_id_pos(uint64_t st)
{
	int idx = 0;

	if (st & PERF_SAMPLE_IDENTIFIER)
		return 0;
	if (!(st & PERF_SAMPLE_ID))
		return -1;
	idx += !!(st & PERF_SAMPLE_IP);
	idx += !!(st & PERF_SAMPLE_TID);
	idx += !!(st & PERF_SAMPLE_TIME);
	idx += !!(st & PERF_SAMPLE_ADDR);
	return idx;
}

/* Position from the end of the sample_id trailer: __evsel__calc_is_pos(). */
static int calc_is_pos(uint64_t st)
{
	int idx = 1;

	if (st & PERF_SAMPLE_IDENTIFIER)
		return 1;
	if (!(st & PERF_SAMPLE_ID))
		return -1;
	idx += !!(st & PERF_SAMPLE_CPU);
	idx += !!(st & PERF_SAMPLE_STREAM_ID);
	return idx;
}

/*
 * The positions of a sample's fields, in the kernel's order: IDENTIFIER,
 * IP, TID, TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, READ, CALLCHAIN, RAW.
 * With neither READ nor CALLCHAIN (variable sizes), RAW is at a fixed word.
 */
static void attr_positions(struct kx_attr *a)
{
	uint64_t st = a->attr.sample_type;
	int i = !!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP);

	a->tid_w = st & PERF_SAMPLE_TID ? i++ : -1;
	a->time_w = st & PERF_SAMPLE_TIME ? i++ : -1;
	i += !!(st & PERF_SAMPLE_ADDR) + !!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID);
	a->cpu_w = st & PERF_SAMPLE_CPU ? i++ : -1;
	i += !!(st & PERF_SAMPLE_PERIOD);
	a->raw_w = (uint8_t)i;
	a->fixed = (st & PERF_SAMPLE_RAW) && !(st & (PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN));
}

/* Copies an on-disk attr of size bytes (its own size field may differ). */
int kx_attr_add(struct kvmexit_capture *cap, const unsigned char *p, size_t size,
		    uint64_t off)
{
	struct kx_attr *a;
	size_t n = size < sizeof(a->attr) ? size : sizeof(a->attr);

	if (cap->nr_attrs == KX_MAX_ATTRS)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "attr at offset 0x%llx: more than %u attrs",
			    (unsigned long long)off, KX_MAX_ATTRS);
	if (size < PERF_ATTR_SIZE_VER0)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "attr at offset 0x%llx has size %zu, smaller than the first version's 64",
			    (unsigned long long)off, size);
	a = realloc(cap->attrs, (cap->nr_attrs + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	cap->attrs = a;
	a = &cap->attrs[cap->nr_attrs];
	memset(a, 0, sizeof(*a));
	memcpy(&a->attr, p, n);
	/* Fields beyond its own size are not its (size 0: the first version). */
	if (a->attr.size >= PERF_ATTR_SIZE_VER0 && a->attr.size < n)
		memset((char *)&a->attr + a->attr.size, 0, sizeof(a->attr) - a->attr.size);
	attr_positions(a);
	cap->nr_attrs++;
	return 0;
}

/*
 * Sample ids: an open-addressing table, id -> attr, hashed with a secret
 * odd multiplier per capture (kx_hash_key()) and a mixer, grown at half
 * full.  Pipe captures add ids with every HEADER_ATTR record, between
 * samples: each insert and lookup costs a few probes, whatever the ids and
 * their order (a sorted array re-sorted after each record cost
 * O(n log n) per record).  File-mode parts share the table, read only.
 */
static inline size_t id_slot(const struct kvmexit_capture *cap, uint64_t id)
{
	uint64_t h = id * cap->id_mul;

	/*
	 * Mixed after the secret multiply: a bare multiply-shift spreads
	 * sequential ids (as perf assigns them) well for most multipliers but
	 * clusters them for some, which made probe counts vary by run.
	 */
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return (size_t)(h >> cap->id_shift);
}

static void id_put(struct kvmexit_capture *cap, uint64_t id, uint32_t attr)
{
	size_t i = id_slot(cap, id);

	for (;; i = (i + 1) & cap->id_mask) {
		struct kx_id *e = &cap->ids[i];

		cap->id_probes++;
		if (!e->attr) {
			*e = (struct kx_id){ .id = id, .attr = attr + 1 };
			cap->nr_ids++;
			return;
		}
		if (e->id == id) {	/* a later attr of the same id wins, as in perf */
			e->attr = attr + 1;
			return;
		}
	}
}

static int ids_grow(struct kvmexit_capture *cap, size_t need)
{
	size_t cap_old = cap->ids ? cap->id_mask + 1 : 0, size = cap_old ? cap_old : 64;
	struct kx_id *old = cap->ids;

	while (need * 2 > size)
		size *= 2;
	if (size == cap_old)
		return 0;
	cap->ids = calloc(size, sizeof(*cap->ids));
	if (!cap->ids) {
		cap->ids = old;
		return -ENOMEM;
	}
	if (!cap->id_mul)
		kx_hash_key(&cap->id_mul, 1);
	cap->id_mask = size - 1;
	cap->id_shift = 64 - (unsigned int)__builtin_ctzll(size);
	cap->nr_ids = 0;
	for (size_t i = 0; i < cap_old; i++)
		if (old[i].attr)
			id_put(cap, old[i].id, old[i].attr - 1);
	free(old);
	return 0;
}

int kx_ids_add(struct kvmexit_capture *cap, const unsigned char *p, size_t nr,
	       uint32_t attr)
{
	if (nr > KX_MAX_IDS - cap->nr_ids)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "more than %u sample ids", KX_MAX_IDS);
	if (!nr)
		return 0;
	if (ids_grow(cap, cap->nr_ids + nr))
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++)
		id_put(cap, ld64(p + 8 * i), attr);
	memset(cap->idcache, 0, sizeof(cap->idcache));
	return 0;
}

/* attr_by_id() when its cache misses. */
struct kx_attr *kx_attr_by_id_slow(struct kvmexit_capture *cap, uint64_t id)
{
	if (!cap->ids)
		return NULL;
	for (size_t i = id_slot(cap, id);; i = (i + 1) & cap->id_mask) {
		const struct kx_id *e = &cap->ids[i];

		cap->id_probes++;
		if (!e->attr)
			return NULL;
		if (e->id == id)
			return &cap->attrs[e->attr - 1];
	}
}

uint64_t kx_capture_id_probes(const struct kvmexit_capture *cap)
{
	return cap->id_probes;
}

/* Every attr must put the id at the same place, as perf requires. */
int kx_attrs_check(struct kvmexit_capture *cap)
{
	if (!cap->nr_attrs)
		return 0;
	cap->id_pos = calc_id_pos(cap->attrs[0].attr.sample_type);
	cap->is_pos = calc_is_pos(cap->attrs[0].attr.sample_type);
	if (cap->nr_attrs == 1)
		return 0;
	for (size_t i = 1; i < cap->nr_attrs; i++) {
		uint64_t st = cap->attrs[i].attr.sample_type;

		if (calc_id_pos(st) != cap->id_pos || calc_is_pos(st) != cap->is_pos)
			return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
				    "attrs 0 and %zu place the sample id differently (sample_type 0x%llx and 0x%llx)",
				    i, (unsigned long long)cap->attrs[0].attr.sample_type,
				    (unsigned long long)st);
	}
	if (cap->id_pos < 0)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "%zu attrs but samples carry no id (neither PERF_SAMPLE_ID nor IDENTIFIER)",
			    cap->nr_attrs);
	return 0;
}

void kx_attrs_resolve(struct kvmexit_capture *cap)
{
	if (!cap->formats)
		return;
	for (size_t i = 0; i < cap->nr_attrs; i++) {
		struct kx_attr *a = &cap->attrs[i];

		if (a->resolved)
			continue;
		a->resolved = true;
		if (a->attr.type == PERF_TYPE_TRACEPOINT)
			a->layout = kx_formats_layout(cap->formats, a->attr.config);
		a->hot = a->fixed && a->tid_w >= 0 && a->time_w >= 0 && a->layout &&
			 a->layout->loadable;
		a->raw_off = (uint16_t)(8 + 8 * a->raw_w);
		a->raw_min = a->layout ? a->layout->min_size : 0;
	}
}

bool kx_attrs_need_formats(const struct kvmexit_capture *cap)
{
	for (size_t i = 0; i < cap->nr_attrs; i++)
		if (cap->attrs[i].attr.type == PERF_TYPE_TRACEPOINT)
			return true;
	return false;
}
