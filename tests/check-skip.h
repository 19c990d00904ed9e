/* SPDX-License-Identifier: GPL-2.0-only */
/* Running a Check suite, and skipping one visibly, under automake's TAP driver. */
#ifndef KVMEXIT_CHECK_SKIP_H
#define KVMEXIT_CHECK_SKIP_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* A TAP plan of zero tests with a reason: the driver reports one SKIP. */
static inline void __attribute__((noreturn)) check_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(0);
}

/* Runs the suite (CK_ENV: CK_VERBOSITY may say more); 1 if a test failed. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif
