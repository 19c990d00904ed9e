// SPDX-License-Identifier: GPL-2.0-only
/*
 * list-exits: print the first N exits of a capture with their details.
 *
 *	./list-exits kvmexit.data 10
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <kvmexit.h>

struct walk {
	unsigned long left;		/* exits still to print */
	uint64_t first_ns;
};

static int print_exit(const struct kvmexit_event *ev, void *arg)
{
	struct walk *w = arg;
	char name[64], detail[160];

	if (ev->type != KVMEXIT_EV_EXIT)
		return 0;
	if (!w->first_ns)
		w->first_ns = ev->time;
	kvmexit_reason_name(ev->exit.isa, ev->exit.exit_reason, name, sizeof(name));
	kvmexit_exit_describe(&ev->exit, detail, sizeof(detail));
	printf("%10.6f tid %" PRId32 " vcpu %" PRIu32 " rip 0x%" PRIx64 " %s %s\n",
	       (ev->time - w->first_ns) / 1e9, ev->tid, ev->vcpu,
	       ev->exit.guest_rip, name, detail);
	return --w->left == 0;		/* non-zero: stop the walk here */
}

int main(int argc, char **argv)
{
	struct walk w = { .left = 10 };
	struct kvmexit_capture *cap;
	char err[256];
	int ret;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s CAPTURE [N]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		w.left = strtoul(argv[2], NULL, 0);
	if (kvmexit_capture_open(argv[1], &cap, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* Returns 0 at the end, 1 when print_exit() stopped it, or < 0. */
	ret = kvmexit_capture_for_each(cap, print_exit, &w);
	if (ret < 0)
		fprintf(stderr, "%s\n", kvmexit_capture_errmsg(cap));
	kvmexit_capture_close(cap);
	return ret < 0;
}
