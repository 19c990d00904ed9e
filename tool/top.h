/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmexit top: the state a view shows (tool/top-model.c), its outputs
 * without a terminal (tool/top-log.c) and its screen (tool/top-screen.c).
 * The numbers come from libkvmexit's snapshots and deltas; this layer
 * names, filters and sorts rows and keeps what the keys change.
 */
#ifndef KVMEXIT_TOOL_TOP_H
#define KVMEXIT_TOOL_TOP_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kvmexit.h"
#include "source.h"

/* What a row is: the keys cycle through these (b), or 1..6. */
enum top_view {
	TOP_BY_REASON = 0,	/* per exit reason */
	TOP_BY_DETAIL,		/* per reason and detail (#PF, port, cr3...) */
	TOP_BY_VM,		/* per VM, all reasons */
	TOP_BY_VCPU,		/* per VM and vCPU, all reasons */
	TOP_BY_PROCESS,		/* per VM process and reason */
	TOP_BY_CATEGORY,	/* per category (paging, io, ...) */
	TOP_VIEW__MAX,
};

enum top_sort {
	TOP_SORT_RATE = 0,	/* exits per second in the last interval */
	TOP_SORT_TOTAL,		/* since the start or the reset */
	TOP_SORT_AVG,		/* average handling time in the interval */
	TOP_SORT_P99,
	TOP_SORT_NAME,
	TOP_SORT__MAX,
};

struct top_row {
	const struct kvmexit_delta_row *r;
	char name[128];			/* all of the key in words, for sorting */
	char what[96];			/* reason, REASON/detail or category; "" */
	char vm[96];			/* the VM's name; "" when not per VM */
	int32_t pid, vcpu;		/* -1 when not per VM */
	bool exited;			/* the VM's process is gone */
};

/* A VM seen so far: live views keep it (marked) after it exits. */
struct top_vm {
	int32_t pid;
	char name[96];
	bool exited;
};

struct top {
	struct source *src;
	/* settings, changed by keys */
	uint64_t interval_ns;
	enum top_view view;
	enum top_sort sort;
	int32_t vm;			/* drilled into this VM's pid; -1: all */
	bool has_filter;
	regex_t filter;
	char filter_text[128];
	bool paused;
	/* snapshots: the interval's two ends, the reset (may be one of them) */
	struct kvmexit_snapshot *prev, *cur, *base;
	uint64_t start_ns;		/* the first snapshot's stamp */
	uint64_t stop_ns;		/* -d: end at this source time; 0: never */
	uint64_t types_prev[KVMEXIT_EV__MAX];
	uint64_t types_cur[KVMEXIT_EV__MAX], types_base[KVMEXIT_EV__MAX];
	uint64_t lost_prev, lost_cur, lost_base;
	uint64_t intervals;		/* snapshots taken after the start */
	bool ended;			/* the source has nothing more */
	/* what is shown */
	struct kvmexit_delta *delta;
	struct top_row *rows;
	size_t nr_rows;
	struct top_vm *vms;
	size_t nr_vms, alloc_vms;
	/* kvmexit's own CPU use over the last interval, percent of one CPU */
	double cpu_pct;
	uint64_t cpu_prev_ns, wall_prev_ns;
	char errmsg[512];
};

/* top-model.c */
int top_init(struct top *t, struct source *src, uint64_t interval_ns);
void top_release(struct top *t);
/* The first snapshot (after source_start()). */
int top_begin(struct top *t);
/* A snapshot now: the interval ends; rows are rebuilt. */
int top_tick(struct top *t);
/* Rebuilds the rows after a setting changed. */
int top_refresh(struct top *t);
/* Totals count from now on ("r"). */
int top_reset(struct top *t);
/* Sets the reason filter (extended regex, case-insensitive); "" clears it. */
int top_set_filter(struct top *t, const char *text, char *err, size_t len);
/* Drills into a VM by pid or name ("" or NULL: back to all). */
int top_set_vm(struct top *t, const char *what, char *err, size_t len);
/* Names of views and sorts, for headers and options. */
extern const char *const top_view_names[TOP_VIEW__MAX];
extern const char *const top_sort_names[TOP_SORT__MAX];
/* The VM of pid, or NULL. */
const struct top_vm *top_vm_find(const struct top *t, int32_t pid);
/* Seconds of the interval shown, and since the start or reset. */
double top_interval_s(const struct top *t);
double top_total_s(const struct top *t);
/* The summary of what is shown. */
const struct kvmexit_delta_summary *top_summary(const struct top *t);
/* The name of a kvm event type ("kvm_pio"). */
const char *top_event_name(enum kvmexit_event_type type);
/* Header facts: "host, GenuineIntel, kvm_intel ept=Y, Linux 6.1". */
void top_host_line(const struct top *t, char *buf, size_t size);

/* top-log.c: outputs without a terminal, and the table the screen shows. */
enum top_format { TOP_TEXT, TOP_CSV, TOP_JSON };
/* The table of rows with a Total line, as text lines (malloc'd, *nr lines). */
char *top_table_text(const struct top *t, size_t *len);
/* The time of the shown interval's end, for log lines. */
void top_timestamp(const struct top *t, char *buf, size_t size);
void top_print_text(const struct top *t, FILE *f);
void top_print_csv_header(FILE *f);
void top_print_csv(const struct top *t, FILE *f);
void top_print_json(const struct top *t, FILE *f);

/* top-screen.c: the full-screen view; returns the exit status. */
int top_screen_run(struct top *t, volatile int *quit);

#endif
