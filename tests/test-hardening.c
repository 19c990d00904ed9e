// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardening regressions: every input the fuzzers (fuzz/run) found to
 * crash, leak or hang the library, kept in tests/data/regress/, must now
 * give a clean error (an exact code and a message saying what and where).
 * Run under ASan+UBSan (configure --enable-sanitizers) a leak fails here.
 */
#include <check.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-skip.h"
#include "kvmexit.h"
#include "internal.h"

#define REGRESS TESTS_DATADIR "/regress/"

struct regress {
	const char *file;
	int open_err;		/* kvmexit_capture_open()'s result */
	const char *msg;	/* in its message */
};

static const struct regress captures[] = {
	/*
	 * fuzz-capture: a pipe capture whose kvm_exit format has the field
	 * line "field:u32kvm_exitode;" (one word: no name); libtraceevent
	 * 1.7.1 leaked the word.  Such formats are refused before it.
	 */
	{ "leak-one-word-field.pipe.data", -KVMEXIT_EFORMAT,
	  "is not of the form the kernel writes" },
};

static int count(const struct kvmexit_event *ev, void *arg)
{
	(void)ev;
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(test_regress_capture)
{
	const struct regress *r = &captures[_i];
	struct kvmexit_capture *cap = NULL;
	char path[512], err[KX_ERRMSG_SIZE] = "";
	size_t n = 0;
	int ret;

	snprintf(path, sizeof(path), REGRESS "%s", r->file);
	ret = kvmexit_capture_open(path, &cap, err, sizeof(err));
	if (ret == 0) {
		ret = kvmexit_capture_for_each(cap, count, &n);
		snprintf(err, sizeof(err), "%s", kvmexit_capture_errmsg(cap));
		kvmexit_capture_close(cap);
	}
	ck_assert_msg(ret == r->open_err, "%s: %d (%s), want %d", r->file, ret, err, r->open_err);
	ck_assert_msg(strstr(err, r->msg), "%s: message '%s' lacks '%s'", r->file, err, r->msg);
	ck_assert_msg(strstr(err, path), "%s: message '%s' does not name the file", r->file, err);
}
END_TEST

/* The format behind leak-one-word-field, and its neighbours. */
START_TEST(test_format_one_word_field)
{
	static const char head[] = "name: probe\nID: 1400\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n";
	static const struct {
		const char *line;
		int ret;
	} lines[] = {
		{ "\tfield:u32infa;\toffset:8;\tsize:4;\tsigned:0;\n", -KVMEXIT_EFORMAT },
		{ "\tfield: u32 rw;\toffset:8;\tsize:4;\tsigned:0;\n", -KVMEXIT_EFORMAT },
		{ "\tfield:u32 4rw;\toffset:8;\tsize:4;\tsigned:0;\n", -KVMEXIT_EFORMAT },
		{ "\tfield:char[16];\toffset:8;\tsize:16;\tsigned:0;\n", -KVMEXIT_EFORMAT },
		{ "\tfield:u32 rw;\toffset:8;\tsize:4;\tsigned:0;\n", 0 },
		{ "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n", 0 },
		{ "\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n", 0 },
		{ "\tfield:const char * msg;\toffset:8;\tsize:8;\tsigned:0;\n", 0 },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct kx_formats *f;
		char text[512], err[KX_ERRMSG_SIZE] = "";
		int ret;

		snprintf(text, sizeof(text), "%s%sprint fmt: \"\"\n", head, lines[i].line);
		ck_assert_int_eq(kx_formats_new(8, &f), 0);
		ret = kx_formats_add(f, "test", text, strlen(text), err);
		ck_assert_msg(ret == lines[i].ret, "%s: %d (%s)", lines[i].line, ret, err);
		if (ret)
			ck_assert_str_eq(err, "a format of system test is not of the form the kernel writes");
		kx_formats_free(f);
	}
}
END_TEST

/*
 * fuzz-profile-load: a file-mode capture with no attrs, no ids and an empty
 * data section, loaded on threads: the split sorted its (absent) ids with
 * qsort(NULL, 0, ...), undefined behaviour that UBSan reports.  It must
 * load, empty, as on one thread.
 */
START_TEST(test_regress_split_no_ids)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o) };
	struct kvmexit_profile_totals t;
	struct kvmexit_profile *p;
	char err[KX_ERRMSG_SIZE] = "";

	for (o.threads = 1; o.threads <= 3; o.threads++) {
		ck_assert_msg(kvmexit_profile_load(REGRESS "split-no-ids.data", &o, &p, err,
						   sizeof(err)) == 0, "%u threads: %s", o.threads, err);
		kvmexit_profile_totals(p, &t);
		ck_assert_uint_eq(t.events, 0);
		ck_assert_uint_eq(t.exits, 0);
		kvmexit_profile_free(p);
	}
}
END_TEST

/*
 * A pipe capture cut short inside what a record says follows it (an
 * AUXTRACE record's data, a tracing data blob): read from a file it used
 * to succeed with the rest silently dropped (the skip seeked past the
 * end); through a pipe it failed.  The same error both ways now.
 */
static int open_walk(const char *path, char *err, size_t len)
{
	struct kvmexit_capture *cap = NULL;
	size_t n = 0;
	int ret = kvmexit_capture_open(path, &cap, err, len);

	if (ret == 0) {
		ret = kvmexit_capture_for_each(cap, count, &n);
		snprintf(err, len, "%s", kvmexit_capture_errmsg(cap));
		kvmexit_capture_close(cap);
	}
	return ret;
}

static void cut_short_both_ways(const unsigned char *bytes, size_t len, const char *want)
{
	char path[] = "/tmp/test-hardening.XXXXXX", fdpath[64], err[KX_ERRMSG_SIZE] = "";
	int fd = mkstemp(path), p[2], status;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(open_walk(path, err, sizeof(err)), -KVMEXIT_ETRUNC);
	ck_assert_str_eq(strstr(err, ": ") + 2, want);
	unlink(path);

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(write(p[1], bytes, len) == (ssize_t)len ? 0 : 1);
	}
	close(p[1]);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", p[0]);
	ck_assert_int_eq(open_walk(fdpath, err, sizeof(err)), -KVMEXIT_ETRUNC);
	ck_assert_str_eq(strstr(err, ": ") + 2, want);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

START_TEST(test_pipe_cut_short_in_file)
{
	unsigned char b[16 + 48] = "PERFILE2";
	struct perf_event_header h = { .type = 71, .size = 48 };	/* AUXTRACE */

	put_u64(b + 8, 16);
	memcpy(b + 16, &h, sizeof(h));
	put_u64(b + 24, 1 << 20);	/* its data: 1 MiB, absent */
	cut_short_both_ways(b, sizeof(b), "truncated: the auxtrace data after offset 0x10 "
			    "(1048576 bytes) is cut short");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *tc = tcase_create("regress");

	tcase_add_loop_test(tc, test_regress_capture, 0, sizeof(captures) / sizeof(captures[0]));
	tcase_add_test(tc, test_format_one_word_field);
	tcase_add_test(tc, test_regress_split_no_ids);
	tcase_add_test(tc, test_pipe_cut_short_in_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
