// SPDX-License-Identifier: GPL-2.0-only
/*
 * A capture's attrs (from the file header's attrs section or HEADER_ATTR
 * records) and their sample ids: where each sample field is, which attr a
 * sample belongs to (by its id, IDENTIFIER or the ID position, which must
 * be the same for every attr), and which kvm event format decodes it.
 */
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

int kx_ids_add(struct kvmexit_capture *cap, const unsigned char *p, size_t nr,
		   uint32_t attr)
{
	struct kx_id *v;

	if (nr > KX_MAX_IDS - cap->nr_ids)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "more than %u sample ids", KX_MAX_IDS);
	if (!nr)
		return 0;
	v = realloc(cap->ids, (cap->nr_ids + nr) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cap->ids = v;
	for (size_t i = 0; i < nr; i++)
		v[cap->nr_ids++] = (struct kx_id){ .id = ld64(p + 8 * i), .attr = attr };
	cap->ids_sorted = false;
	memset(cap->idcache, 0, sizeof(cap->idcache));
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	const struct kx_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

void kx_ids_sort(struct kvmexit_capture *cap)
{
	if (!cap->ids_sorted && cap->nr_ids) {
		qsort(cap->ids, cap->nr_ids, sizeof(*cap->ids), id_cmp);
		cap->ids_sorted = true;
	}
}

/* attr_by_id() when its cache misses. */
struct kx_attr *kx_attr_by_id_slow(struct kvmexit_capture *cap, uint64_t id)
{
	size_t lo = 0, hi;

	kx_ids_sort(cap);
	hi = cap->nr_ids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cap->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cap->nr_ids && cap->ids[lo].id == id)
		return &cap->attrs[cap->ids[lo].attr];
	return NULL;
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
