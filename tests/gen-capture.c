// SPDX-License-Identifier: GPL-2.0-only
/*
 * gen-capture: writes a synthetic, deterministic capture of kvm_exit +
 * kvm_entry pairs with the library's writer, for tests and benchmarks.
 *
 *   gen-capture --isa vmx|svm --layout 6.1|6.18 --pairs N [options] -o FILE
 *
 * Pair i (from 0) is an exit of vCPU v = i % vcpus at time
 * start + i * step and its entry lat ns later, where the reason and lat
 * come from the pattern: a list CODE:WEIGHT:LAT_NS,... expanded into a
 * sequence in which each code repeats WEIGHT times; pair i takes element
 * i % length.  So with the pattern "48:3:1500,12:1:3000", 1000 pairs have
 * 750 EPT_VIOLATION exits of 1500 ns and 250 HLT exits of 3000 ns.
 * Events go out in time order, with a FINISHED_ROUND every --round pairs;
 * with --per-cpu, each round's events go out CPU by CPU (in time order per
 * CPU), as perf writes its per-CPU buffers, so a reader must sort them.
 * The vCPU thread of v is tid 5000 + v in pid 4000 + v % pids, on CPU
 * v % cpus.  --count writes a counts-only capture of the same exits instead.
 * The recording window (the metadata's start and end) runs from start to
 * the last entry, or with --window NS from start for NS ns: the same exits
 * recorded in a longer run.
 * --names VM,VM,... names the processes as kvmexit record does: process k
 * (pid 4000 + k) gets the k-th VM name in the metadata (none when empty),
 * and COMM records before the first event name it "qemu-system-x86" and
 * each vCPU thread "CPU v/KVM".
 * --accesses (layout 6.18) adds kvm_pio, kvm_mmio and kvm_msr events inside
 * pairs, at exit + lat / 4: after an I/O exit (VMX IO_INSTRUCTION, SVM io)
 * a kvm_pio of port 0x70 + i % 3, out when i is even; after an MSR exit
 * (VMX MSR_WRITE, SVM msr) a kvm_msr of 0x6e0 (i % 4 < 2) or 0x830, a
 * write when i is even; after a paging exit (EPT_VIOLATION, npf) a kvm_mmio
 * of gpa 0xfee00000 + 0x300 * (i % 2): a write when i % 4 < 2, else a read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmexit.h"
#include "internal.h"

#ifndef TESTS_DATADIR
#define TESTS_DATADIR "tests/data"
#endif

#define MAX_PATTERN 64
#define MAX_VCPUS 1024

struct pat {
	uint32_t code, weight;
	uint64_t lat;
};

struct opts {
	enum kvmexit_isa isa;
	const char *layout, *out, *datadir, *pattern, *names;
	const char *hostname, *osrelease, *cpu_desc;	/* NULL: gen-capture's own */
	uint64_t pairs, step, start, round, lost_every, window;
	uint32_t vcpus, pids, cpus;
	bool force, count, per_cpu, accesses;
};

/* Where events go: the writer, or with --per-cpu a round's buffer first. */
struct sink {
	struct kvmexit_writer *w;
	const struct opts *o;
	struct kvmexit_event *buf;
	size_t nr, alloc;
};

static int sink_write(struct sink *s, const struct kvmexit_event *ev)
{
	if (!s->o->per_cpu)
		return kvmexit_writer_write_event(s->w, ev);
	if (s->nr == s->alloc) {
		size_t n = s->alloc ? 2 * s->alloc : 1024;
		struct kvmexit_event *b = realloc(s->buf, n * sizeof(*b));

		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->alloc = n;
	}
	s->buf[s->nr++] = *ev;
	return 0;
}

/* Writes the buffered round CPU by CPU. */
static int sink_flush(struct sink *s)
{
	int err = 0;

	for (uint32_t c = 0; c < s->o->cpus && !err; c++)
		for (size_t i = 0; i < s->nr && !err; i++)
			if (s->buf[i].cpu == c)
				err = kvmexit_writer_write_event(s->w, &s->buf[i]);
	s->nr = 0;
	return err;
}

static int sink_round(struct sink *s)
{
	int err = sink_flush(s);

	return err ? err : kvmexit_writer_finish_round(s->w);
}

static const char vmx_pattern[] = "48:40:1500,1:20:800,30:15:2500,32:10:1200,12:10:3500,10:5:900";
static const char svm_pattern[] = "0x400:40:1500,0x60:20:800,0x7b:15:2500,0x7c:10:1200,"
				  "0x78:10:3500,0x72:5:900";

static void usage(FILE *f)
{
	fprintf(f, "usage: gen-capture --isa vmx|svm --layout 6.1|6.18 --pairs N [-f] -o FILE\n"
		   "       [--pattern CODE:WEIGHT:LAT_NS,...] [--vcpus N] [--pids N] [--cpus N]\n"
		   "       [--step NS] [--start NS] [--round PAIRS] [--lost-every PAIRS]\n"
		   "       [--per-cpu] [--count] [--window NS] [--names VM,VM,...] [--accesses]\n"
		   "       [--data-dir DIR] [--hostname TEXT] [--osrelease TEXT] [--cpu-desc TEXT]\n");
}

static int parse_pattern(const char *text, struct pat *pat, size_t *nr)
{
	char *copy = strdup(text), *save = NULL, *tok;
	int err = 0;

	*nr = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		struct pat p;

		if (*nr == MAX_PATTERN) {
			err = -E2BIG;
			break;
		}
		p.code = strtoul(tok, &end, 0);
		if (*end != ':')
			goto bad;
		p.weight = strtoul(end + 1, &end, 0);
		if (*end != ':' || !p.weight)
			goto bad;
		p.lat = strtoull(end + 1, &end, 0);
		if (*end)
			goto bad;
		pat[(*nr)++] = p;
		continue;
bad:
		fprintf(stderr, "gen-capture: bad pattern element \"%s\": want CODE:WEIGHT:LAT_NS\n",
			tok);
		err = -EINVAL;
		break;
	}
	free(copy);
	return err ? err : *nr ? 0 : -EINVAL;
}

static char *read_text(const char *dir, const char *name, const char *layout)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s.format.%s.txt", dir, name, layout);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "gen-capture: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void fill_meta(const struct opts *o, int argc, char **argv, struct kvmexit_meta *m)
{
	bool vmx = o->isa == KVMEXIT_ISA_VMX;
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->hostname, sizeof(m->hostname), "gen-capture");
	snprintf(m->osrelease, sizeof(m->osrelease), "%s.0-gen", o->layout);
	snprintf(m->arch, sizeof(m->arch), "x86_64");
	snprintf(m->cpuid, sizeof(m->cpuid), vmx ? "GenuineIntel,6,85,7" : "AuthenticAMD,25,1,1");
	snprintf(m->cpu_desc, sizeof(m->cpu_desc), vmx ? "Intel(R) Xeon(R) Gold 6230" :
		 "AMD EPYC 7713 64-Core Processor");
	snprintf(m->vendor, sizeof(m->vendor), vmx ? "GenuineIntel" : "AuthenticAMD");
	snprintf(m->kvm_module, sizeof(m->kvm_module), vmx ? "kvm_intel" : "kvm_amd");
	if (o->hostname)
		snprintf(m->hostname, sizeof(m->hostname), "%s", o->hostname);
	if (o->osrelease)
		snprintf(m->osrelease, sizeof(m->osrelease), "%s", o->osrelease);
	if (o->cpu_desc)
		snprintf(m->cpu_desc, sizeof(m->cpu_desc), "%s", o->cpu_desc);
	m->isa = o->isa;
	m->nr_cpus = o->cpus;
	for (int i = 0; i < argc && len < sizeof(m->cmdline); i++)
		len += snprintf(m->cmdline + len, sizeof(m->cmdline) - len, "%s%s",
				i ? " " : "", argv[i]);
	m->start_ns = o->start;
	m->start_epoch_ns = 1700000000000000000ULL;
	if (vmx) {
		kx_meta_set_param(m, "ept", "Y");
		kx_meta_set_param(m, "enable_unrestricted_guest", "Y");
		kx_meta_set_param(m, "nested", "N");
	} else {
		kx_meta_set_param(m, "npt", "1");
		kx_meta_set_param(m, "nested", "0");
		kx_meta_set_param(m, "avic", "0");
	}
}

/* --names: the k-th VM name of the list into the meta (empty: none). */
static void meta_names(const struct opts *o, struct kvmexit_meta *m)
{
	char *copy = strdup(o->names), *p = copy;

	for (uint32_t k = 0; p && k < o->pids; k++) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p)
			kx_meta_set_vm(m, (int32_t)(4000 + k), p);
		p = comma ? comma + 1 : NULL;
	}
	free(copy);
}

/* --names: COMM records of every process and vCPU thread, at the start. */
static int write_comms(struct kvmexit_writer *w, const struct opts *o)
{
	struct kx_rec_comm_ctx ctx = { .time = o->start ? o->start - 1 : 0, .id = 1 };
	char comm[32];
	int err = 0;

	for (uint32_t k = 0; k < o->pids && !err; k++)
		err = kx_rec_write_comm(w, &ctx, (int32_t)(4000 + k), (int32_t)(4000 + k),
					"qemu-system-x86");
	for (uint32_t v = 0; v < o->vcpus && !err; v++) {
		snprintf(comm, sizeof(comm), "CPU %u/KVM", v);
		err = kx_rec_write_comm(w, &ctx, (int32_t)(4000 + v % o->pids),
					(int32_t)(5000 + v), comm);
	}
	return err;
}

static void make_exit(const struct opts *o, uint64_t i, const struct pat *p,
		      struct kvmexit_event *ev)
{
	uint32_t v = i % o->vcpus;

	memset(ev, 0, sizeof(*ev));
	ev->type = KVMEXIT_EV_EXIT;
	ev->time = o->start + i * o->step;
	ev->pid = 4000 + v % o->pids;
	ev->tid = 5000 + v;
	ev->cpu = v % o->cpus;
	ev->vcpu = v;
	ev->exit.isa = o->isa;
	ev->exit.exit_reason = p->code;
	ev->exit.guest_rip = 0xffffffff81000000ULL + p->code * 0x100 + (i % 7) * 0x10;
	ev->exit.info1 = i & 0xfff;
	ev->exit.info2 = (i % 16) << 12;
}

/* --accesses: the access event of pair i, if its exit has one. */
static int write_access(struct sink *w, const struct opts *o, uint64_t i, const struct pat *p,
			const struct kvmexit_event *exit)
{
	bool vmx = o->isa == KVMEXIT_ISA_VMX;
	struct kvmexit_event ev = *exit;

	ev.time = exit->time + p->lat / 4;
	if (p->code == (vmx ? 30u : 0x7bu)) {
		ev.type = KVMEXIT_EV_PIO;
		ev.pio = (typeof(ev.pio)){ .rw = i % 2 == 0, .port = 0x70 + (uint32_t)(i % 3),
					   .size = 1, .count = 1 };
	} else if (p->code == (vmx ? 32u : 0x7cu)) {
		ev.type = KVMEXIT_EV_MSR;
		ev.msr = (typeof(ev.msr)){ .write = i % 2 == 0, .ecx = i % 4 < 2 ? 0x6e0 : 0x830 };
	} else if (p->code == (vmx ? 48u : 0x400u)) {
		ev.type = KVMEXIT_EV_MMIO;
		ev.mmio = (typeof(ev.mmio)){ .type = i % 4 < 2 ? 2 : 1, .len = 4,
					     .gpa = 0xfee00000 + 0x300 * (i % 2) };
	} else {
		return 0;
	}
	return sink_write(w, &ev);
}

struct pending {
	bool used;
	struct kvmexit_event ev;
};

/* Writes pending entries older than @before, oldest first. */
static int flush_entries(struct sink *w, struct pending *pend, uint32_t n,
			 uint64_t before)
{
	for (;;) {
		struct pending *min = NULL;
		int err;

		for (uint32_t v = 0; v < n; v++)
			if (pend[v].used && pend[v].ev.time < before &&
			    (!min || pend[v].ev.time < min->ev.time))
				min = &pend[v];
		if (!min)
			return 0;
		err = sink_write(w, &min->ev);
		if (err)
			return err;
		min->used = false;
	}
}

static int gen_pairs(struct kvmexit_writer *wr, const struct opts *o, const uint32_t *seq,
		     size_t seq_len, const struct pat *pat)
{
	struct sink sink = { .w = wr, .o = o }, *w = &sink;
	struct pending *pend = calloc(o->vcpus, sizeof(*pend));
	struct kvmexit_event ev;
	int err = 0;

	if (!pend)
		return -ENOMEM;
	for (uint64_t i = 0; i < o->pairs && !err; i++) {
		const struct pat *p = &pat[seq[i % seq_len]];
		uint32_t v = i % o->vcpus;

		make_exit(o, i, p, &ev);
		err = flush_entries(w, pend, o->vcpus, ev.time);
		if (!err)
			err = sink_write(w, &ev);
		if (!err && o->accesses)
			err = write_access(w, o, i, p, &ev);
		pend[v].used = true;
		pend[v].ev = (struct kvmexit_event){
			.type = KVMEXIT_EV_ENTRY, .time = ev.time + p->lat, .pid = ev.pid,
			.tid = ev.tid, .cpu = ev.cpu, .vcpu = v,
			.entry.rip = ev.exit.guest_rip,
		};
		if (!err && o->lost_every && (i + 1) % o->lost_every == 0) {
			struct kvmexit_event lost = {
				.type = KVMEXIT_EV_LOST, .time = ev.time, .pid = ev.pid,
				.tid = ev.tid, .cpu = ev.cpu, .lost.count = 3,
			};

			err = sink_write(w, &lost);
		}
		if (!err && (i + 1) % o->round == 0) {
			/* Entries due before the next exit belong to this round. */
			err = flush_entries(w, pend, o->vcpus, ev.time + o->step);
			if (!err)
				err = sink_round(w);
		}
	}
	if (!err)
		err = flush_entries(w, pend, o->vcpus, UINT64_MAX);
	if (!err)
		err = sink_flush(w);
	free(sink.buf);
	free(pend);
	return err;
}

static int gen_counts(struct kvmexit_writer *w, const struct opts *o, const uint32_t *seq,
		      size_t seq_len, const struct pat *pat, size_t nr_pat)
{
	struct kvmexit_count *c = calloc(nr_pat, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	for (size_t k = 0; k < nr_pat; k++)
		c[k] = (struct kvmexit_count){ .isa = o->isa, .exit_reason = pat[k].code, .cpu = -1 };
	/* Whole sequences, then the first pairs % seq_len of one more. */
	for (size_t j = 0; j < seq_len; j++)
		c[seq[j]].count += o->pairs / seq_len + (j < o->pairs % seq_len);
	err = kvmexit_writer_set_counts(w, c, nr_pat);
	free(c);
	return err;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "isa", required_argument, NULL, 'i' },
		{ "layout", required_argument, NULL, 'l' },
		{ "pairs", required_argument, NULL, 'n' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "pids", required_argument, NULL, 'P' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "step", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 'S' },
		{ "round", required_argument, NULL, 'r' },
		{ "lost-every", required_argument, NULL, 'L' },
		{ "window", required_argument, NULL, 'W' },
		{ "count", no_argument, NULL, 'C' },
		{ "per-cpu", no_argument, NULL, 'U' },
		{ "names", required_argument, NULL, 'N' },
		{ "accesses", no_argument, NULL, 'A' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "osrelease", required_argument, NULL, 'R' },
		{ "cpu-desc", required_argument, NULL, 'D' },
		{ 0 },
	};
	int c;

	*o = (struct opts){
		.layout = "6.18", .datadir = TESTS_DATADIR, .pairs = 1000, .step = 1000,
		.start = 1000000000ULL, .round = 10000, .vcpus = 4, .pids = 1, .cpus = 4,
	};
	while ((c = getopt_long(argc, argv, "fo:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->isa = !strcmp(optarg, "vmx") ? KVMEXIT_ISA_VMX :
				 !strcmp(optarg, "svm") ? KVMEXIT_ISA_SVM : KVMEXIT_ISA_UNKNOWN;
			break;
		case 'l': o->layout = optarg; break;
		case 'n': o->pairs = strtoull(optarg, NULL, 0); break;
		case 'p': o->pattern = optarg; break;
		case 'v': o->vcpus = strtoul(optarg, NULL, 0); break;
		case 'P': o->pids = strtoul(optarg, NULL, 0); break;
		case 'c': o->cpus = strtoul(optarg, NULL, 0); break;
		case 's': o->step = strtoull(optarg, NULL, 0); break;
		case 'S': o->start = strtoull(optarg, NULL, 0); break;
		case 'r': o->round = strtoull(optarg, NULL, 0); break;
		case 'L': o->lost_every = strtoull(optarg, NULL, 0); break;
		case 'W': o->window = strtoull(optarg, NULL, 0); break;
		case 'C': o->count = true; break;
		case 'U': o->per_cpu = true; break;
		case 'N': o->names = optarg; break;
		case 'A': o->accesses = true; break;
		case 'd': o->datadir = optarg; break;
		case 'f': o->force = true; break;
		case 'o': o->out = optarg; break;
		case 'H': o->hostname = optarg; break;
		case 'R': o->osrelease = optarg; break;
		case 'D': o->cpu_desc = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!o->isa || !o->out || optind != argc || !o->vcpus || o->vcpus > MAX_VCPUS ||
	    !o->pids || !o->cpus || !o->round || !o->step ||
	    (strcmp(o->layout, "6.1") && strcmp(o->layout, "6.18"))) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->pattern)
		o->pattern = o->isa == KVMEXIT_ISA_VMX ? vmx_pattern : svm_pattern;
	return 0;
}

int main(int argc, char **argv)
{
	struct kvmexit_writer_opts wo = { .sz = sizeof(wo) };
	struct kvmexit_writer *w = NULL;
	struct kvmexit_meta meta;
	struct pat pat[MAX_PATTERN];
	uint32_t *seq = NULL;
	size_t nr_pat, seq_len = 0;
	char *fexit = NULL, *fentry = NULL, err_text[512];
	struct opts o;
	int err;

	if (parse_args(argc, argv, &o) || parse_pattern(o.pattern, pat, &nr_pat))
		return 2;
	for (size_t k = 0; k < nr_pat; k++) {
		if (pat[k].lat >= (uint64_t)o.vcpus * o.step) {
			fprintf(stderr, "gen-capture: latency %" PRIu64 " ns of code 0x%x must be "
				"below vcpus * step (%" PRIu64 " ns): raise --step or --vcpus\n",
				pat[k].lat, pat[k].code, (uint64_t)o.vcpus * o.step);
			return 2;
		}
		seq_len += pat[k].weight;
	}
	seq = malloc(seq_len * sizeof(*seq));
	fexit = read_text(o.datadir, "kvm_exit", o.layout);
	fentry = read_text(o.datadir, "kvm_entry", o.layout);
	err = -ENOMEM;
	if (!seq || !fexit || !fentry)
		goto out;
	seq_len = 0;
	for (size_t k = 0; k < nr_pat; k++)
		for (uint32_t j = 0; j < pat[k].weight; j++)
			seq[seq_len++] = k;

	fill_meta(&o, argc, argv, &meta);
	if (o.names)
		meta_names(&o, &meta);
	wo.force = o.force;
	wo.meta = &meta;
	err = kvmexit_writer_open(o.out, &wo, &w, err_text, sizeof(err_text));
	if (err) {
		fprintf(stderr, "gen-capture: %s\n", err_text);
		goto out;
	}
	err = kvmexit_writer_add_tracepoint(w, "kvm", fexit);
	if (err >= 0)
		err = kvmexit_writer_add_tracepoint(w, "kvm", fentry);
	for (int k = 0; k < 3 && err >= 0 && o.accesses; k++) {
		static const char *const names[] = { "kvm_pio", "kvm_mmio", "kvm_msr" };
		char *text = read_text(o.datadir, names[k], o.layout);

		err = text ? kvmexit_writer_add_tracepoint(w, "kvm", text) : -ENOENT;
		free(text);
	}
	if (err >= 0 && o.names && !o.count)
		err = write_comms(w, &o);
	if (err >= 0)
		err = o.count ? gen_counts(w, &o, seq, seq_len, pat, nr_pat) :
				gen_pairs(w, &o, seq, seq_len, pat);
	meta.end_ns = o.start;
	for (uint64_t i = o.pairs > o.vcpus ? o.pairs - o.vcpus : 0; i < o.pairs; i++) {
		uint64_t t = o.start + i * o.step + pat[seq[i % seq_len]].lat;

		meta.end_ns = t > meta.end_ns ? t : meta.end_ns;
	}
	if (o.window)
		meta.end_ns = o.start + o.window;
	meta.lost = o.lost_every ? o.pairs / o.lost_every * 3 : 0;
	meta.counts_only = o.count;
	if (err >= 0)
		kvmexit_writer_set_meta(w, &meta);
	if (err < 0)
		fprintf(stderr, "gen-capture: %s\n", kvmexit_writer_errmsg(w));
	if (kvmexit_writer_close(w, err_text, sizeof(err_text)) && err >= 0) {
		fprintf(stderr, "gen-capture: %s\n", err_text);
		err = -1;
	}
out:
	free(seq);
	free(fexit);
	free(fentry);
	return err < 0 ? 1 : 0;
}
