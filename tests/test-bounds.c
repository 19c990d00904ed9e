// SPDX-License-Identifier: GPL-2.0-only
/*
 * Work that must grow with the input, not faster: each shape a hostile
 * capture can take (keys aimed at a hash, ...), scaled small, must cost
 * within a small multiple of a benign input of the same size.  Work is
 * counted (probes of the profile's tables, ...), never timed.
 */
#include <check.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Lost records among many threads: each used to walk every thread (25.6 MB
 * of lost records took 15.6 s); now each drops the pending exits in O(1).
 * Exact counts: n threads with an exit and its entry, then n rounds of one
 * thread's exit and a lost record (dropped), and one exit whose entry comes
 * after a lost record (dropped, not timed), and a last exit left pending.
 */
START_TEST(test_lost_records)
{
	const uint32_t n = 20000;
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	uint64_t time = 1000;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	for (uint32_t i = 0; i < 2 * n + 4; i++) {
		uint32_t tid = i < 2 * n ? 5000 + i / 2 : 4000;
		int kind = i < 2 * n ? (int)(i % 2) : i == 2 * n ? 0 : i == 2 * n + 1 ? 2 :
			   i == 2 * n + 2 ? 1 : 0;	/* exit, lost, entry, exit */
		struct kvmexit_event ev = {
			.type = kind == 0 ? KVMEXIT_EV_EXIT : kind == 1 ? KVMEXIT_EV_ENTRY :
				KVMEXIT_EV_LOST,
			.time = time++, .pid = 100, .tid = (int32_t)tid, .vcpu = tid % 8,
			.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = 12 },
		};

		if (kind == 2)
			ev.lost.count = 1;
		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
		if (i < 2 * n && i % 2) {	/* and one lost record per pair of threads */
			struct kvmexit_event ex = ev, lost = { .type = KVMEXIT_EV_LOST,
							       .lost.count = 3 };

			ex.type = KVMEXIT_EV_EXIT;
			ex.tid = 3000;
			ex.time = time++;
			ck_assert_int_eq(kvmexit_profile_add_event(p, &ex), 0);
			ck_assert_int_eq(kvmexit_profile_add_event(p, &lost), 0);
		}
	}
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.exits, 2 * n + 2);
	ck_assert_uint_eq(t.timed, n);
	ck_assert_uint_eq(t.dropped_pairs, n + 1);
	ck_assert_uint_eq(t.unpaired, 0);
	ck_assert_uint_eq(t.lost, 3 * n + 1);
	kvmexit_profile_free(p);
}
END_TEST

/*
 * Memory per distinct thread (its own pid and vCPU, one exit and its
 * entry): the bound kvmexit-capture(5) states, 1.2 KiB with the sum of
 * squares for the standard deviation (it was ~1.6 KiB; a 50 MB capture of
 * such threads peaked at 435-594 MB).  Heap bytes as
 * glibc counts them (0 under sanitizers, which replace malloc).
 */
START_TEST(test_memory_per_thread)
{
	const uint32_t n = 20000;
	struct mallinfo2 before = mallinfo2(), after;
	struct kvmexit_profile *p;
	size_t used;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct kvmexit_event ev = {
			.type = KVMEXIT_EV_EXIT, .time = 10ull * i, .pid = (int32_t)(1000 + i),
			.tid = (int32_t)(100000 + i), .vcpu = i,
			.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = 12 },
		};

		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
		ev.type = KVMEXIT_EV_ENTRY;
		ev.time += 5;
		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
	}
	after = mallinfo2();
	used = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
	ck_assert_msg(used <= 1232 * (size_t)n, "%zu bytes per thread", used / n);
	kvmexit_profile_free(p);
}
END_TEST

/* ------------------------------------------------------------ captures in memory */

struct buf {
	unsigned char *p;
	size_t len, alloc;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->alloc) {
		b->alloc = (b->len + n) * 2;
		b->p = realloc(b->p, b->alloc);
		ck_assert(b->p);
	}
	if (p)
		memcpy(b->p + b->len, p, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

static void put64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_hdr(struct buf *b, uint32_t type, uint16_t size)
{
	struct perf_event_header h = { .type = type, .size = size };

	put(b, &h, sizeof(h));
}

static char tmpdir[] = "/tmp/test-bounds.XXXXXX";

static const char *write_tmp(const char *name, const struct buf *b)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	ck_assert(f);
	ck_assert_uint_eq(fwrite(b->p, 1, b->len, f), b->len);
	fclose(f);
	return path;
}

static int count_event(const struct kvmexit_event *ev, void *arg)
{
	(void)ev;
	(*(uint64_t *)arg)++;
	return 0;
}

/* ------------------------------------------------------------ pipe-mode ids */

#define PIPE_ST (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME)

static void pipe_attr(struct buf *b, uint32_t n_ids, uint64_t first_id)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(a), .sample_period = 1,
		.sample_type = PIPE_ST,
	};

	put_hdr(b, 64, (uint16_t)(8 + sizeof(a) + 8 * n_ids));	/* HEADER_ATTR */
	put(b, &a, sizeof(a));
	for (uint32_t i = 0; i < n_ids; i++)
		put64(b, first_id + i);
}

static void pipe_sample(struct buf *b, uint64_t id, uint64_t time)
{
	put_hdr(b, PERF_RECORD_SAMPLE, 8 + 24);
	put64(b, id);
	put64(b, 1000ull << 32 | 1000);
	put64(b, time);
}

/*
 * A pipe capture of attrs records, each with ids, and samples whose ids no
 * attr has: interleaved (a sample after each attr record, which made the
 * former sorted id array re-sort every time: 160 s for 9.3 MB), or the attr
 * records first.  Returns the id table's probes.
 */
static uint64_t pipe_ids(int interleaved, uint32_t attrs, uint32_t ids)
{
	struct buf b = { 0 };
	struct kvmexit_capture *cap;
	char err[KX_ERRMSG_SIZE];
	uint64_t probes, n = 0;

	put(&b, "PERFILE2", 8);
	put64(&b, 16);
	for (uint32_t i = 0; i < attrs; i++) {
		pipe_attr(&b, ids, (uint64_t)i * ids + 1);
		if (interleaved)
			pipe_sample(&b, 0xdead0000ull + i, 1000 + i);
	}
	for (uint32_t i = 0; !interleaved && i < attrs; i++)
		pipe_sample(&b, 0xdead0000ull + i, 1000 + i);
	ck_assert_int_eq(kvmexit_capture_open(write_tmp("ids.pipe.data", &b), &cap, err,
					      sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_capture_for_each(cap, count_event, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* reported; with one attr, a sample needs no id (the first one interleaved) */
	ck_assert_uint_eq(kvmexit_capture_meta(cap)->unknown_id_samples, attrs - !!interleaved);
	probes = kx_capture_id_probes(cap);
	kvmexit_capture_close(cap);
	free(b.p);
	return probes;
}

START_TEST(test_pipe_ids)
{
	const uint32_t attrs = 1000, ids = 64;
	uint64_t benign = pipe_ids(0, attrs, ids), aimed = pipe_ids(1, attrs, ids);

	ck_assert_msg(aimed <= 2 * benign, "interleaved: %" PRIu64 " probes, attrs first: %"
		      PRIu64, aimed, benign);
	ck_assert_uint_le(benign, 8 * (uint64_t)attrs * ids);
}
END_TEST

/* ------------------------------------------------------------ many formats */

static void put32(struct buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_text(struct buf *b, const char *text)
{
	put64(b, strlen(text));
	put(b, text, strlen(text));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *t;
	long n;

	ck_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	t = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(t, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return t;
}

/*
 * A pipe capture with one kvm_exit attr whose tracing data also holds
 * `extra` tiny formats of another system: libtraceevent 1.7.1 adds each
 * with a linear scan (13 MB of them took minutes), so only the formats of
 * the capture's attrs go to it.  Returns the formats parsed.
 */
static size_t formats_parsed(uint32_t extra)
{
	char *kvm_exit = slurp(TESTS_DATADIR "/kvm_exit.format.6.18.txt"), text[256];
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(a), .sample_period = 1,
		.sample_type = PIPE_ST,
	};
	struct buf b = { 0 }, blob = { 0 };
	struct kvmexit_capture *cap;
	char err[KX_ERRMSG_SIZE];
	uint64_t id;
	size_t n;

	ck_assert_int_eq(kx_format_id(kvm_exit, strlen(kvm_exit), &id), 0);
	a.config = id;
	put(&blob, "\x17\x08\x44tracing", 10);
	put(&blob, "0.6", 4);
	put(&blob, "\0\x08", 2);		/* little endian, 8-byte longs */
	put32(&blob, 4096);
	put(&blob, "header_page", 12);
	put_text(&blob, "");
	put(&blob, "header_event", 13);
	put_text(&blob, "");
	put32(&blob, 0);			/* ftrace formats */
	put32(&blob, 2);			/* systems */
	put(&blob, "noise", 6);
	put32(&blob, extra);
	for (uint32_t i = 0; i < extra; i++) {
		snprintf(text, sizeof(text), "name: e%u\nID: %u\nformat:\n\tfield:unsigned short "
			 "common_type;\toffset:0;\tsize:2;\tsigned:0;\n\nprint fmt: \"\"\n",
			 i, 20000 + i);
		put_text(&blob, text);
	}
	put(&blob, "kvm", 4);
	put32(&blob, 1);
	put_text(&blob, kvm_exit);
	put32(&blob, 0);			/* kallsyms */
	put32(&blob, 0);			/* printk formats */
	put64(&blob, 0);			/* saved cmdlines */
	while (blob.len % 8)
		put(&blob, NULL, 1);

	put(&b, "PERFILE2", 8);
	put64(&b, 16);
	put_hdr(&b, 64, (uint16_t)(8 + sizeof(a) + 8));
	put(&b, &a, sizeof(a));
	put64(&b, 1);
	put_hdr(&b, 66, 16);			/* HEADER_TRACING_DATA, the blob follows */
	put32(&b, (uint32_t)blob.len);
	put32(&b, 0);
	put(&b, blob.p, blob.len);
	ck_assert_msg(kvmexit_capture_open(write_tmp("formats.pipe.data", &b), &cap, err,
					   sizeof(err)) == 0, "%s", err);
	n = kx_capture_formats_parsed(cap);
	kvmexit_capture_close(cap);
	free(b.p);
	free(blob.p);
	free(kvm_exit);
	return n;
}

START_TEST(test_many_formats)
{
	ck_assert_uint_eq(formats_parsed(0), 1);
	ck_assert_uint_eq(formats_parsed(20000), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bounds");
	TCase *tc = tcase_create("profile");

	tcase_add_test(tc, test_cell_map_flood);
	tcase_add_test(tc, test_lost_records);
	tcase_add_test(tc, test_memory_per_thread);
	suite_add_tcase(s, tc);
	tc = tcase_create("reader");
	tcase_add_test(tc, test_pipe_ids);
	tcase_add_test(tc, test_many_formats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char cmd[64];
	int ret;

	if (!mkdtemp(tmpdir))
		return 99;
	ret = check_run(suite());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		ret = ret ? ret : 99;
	return ret;
}
