// SPDX-License-Identifier: GPL-2.0-only
/*
 * check-capture: read a whole capture and say whether it is sound.
 * Exit status 0: readable; 1: not, with the library's error text.
 *
 *	./check-capture kvmexit.data
 */
#include <stdio.h>
#include <kvmexit.h>

static int count(const struct kvmexit_event *ev, void *arg)
{
	(void)ev;
	++*(unsigned long *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	struct kvmexit_capture *cap;
	unsigned long events = 0;
	char err[256];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
		return 2;
	}
	ret = kvmexit_capture_open(argv[1], &cap, err, sizeof(err));
	if (ret < 0) {
		/* The short text of the code, then the full message. */
		printf("%s: %s\n  %s\n", argv[1], kvmexit_strerror(ret), err);
		return 1;
	}
	ret = kvmexit_capture_for_each(cap, count, &events);
	if (ret < 0)
		printf("%s: %s after %lu events\n  %s\n", argv[1],
		       kvmexit_strerror(ret), events, kvmexit_capture_errmsg(cap));
	else
		printf("%s: %lu events, ok\n", argv[1], events);
	kvmexit_capture_close(cap);
	return ret < 0;
}
