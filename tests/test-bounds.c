// SPDX-License-Identifier: GPL-2.0-only
/*
 * Work that must grow with the input, not faster: each shape a hostile
 * capture can take (keys aimed at a hash, ...), scaled small, must cost
 * within a small multiple of a benign input of the same size.  Work is
 * counted (probes of the profile's tables, ...), never timed.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check-skip.h"
#include "kvmexit.h"
#include "internal.h"

/* ------------------------------------------------------------ hash flooding */

static uint64_t inverse(uint64_t a)	/* of an odd a, mod 2^64 (Newton) */
{
	uint64_t x = a;

	for (int i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

/*
 * The (pid, vCPU) key of the i-th exit that the cell map's former fixed
 * hash, k1 ^ k2 * C2 ^ k3 * C3 then a multiply and xor-shift, put into slot 0
 * of every table up to 2^24 slots: the hash inverted from a low-24-zero value.
 */
static uint64_t aimed_key(uint64_t k1, uint64_t i)
{
	uint64_t y = i << 24;
	uint64_t g = y ^ y >> 31 ^ y >> 62;
	uint64_t h = g * inverse(0xbf58476d1ce4e5b9ull);

	return (h ^ k1) * inverse(0xc2b2ae3d27d4eb4full);
}

static uint64_t add_exits(int aimed, uint32_t n)
{
	const uint64_t k1 = (uint64_t)KVMEXIT_ISA_VMX << 32 | 12;	/* HLT */
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	uint64_t probes;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t k3 = aimed ? aimed_key(k1, i + 1) : (uint64_t)(1000 + i / 8) << 32 | i % 8;
		struct kvmexit_event ev = {
			.type = KVMEXIT_EV_EXIT, .time = 1000 + i, .tid = (int32_t)(5000 + i),
			.pid = (int32_t)(k3 >> 32), .vcpu = (uint32_t)k3,
			.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = 12 },
		};

		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
	}
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.exits, n);
	probes = kx_profile_probes(p);
	kvmexit_profile_free(p);
	return probes;
}

/*
 * 4000 exits of distinct (pid, vCPU) cells: aimed at the former hash they
 * took about n^2/2 = 8 million probes; now as many as spread keys.
 */
START_TEST(test_cell_map_flood)
{
	const uint32_t n = 4000;
	uint64_t benign = add_exits(0, n), aimed = add_exits(1, n);

	ck_assert_msg(aimed <= 2 * benign, "aimed keys: %" PRIu64 " probes, spread keys: %"
		      PRIu64, aimed, benign);
	ck_assert_uint_le(benign, 20 * n);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bounds");
	TCase *tc = tcase_create("profile");

	tcase_add_test(tc, test_cell_map_flood);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
