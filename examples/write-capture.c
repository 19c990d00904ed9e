// SPDX-License-Identifier: GPL-2.0-only
/*
 * write-capture: write a small synthetic capture that perf and kvmexit
 * read: three VMX exits (CPUID, HLT, EPT_VIOLATION), each with its entry.
 * The tracepoint formats come from tracefs (or copies of it):
 *
 *	./write-capture /sys/kernel/tracing/events/kvm out.data
 *	perf script -i out.data
 */
#include <stdio.h>
#include <stdlib.h>
#include <kvmexit.h>

/* The whole of a small text file, NUL-terminated, or NULL. */
static char *slurp(const char *dir, const char *event)
{
	char path[4096], *text = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/format", dir, event);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	text = calloc(1, 65536);
	if (text)
		n = fread(text, 1, 65535, f);
	fclose(f);
	if (n == 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int add(struct kvmexit_writer *w, const char *dir, const char *event)
{
	char *format = slurp(dir, event);
	int ret;

	if (!format) {
		fprintf(stderr, "cannot read %s/%s/format\n", dir, event);
		return -1;
	}
	ret = kvmexit_writer_add_tracepoint(w, "kvm", format);
	free(format);
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", event, kvmexit_writer_errmsg(w));
	return ret;
}

int main(int argc, char **argv)
{
	static const uint32_t reasons[] = { 10, 12, 48 };	/* CPUID, HLT, EPT_VIOLATION */
	struct kvmexit_writer *w;
	char err[256];
	int ret = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s EVENTS_KVM_DIR OUTPUT\n", argv[0]);
		return 2;
	}
	/* NULL opts: no metadata, default sample type, never overwrite. */
	if (kvmexit_writer_open(argv[2], NULL, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (add(w, argv[1], "kvm_exit") < 0 || add(w, argv[1], "kvm_entry") < 0) {
		kvmexit_writer_close(w, NULL, 0);
		return 1;
	}
	for (int i = 0; i < 3 && ret == 0; i++) {
		struct kvmexit_event ev = {
			.type = KVMEXIT_EV_EXIT, .time = 1000000 + i * 2000,
			.pid = 4242, .tid = 4243, .cpu = 1, .vcpu = 0,
			.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reasons[i],
				  .guest_rip = 0xffffffff81000000 + i },
		};

		ret = kvmexit_writer_write_event(w, &ev);
		ev.type = KVMEXIT_EV_ENTRY;	/* handled in 500 ns */
		ev.time += 500;
		ev.entry.rip = 0xffffffff81000000 + i;
		if (ret == 0)
			ret = kvmexit_writer_write_event(w, &ev);
	}
	if (ret == 0)		/* events of one round may come in any order */
		ret = kvmexit_writer_finish_round(w);
	/* Close reports the first error since open, with its message. */
	if (kvmexit_writer_close(w, err, sizeof(err)) < 0 || ret < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], err);
		return 1;
	}
	return 0;
}
