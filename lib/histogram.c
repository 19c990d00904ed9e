// SPDX-License-Identifier: GPL-2.0-only
/*
 * Log-linear histograms of durations: bucket geometry, merging and
 * percentiles.  Counting one value is an inline in internal.h (hot path).
 *
 * Bucket i < 2 * KX_HIST_SUB holds the single value i.  Above, bucket i is
 * in group g = i / KX_HIST_SUB (g >= 2), holds 2^(g-1) values and starts at
 * (KX_HIST_SUB + i % KX_HIST_SUB) << (g - 1).  So a bucket is at most 1/32
 * of its lower bound wide, and its midpoint is within 1/64 of its values.
 */
#include "internal.h"

uint64_t kx_hist_bucket_low(unsigned int i)
{
	unsigned int g = i >> KX_HIST_SUB_BITS;

	if (g < 2)
		return i;
	return (uint64_t)(KX_HIST_SUB + (i & (KX_HIST_SUB - 1))) << (g - 1);
}

uint64_t kx_hist_bucket_width(unsigned int i)
{
	unsigned int g = i >> KX_HIST_SUB_BITS;

	return g < 2 ? 1 : (uint64_t)1 << (g - 1);
}

uint64_t kx_hist_bucket_value(unsigned int i)
{
	return kx_hist_bucket_low(i) + kx_hist_bucket_width(i) / 2;
}

uint64_t kx_hist_count(const struct kx_hist *h, unsigned int i)
{
	const uint64_t *g;

	if (i >= KX_HIST_BUCKETS)
		return 0;
	g = h->group[i >> KX_HIST_SUB_BITS];
	return g ? g[i & (KX_HIST_SUB - 1)] : 0;
}

int kx_hist_add_bucket(struct kx_hist *h, unsigned int i, uint64_t n)
{
	uint64_t **g;

	if (i >= KX_HIST_BUCKETS)
		return -EINVAL;
	g = &h->group[i >> KX_HIST_SUB_BITS];
	if (!*g) {
		*g = calloc(KX_HIST_SUB, sizeof(**g));
		if (!*g)
			return -ENOMEM;
	}
	(*g)[i & (KX_HIST_SUB - 1)] += n;
	return 0;
}

int kx_hist_merge(struct kx_hist *dst, const struct kx_hist *src)
{
	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++) {
		if (!src->group[g])
			continue;
		if (!dst->group[g]) {
			dst->group[g] = calloc(KX_HIST_SUB, sizeof(uint64_t));
			if (!dst->group[g])
				return -ENOMEM;
		}
		for (unsigned int i = 0; i < KX_HIST_SUB; i++)
			dst->group[g][i] += src->group[g][i];
	}
	return 0;
}

void kx_hist_release(struct kx_hist *h)
{
	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++) {
		free(h->group[g]);
		h->group[g] = NULL;
	}
}

/* The bucket holding the value of the given rank (1-based). */
static unsigned int bucket_of_rank(const struct kx_hist *h, uint64_t rank)
{
	uint64_t seen = 0;

	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++) {
		if (!h->group[g])
			continue;
		for (unsigned int i = 0; i < KX_HIST_SUB; i++) {
			seen += h->group[g][i];
			if (seen >= rank)
				return (g << KX_HIST_SUB_BITS) + i;
		}
	}
	return KX_HIST_BUCKETS - 1;
}

uint64_t kx_hist_percentile(const struct kx_hist *h, uint64_t n, unsigned int pct,
			    uint64_t min, uint64_t max)
{
	uint64_t rank, v;

	if (!n || !h)
		return 0;
	/* ceil(n * pct / 100), without overflow for any n. */
	rank = n / 100 * pct + ((n % 100) * pct + 99) / 100;
	if (rank == 0)
		rank = 1;
	v = kx_hist_bucket_value(bucket_of_rank(h, rank));
	if (v < min)
		v = min;
	if (v > max)
		v = max;
	return v;
}

bool kx_hist_bounds_ok(const uint64_t *bounds, size_t nr)
{
	for (size_t j = 0; j < nr; j++) {
		uint64_t b = bounds[j];

		if (b >= (uint64_t)1 << KX_HIST_MAX_SHIFT || (j && b <= bounds[j - 1]) ||
		    kx_hist_bucket_low(kx_hist_index(b + 1)) != b + 1)
			return false;
	}
	return true;
}

void kx_hist_count_under(const struct kx_hist *h, const uint64_t *bounds, size_t nr,
			 uint64_t *counts)
{
	size_t j = 0;

	/* Buckets rise; each falls wholly under the first bound >= its end. */
	for (unsigned int g = 0; g < KX_HIST_GROUPS && j < nr; g++) {
		if (!h->group[g])
			continue;
		for (unsigned int s = 0; s < KX_HIST_SUB; s++) {
			unsigned int i = (g << KX_HIST_SUB_BITS) + s;
			uint64_t n = h->group[g][s];

			if (!n)
				continue;
			while (j < nr && bounds[j] < kx_hist_bucket_low(i))
				j++;
			if (j == nr)
				return;
			counts[j] += n;
		}
	}
}
