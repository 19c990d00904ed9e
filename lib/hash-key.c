// SPDX-License-Identifier: GPL-2.0-only
/*
 * Secret hash keys: the tables whose keys come from a capture (thread ids,
 * sample ids, cells, RIPs) hash with multipliers drawn here per object, so
 * that an input cannot aim its keys at one chain (see lib/profile.c).
 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

void kx_hash_key(uint64_t *out, size_t n)
{
	struct timespec ts;
	uint64_t x;

	if (getrandom(out, n * sizeof(*out), GRND_NONBLOCK) == (ssize_t)(n * sizeof(*out)))
		goto odd;
	/* No entropy yet (early boot): the clock and ASLR, still unseen by a capture. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uint64_t)(uintptr_t)out;
	for (size_t i = 0; i < n; i++) {
		x += 0x9e3779b97f4a7c15ull;	/* splitmix64 */
		out[i] = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ull;
		out[i] = (out[i] ^ out[i] >> 27) * 0x94d049bb133111ebull;
		out[i] ^= out[i] >> 31;
	}
odd:
	for (size_t i = 0; i < n; i++)
		out[i] |= 1;
}
