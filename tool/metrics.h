/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exporter's metrics: which series a profile becomes (per VM and reason
 * counters, per reason histograms, lost events, own CPU, host info), the
 * series limit, gone VMs, and the two text expositions (Prometheus 0.0.4
 * and OpenMetrics 1.0).  No I/O: kvmexit serve feeds it and serves the pages.
 */
#ifndef KVMEXIT_TOOL_METRICS_H
#define KVMEXIT_TOOL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmexit.h"

#define METRICS_DEFAULT_MAX_SERIES 10000
#define METRICS_DEFAULT_GRACE_NS (300ull * 1000000000ull)

struct metrics_opts {
	bool per_vcpu;			/* exits counter gets a vcpu label */
	bool histogram_per_vm;		/* histograms per VM as well as per reason */
	size_t max_series;		/* 0: METRICS_DEFAULT_MAX_SERIES */
	uint64_t grace_ns;		/* a gone VM's series stay this long */
	unsigned int per_octave;	/* histogram bounds per power of two; 0: 2 */
	unsigned int lo_shift, hi_shift; /* bounds from 2^lo to 2^hi ns; 0: 7, 26 */
	const char *source;		/* "sampled", "count", "replay" */
	const char *version;
};

/* Whether a VMM process still runs (live sources); NULL: never asked. */
typedef bool (*metrics_alive_fn)(int32_t pid, void *arg);
/* A VM's name (QEMU's -name...) into buf: 0, or negative when unknown. */
typedef int (*metrics_name_fn)(int32_t pid, char *buf, size_t size, void *arg);
/*
 * Retires a gone VM's process in the profile (source_retire()): >= 0 once
 * done, negative when it cannot be (then the VM stays, gone, and is asked
 * again at the next update).
 */
typedef int (*metrics_retire_fn)(int32_t pid, void *arg);

struct metrics_input {
	const struct kvmexit_snapshot *snap;	/* of everything since the start */
	const struct kvmexit_meta *meta;	/* host facts; NULL: none */
	uint64_t now_ns;		/* the source's clock: grace times run on it */
	double cpu_user, cpu_system;	/* the exporter's own CPU seconds */
	double timestamp;		/* wall clock of this update, seconds */
	bool running;			/* the source still runs (replay: not yet read) */
	double render_seconds;		/* what the previous update took */
	metrics_alive_fn alive;		/* NULL: VMs are never gone */
	metrics_name_fn name;		/* NULL: no vm label; asked once per VM */
	void *alive_arg;		/* for the three */
	metrics_retire_fn retire;	/* NULL: gone VMs are kept (a replay is history) */
	size_t cells;			/* the profile's cells (kvmexit_profile_nr_cells()) */
};

enum metrics_format {
	METRICS_TEXT = 0,		/* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS,		/* application/openmetrics-text; version=1.0.0 */
};

struct metrics;

int metrics_new(const struct metrics_opts *opts, struct metrics **out);
void metrics_free(struct metrics *m);

/*
 * Renders both pages from a snapshot, aside: 0, or -ENOMEM (then publish
 * nothing).  metrics_publish() makes them the pages scrapes read: a swap,
 * so the lock a server holds around it and around its copies is short.
 */
int metrics_update(struct metrics *m, const struct metrics_input *in);
void metrics_publish(struct metrics *m);

/* The last published page; valid until the next metrics_publish(). */
const char *metrics_page(const struct metrics *m, enum metrics_format f, size_t *len);
const char *metrics_content_type(enum metrics_format f);

/* The format an Accept header asks for (OpenMetrics when preferred over text). */
enum metrics_format metrics_negotiate(const char *accept);

struct metrics_state {
	size_t series;			/* samples on the last page */
	size_t vms;			/* VMs with their own series */
	size_t vms_folded;		/* VMs beyond the series limit, counted as pid="other" */
	size_t vms_gone;		/* VMs whose series were dropped, not yet retired */
	uint64_t vms_retired;		/* gone VMs retired from the profile, so far */
};
void metrics_state(const struct metrics *m, struct metrics_state *st);

/* Writes a label value (or any text) as both formats need: escaped, printable UTF-8. */
size_t metrics_escape(const char *in, char *out, size_t size);

#endif
