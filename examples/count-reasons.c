// SPDX-License-Identifier: GPL-2.0-only
/*
 * count-reasons: how many VM exits of each reason a capture holds.
 *
 *	cc count-reasons.c $(pkg-config --cflags --libs libkvmexit)
 *	./count-reasons kvmexit.data
 *
 * Reads a perf.data capture (kvmexit's or perf's) event by event and
 * prints one line per exit reason, most frequent first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <kvmexit.h>

struct reason_count {
	enum kvmexit_isa isa;
	uint32_t code;
	uint64_t count;
};

struct counts {
	struct reason_count v[256];	/* plenty: a capture has a few dozen */
	size_t n;
};

/* Called for every event in time order; returning non-zero would stop. */
static int count_exit(const struct kvmexit_event *ev, void *arg)
{
	struct counts *c = arg;
	uint32_t code;
	size_t i;

	if (ev->type != KVMEXIT_EV_EXIT)
		return 0;		/* entries, port I/O, lost records... */
	code = ev->exit.exit_reason;
	if (ev->exit.isa == KVMEXIT_ISA_VMX)
		code = kvmexit_vmx_basic(code);	/* drop the flag bits */
	for (i = 0; i < c->n; i++)
		if (c->v[i].isa == ev->exit.isa && c->v[i].code == code)
			break;
	if (i == c->n) {
		if (c->n == sizeof(c->v) / sizeof(c->v[0]))
			return 0;	/* table full: ignore */
		c->v[c->n++] = (struct reason_count){ ev->exit.isa, code, 0 };
	}
	c->v[i].count++;
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct reason_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->code < y->code ? -1 : x->code > y->code;	/* ties: by code */
}

int main(int argc, char **argv)
{
	static struct counts c;
	struct kvmexit_capture *cap;
	char err[256], name[64];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
		return 2;
	}
	/* On failure err says what was wrong, and where in the file. */
	ret = kvmexit_capture_open(argv[1], &cap, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ret = kvmexit_capture_for_each(cap, count_exit, &c);
	if (ret < 0)
		fprintf(stderr, "%s\n", kvmexit_capture_errmsg(cap));
	kvmexit_capture_close(cap);
	if (ret < 0)
		return 1;

	qsort(c.v, c.n, sizeof(c.v[0]), by_count);
	for (size_t i = 0; i < c.n; i++) {
		kvmexit_reason_name(c.v[i].isa, c.v[i].code, name, sizeof(name));
		printf("%-20s %8llu\n", name, (unsigned long long)c.v[i].count);
	}
	return 0;
}
