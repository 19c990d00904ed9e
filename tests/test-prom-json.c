// SPDX-License-Identifier: GPL-2.0-only
/*
 * Count tables from Prometheus's query API (lib/prom-json.c), through
 * kvmexit_profile_load() as the tools read them: exact counts, the ISA
 * from labels or spelling, range results, and every kind of bad input
 * refused with a message that quotes nothing raw.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-skip.h"
#include "kvmexit.h"

static char path[] = "/tmp/kvmexit-prom-json.XXXXXX";
static struct kvmexit_profile *prof;
static char err[512];

static int load(const char *json)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	kvmexit_profile_free(prof);
	prof = NULL;
	err[0] = '\0';
	int ret = kvmexit_profile_load(path, NULL, &prof, err, sizeof(err));

	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	return ret;
}

static void teardown(void)
{
	kvmexit_profile_free(prof);
	prof = NULL;
}

/* The count of one reason (by its exact name) in the loaded profile. */
static uint64_t count_of(const char *name)
{
	struct kvmexit_stat *rows;
	uint64_t c = 0;
	int n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		char buf[64];

		kvmexit_reason_name(rows[i].isa, rows[i].reason, buf, sizeof(buf));
		if (!strcmp(buf, name))
			c += rows[i].count;
	}
	kvmexit_stats_free(rows);
	return c;
}

#define SERIES(labels, v) "{\"metric\":{" labels "},\"value\":[1796596729.21,\"" v "\"]}"
#define VECTOR(...) "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" \
	__VA_ARGS__ "]}}"

START_TEST(test_vector_svm)
{
	struct kvmexit_profile_totals t;

	ck_assert_int_eq(load(VECTOR(SERIES("\"reason\":\"npf\"", "206") ","
				     SERIES("\"__name__\":\"x\",\"reason\":\"io\",\"pid\":\"1\"", "50") ","
				     SERIES("\"reason\":\"io\",\"pid\":\"2\"", "6") ","
				     SERIES("\"reason\":\"PF excp\"", "401.5") ","
				     SERIES("\"reason\":\"hlt\"", "0"))), 0);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 206 + 56 + 402);
	ck_assert_uint_eq(count_of("npf"), 206);
	ck_assert_uint_eq(count_of("io"), 56);		/* summed over pids */
	ck_assert_uint_eq(count_of("PF excp"), 402);	/* increase() is rounded */
	ck_assert_int_eq(kvmexit_profile_meta(prof)->isa, KVMEXIT_ISA_SVM);
	ck_assert_str_eq(kvmexit_profile_meta(prof)->kvm_module, "kvm_amd");
	ck_assert(kvmexit_profile_meta(prof)->counts_only);
}
END_TEST

START_TEST(test_vector_vmx_and_labels)
{
	/* "HLT" is VMX by its spelling; an isa label settles any name. */
	ck_assert_int_eq(load(VECTOR(SERIES("\"reason\":\"EPT_VIOLATION\"", "7") ","
				     SERIES("\"reason\":\"HLT\"", "3") ","
				     SERIES("\"reason\":\"cpuid\",\"isa\":\"vmx\"", "5") ","
				     SERIES("\"reason\":\"UNKNOWN(0x7f)\"", "1"))), 0);
	ck_assert_uint_eq(count_of("EPT_VIOLATION"), 7);
	ck_assert_uint_eq(count_of("HLT"), 3);
	ck_assert_uint_eq(count_of("CPUID"), 5);
	ck_assert_uint_eq(count_of("UNKNOWN(0x7f)"), 1);
	ck_assert_int_eq(kvmexit_profile_meta(prof)->isa, KVMEXIT_ISA_VMX);
}
END_TEST

START_TEST(test_matrix_last_value)
{
	ck_assert_int_eq(load("  {\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
			      "{\"metric\":{\"reason\":\"npf\"},\"values\":[[1,\"1\"],[2,\"10\"],[3,\"12\"]]}]}}\n"),
			 0);
	ck_assert_uint_eq(count_of("npf"), 12);
}
END_TEST

START_TEST(test_escapes)
{
	/* \u escapes, a surrogate pair, and "\/" decode; the name must still match. */
	ck_assert_int_eq(load(VECTOR(SERIES("\"reason\":\"\\u006epf\",\"x\":\"\\ud83d\\ude00\\/\"", "2"))), 0);
	ck_assert_uint_eq(count_of("npf"), 2);
}
END_TEST

struct bad {
	const char *json;
	int err;
	const char *msg;		/* a substring of the message */
};

START_TEST(test_bad)
{
	static const struct bad bad[] = {
		{ "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error \\u001b[31m\"}",
		  -KVMEXIT_EFORMAT, "Prometheus answered \"error\": parse error ?[31m" },
		{ "{\"status\":\"success\"", -KVMEXIT_EFORMAT, "not JSON: expected ',' or '}' at byte 19" },
		{ "{\"a\":1} x", -KVMEXIT_EFORMAT, "expected the end after the JSON value at byte 8" },
		{ "{\"a\":\"\\u0000\"}", -KVMEXIT_EFORMAT, "not \\u0000" },
		{ "{\"a\":\"\\ud800\"}", -KVMEXIT_EFORMAT, "a valid escape" },
		{ "{\"a\":\"\x01\"}", -KVMEXIT_EFORMAT, "no control characters" },
		{ "{\"a\":tru}", -KVMEXIT_EFORMAT, "expected a value at byte 5" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2\"]}}",
		  -KVMEXIT_EFORMAT, "not a Prometheus query result" },
		{ VECTOR(), -KVMEXIT_ENOEVENTS, "the query result is empty" },
		{ VECTOR(SERIES("\"job\":\"x\"", "1")), -KVMEXIT_EFORMAT,
		  "series 1 has no \"reason\" label" },
		{ VECTOR(SERIES("\"reason\":\"npf\"", "-1")), -KVMEXIT_EFORMAT,
		  "series 1 (npf): '-1' is not a count" },
		{ VECTOR(SERIES("\"reason\":\"npf\"", "NaN")), -KVMEXIT_EFORMAT, "'NaN' is not a count" },
		{ VECTOR(SERIES("\"reason\":\"npf\"", "+Inf")), -KVMEXIT_EFORMAT, "'+Inf' is not a count" },
		{ VECTOR(SERIES("\"reason\":\"npf\"", "1") "," SERIES("\"reason\":\"HLT\"", "1")),
		  -KVMEXIT_EFORMAT, "VMX and SVM reasons mixed" },
		{ VECTOR(SERIES("\"reason\":\"no\\nsuch\"", "1")), -KVMEXIT_EFORMAT,
		  "'no?such' is not a VMX or SVM exit reason" },
		{ VECTOR(SERIES("\"reason\":\"npf\",\"isa\":\"arm\"", "1")), -KVMEXIT_EFORMAT,
		  "isa \"arm\" is neither vmx nor svm" },
		{ VECTOR("{\"metric\":{\"reason\":\"npf\"},\"value\":[1]}"), -KVMEXIT_EFORMAT,
		  "has no value [time, \"count\"]" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_msg(load(bad[i].json) == bad[i].err, "case %zu: %s", i, err);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i, err,
			      bad[i].msg);
		ck_assert_ptr_null(prof);
	}
}
END_TEST

START_TEST(test_deep_nesting)
{
	char json[200];
	size_t n = 5;

	memcpy(json, "{\"a\":", 5);
	for (int i = 0; i < 40; i++)
		json[n++] = '[';
	json[n] = '\0';
	ck_assert_int_eq(load(json), -KVMEXIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "at most 32 levels of nesting"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("prom-json");
	TCase *tc = tcase_create("prom-json");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_vector_svm);
	tcase_add_test(tc, test_vector_vmx_and_labels);
	tcase_add_test(tc, test_matrix_last_value);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_deep_nesting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
