// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source: loads lib/bpf/kvmexit.bpf.c through its skeleton (made
 * at build time by bpftool), attaches it to the kvm tracepoints, and reads
 * its per-CPU maps into cells (lib/internal.h, struct kx_cell_rec): counts,
 * exit-handling times and histogram buckets per process, vCPU, reason and
 * detail, summed over CPUs.
 *
 * libbpf prints through one process-wide callback; the library never
 * prints, so while it opens and loads the program it sets a callback that
 * keeps the last message (for our error text) and puts the caller's back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifndef HAVE_BPF

int kx_bpf_open(const struct kx_bpf_opts *opts, struct kx_bpf **out, char *errmsg)
{
	*out = NULL;
	return kx_error(errmsg, -EOPNOTSUPP, "--bpf: this kvmexit was built without the BPF "
			"source (configure found no clang, bpftool, libbpf or kernel BTF): record "
			"without --bpf (sampled), or with --count");
}

int kx_bpf_attach(struct kx_bpf *b, char *errmsg)
{
	return -EOPNOTSUPP;
}

void kx_bpf_detach(struct kx_bpf *b)
{
}

int kx_bpf_read(struct kx_bpf *b, struct kx_counts *out, struct kx_bpf_stats *stats,
		char *errmsg)
{
	return -EOPNOTSUPP;
}

void kx_bpf_free(struct kx_bpf *b)
{
}

#else

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/kvmexit-bpf.h"
#include "kvmexit.skel.h"

_Static_assert(KX_BPF_HIST_SUB_BITS == KX_HIST_SUB_BITS &&
	       KX_BPF_HIST_MAX_SHIFT == KX_HIST_MAX_SHIFT &&
	       KX_BPF_HIST_BUCKETS == KX_HIST_BUCKETS,
	       "the BPF histogram must be lib/histogram.c's");

struct kx_bpf {
	struct kx_bpf_skel *skel;
	int nr_cpus;
	bool exit_raw;		/* kvm_exit through kx_exit_svm, not its record */
};

/* libbpf's last warning or error while we load, for the message. */
static __thread char libbpf_msg[256];

static int keep_libbpf_msg(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (n)
		snprintf(libbpf_msg, sizeof(libbpf_msg), "%s", line);
	return 0;
}

/* "none", "integrity" or "confidentiality", or "" when not known. */
static void lockdown_mode(char *buf, size_t size)
{
	char text[128] = "", *l, *r;
	int fd = open("/sys/kernel/security/lockdown", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[0] = '\0';
	if (n <= 0)
		return;
	text[n] = '\0';
	l = strchr(text, '[');
	r = l ? strchr(l, ']') : NULL;
	if (r)
		snprintf(buf, size, "%.*s", (int)(r - l - 1), l + 1);
}

static const char *const instead = "record without --bpf (sampled) or with --count";

static int load_error(int err, char *errmsg)
{
	char mode[32];

	if (err == -EPERM) {
		lockdown_mode(mode, sizeof(mode));
		if (*mode && strcmp(mode, "none"))
			return kx_error(errmsg, err, "--bpf: loading the BPF program: permission "
					"denied; the kernel is locked down (%s), which forbids it: %s",
					mode, instead);
		return kx_error(errmsg, err, "--bpf: loading the BPF program: permission denied: "
				"run as root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), or %s",
				instead);
	}
	if (strstr(libbpf_msg, "CO-RE") || strstr(libbpf_msg, "BTF"))
		return kx_error(errmsg, err, "--bpf: this kernel's BTF does not describe kvm's "
				"trace events (%s): is kvm_intel or kvm_amd loaded, and kvm.ko's BTF "
				"there (CONFIG_DEBUG_INFO_BTF_MODULES)?  Else %s", libbpf_msg, instead);
	if (err == -EACCES)
		return kx_error(errmsg, err, "--bpf: this kernel's BPF verifier rejected the "
				"program%s%s: %s", *libbpf_msg ? "; libbpf: " : "", libbpf_msg,
				instead);
	return kx_error(errmsg, err, "--bpf: loading the BPF program: %s%s%s: %s",
			strerror(-err), *libbpf_msg ? "; libbpf: " : "", libbpf_msg, instead);
}

/* The detail masks of every reason slot, from lib/reason.c. */
static void set_masks(struct kx_bpf_skel *skel)
{
	for (uint32_t isa = KVMEXIT_ISA_VMX; isa <= KVMEXIT_ISA_SVM; isa++) {
		size_t nr;
		const struct kvmexit_reason *t = kvmexit_reason_table(isa, &nr);

		for (size_t i = 0; i < nr; i++) {
			uint32_t slot = kx_bpf_slot(isa, t[i].code);
			uint64_t info1;
			uint32_t intr;

			if (slot >= KX_BPF_SLOTS)
				continue;
			kx_exit_detail_masks(isa, t[i].code, &info1, &intr);
			skel->rodata->masks[slot].info1 = info1;
			skel->rodata->masks[slot].intr_info = intr;
		}
	}
}

/*
 * The kvm_exit program: AMD's exits are read raw from the VMCB (cheaper:
 * no record built), else from the trace event's record (Intel, and AMD
 * when the raw program cannot load, e.g. without kvm-amd.ko's BTF).
 * KVMEXIT_BPF_EXIT=record takes the record path on AMD too (to compare
 * the two); KVMEXIT_BPF_EXIT=vmcb takes the raw path or fails (tests).
 */
static const char *exit_path(void)
{
	const char *e = getenv("KVMEXIT_BPF_EXIT");

	return e && (!strcmp(e, "record") || !strcmp(e, "vmcb")) ? e : "";
}

static int open_and_load(const struct kx_bpf_opts *o, struct kx_bpf *b, bool raw, char *errmsg)
{
	int err;

	b->skel = kx_bpf_skel__open();
	if (!b->skel)
		return kx_error(errmsg, -errno ? -errno : -ENOMEM, "--bpf: opening the BPF "
				"program: %s%s%s", strerror(errno), *libbpf_msg ? "; libbpf: " : "",
				libbpf_msg);
	b->skel->rodata->filter_tgid = o->nr_tgids > 0;
	b->skel->rodata->default_isa = o->isa;
	set_masks(b->skel);
	b->exit_raw = raw;
	bpf_program__set_autoload(raw ? b->skel->progs.kx_exit_record : b->skel->progs.kx_exit_svm,
				  false);
	bpf_program__set_autoattach(b->skel->progs.kx_flush, false);
	if (!o->pio)
		bpf_program__set_autoload(b->skel->progs.kx_pio, false);
	if (!o->nr_tgids)
		bpf_program__set_autoload(b->skel->progs.kx_fork, false);
	err = kx_bpf_skel__load(b->skel);
	if (err)
		return load_error(err < 0 ? err : -EINVAL, errmsg);
	for (size_t i = 0; i < o->nr_tgids; i++) {
		uint32_t tgid = (uint32_t)o->tgids[i];
		uint8_t one = 1;

		if (bpf_map__update_elem(b->skel->maps.targets, &tgid, sizeof(tgid), &one,
					 sizeof(one), BPF_ANY))
			return kx_error(errmsg, -errno, "--bpf: at most %d processes: %s",
					KX_BPF_MAX_TARGETS, strerror(errno));
	}
	return 0;
}

int kx_bpf_open(const struct kx_bpf_opts *o, struct kx_bpf **out, char *errmsg)
{
	libbpf_print_fn_t prev;
	struct kx_bpf *b;
	int err;

	*out = NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return kx_error(errmsg, -EOPNOTSUPP, "--bpf: this kernel has no BTF "
				"(/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF), which the BPF "
				"program needs to find the kvm trace events' fields: %s", instead);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->nr_cpus = libbpf_num_possible_cpus();
	if (b->nr_cpus <= 0) {
		free(b);
		return kx_error(errmsg, -EINVAL, "--bpf: cannot tell the number of possible CPUs");
	}
	libbpf_msg[0] = '\0';
	prev = libbpf_set_print(keep_libbpf_msg);
	/* 0: no such map type; an error (bpf() refused) is for the load to tell. */
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 0) {
		libbpf_set_print(prev);
		free(b);
		return kx_error(errmsg, -EOPNOTSUPP, "--bpf: this kernel has no BPF task storage "
				"(Linux 5.11 or later), where the program keeps each vCPU thread's "
				"pending exit: %s", instead);
	}
	if (!strcmp(exit_path(), "vmcb") && o->isa != KVMEXIT_ISA_SVM) {
		libbpf_set_print(prev);
		free(b);
		return kx_error(errmsg, -EINVAL, "--bpf: KVMEXIT_BPF_EXIT=vmcb: kvm_exit is read "
				"from the VMCB only on AMD (kvm_amd), and this host is not");
	}
	err = open_and_load(o, b, o->isa == KVMEXIT_ISA_SVM && strcmp(exit_path(), "record"),
			    errmsg);
	if (err && b->exit_raw && strcmp(exit_path(), "vmcb")) {
		/* e.g. no BTF for kvm-amd.ko: the record path needs only kvm's */
		kx_bpf_skel__destroy(b->skel);
		libbpf_msg[0] = '\0';
		err = open_and_load(o, b, false, errmsg);
	}
	libbpf_set_print(prev);
	if (err) {
		kx_bpf_free(b);
		return err;
	}
	*out = b;
	return 0;
}

int kx_bpf_attach(struct kx_bpf *b, char *errmsg)
{
	libbpf_print_fn_t prev;
	int err;

	libbpf_msg[0] = '\0';
	prev = libbpf_set_print(keep_libbpf_msg);
	err = kx_bpf_skel__attach(b->skel);
	libbpf_set_print(prev);
	if (err)
		return kx_error(errmsg, err < 0 ? err : -EINVAL, "--bpf: attaching to the kvm "
				"tracepoints: %s%s%s", strerror(err < 0 ? -err : EINVAL),
				*libbpf_msg ? "; libbpf: " : "", libbpf_msg);
	return 0;
}

/*
 * Counts the exits still pending (being handled) when counting stopped:
 * the kx_flush iterator visits every task once.  Best effort: if it
 * cannot run, those exits (at most one per vCPU) go uncounted.
 */
static void flush_pending(struct kx_bpf *b)
{
	struct bpf_link *link = bpf_program__attach_iter(b->skel->progs.kx_flush, NULL);
	char buf[64];
	int fd;

	if (!link)
		return;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
}

void kx_bpf_detach(struct kx_bpf *b)
{
	if (b && b->skel && b->skel->links.kx_entry) {
		kx_bpf_skel__detach(b->skel);
		flush_pending(b);
	}
}

/* A cell of the kernel, summed over CPUs, with its index among the cells read. */
struct kcell {
	struct kx_bpf_key key;
	struct kx_cell_rec rec;
};

struct kbucket {
	size_t cell;
	struct kx_bucket b;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kx_bpf_key));
}

static int key_cmp_pio(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kx_bpf_pio_key));
}

static int kbucket_cmp(const void *a, const void *b)
{
	const struct kbucket *x = a, *y = b;

	if (x->cell != y->cell)
		return x->cell < y->cell ? -1 : 1;
	return x->b.idx < y->b.idx ? -1 : x->b.idx > y->b.idx;
}

/* Every key of a map, in a new array of *nr. */
static int map_keys(const struct bpf_map *map, size_t ksize, void **keys, size_t *nr)
{
	size_t alloc = 64;
	char *k = malloc(alloc * ksize);
	int err = 0;

	*nr = 0;
	if (!k)
		return -ENOMEM;
	for (const void *prev = NULL;;) {
		if (*nr == alloc) {
			char *n = realloc(k, (alloc *= 2) * ksize);

			if (!n) {
				err = -ENOMEM;
				break;
			}
			k = n;
		}
		if (bpf_map__get_next_key(map, prev, k + *nr * ksize, ksize)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		prev = k + *nr * ksize;
		++*nr;
	}
	if (err) {
		free(k);
		return err;
	}
	*keys = k;
	return 0;
}

/* A cell's record made from its key: reason, detail, process, vCPU. */
static void cell_init(struct kcell *c, const struct kx_bpf_key *k)
{
	struct kx_cell_rec *r = &c->rec;
	struct kvmexit_exit x = {
		.isa = k->isa, .exit_reason = k->exit_reason,
		.info1 = k->info1, .intr_info = k->intr_info,
	};

	c->key = *k;
	r->isa = k->isa <= KVMEXIT_ISA_SVM ? (enum kvmexit_isa)k->isa : KVMEXIT_ISA_UNKNOWN;
	r->reason = r->isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(k->exit_reason) : k->exit_reason;
	r->detail = kvmexit_exit_detail(&x);
	r->pid = (int32_t)k->tgid;
	r->vcpu = k->vcpu == UINT32_MAX ? -1 : (int32_t)k->vcpu;
}

/*
 * The cells: every key of the "cells" map (untimed exits) and of the
 * buckets (timed ones), sorted, each once.
 */
static int make_cells(const struct kx_bpf_key *ck, size_t nc, const struct kx_bpf_hkey *bk,
		      size_t nb, struct kcell **out, size_t *nr)
{
	struct kx_bpf_key *all = malloc((nc + nb ? nc + nb : 1) * sizeof(*all));
	struct kcell *c;
	size_t n = 0;

	if (!all)
		return -ENOMEM;
	memcpy(all, ck, nc * sizeof(*ck));
	for (size_t i = 0; i < nb; i++)
		all[nc + i] = bk[i].cell;
	qsort(all, nc + nb, sizeof(*all), key_cmp);
	c = calloc(nc + nb ? nc + nb : 1, sizeof(*c));
	for (size_t i = 0; c && i < nc + nb; i++)
		if (!n || key_cmp(&all[i], &c[n - 1].key))
			cell_init(&c[n++], &all[i]);
	free(all);
	if (!c)
		return -ENOMEM;
	*out = c;
	*nr = n;
	return 0;
}

/* The untimed exits of the "cells" map into their cells' counts. */
static int add_untimed(struct kx_bpf *b, const struct kx_bpf_key *keys, size_t nr,
		       struct kcell *c, size_t nr_cells)
{
	const struct bpf_map *map = b->skel->maps.cells;
	uint64_t *v = calloc(b->nr_cpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		struct kcell *cell = bsearch(&keys[i], c, nr_cells, sizeof(*c), key_cmp);

		if (bpf_map__lookup_elem(map, &keys[i], sizeof(keys[i]), v,
					 b->nr_cpus * sizeof(*v), 0)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (int cpu = 0; cell && cpu < b->nr_cpus; cpu++)
			cell->rec.count += v[cpu];
	}
	free(v);
	return 0;
}

/*
 * The histogram buckets, each with the index of its cell in c; their
 * times make the cells' timed, total, min and max, and add to its count.
 */
static int add_buckets(struct kx_bpf *b, const struct kx_bpf_hkey *keys, size_t nr,
		       struct kcell *c, size_t nr_cells, struct kbucket **out, size_t *nr_out)
{
	const struct bpf_map *map = b->skel->maps.buckets;
	struct kx_bpf_times *v = calloc(b->nr_cpus, sizeof(*v));
	struct kbucket *kb = calloc(nr ? nr : 1, sizeof(*kb));
	size_t n = 0;

	if (!v || !kb) {
		free(v);
		free(kb);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr; i++) {
		struct kcell *cell = bsearch(&keys[i].cell, c, nr_cells, sizeof(*c), key_cmp);
		struct kx_cell_rec *r;
		uint64_t sum = 0;

		if (bpf_map__lookup_elem(map, &keys[i], sizeof(keys[i]), v,
					 b->nr_cpus * sizeof(*v), 0)) {
			int err = -errno;

			free(v);
			free(kb);
			return err;
		}
		if (!cell || keys[i].bucket >= KX_HIST_BUCKETS)
			continue;
		r = &cell->rec;
		for (int cpu = 0; cpu < b->nr_cpus; cpu++) {
			if (!v[cpu].count)
				continue;
			if (!r->timed || v[cpu].min < r->min)
				r->min = v[cpu].min;
			if (v[cpu].max > r->max)
				r->max = v[cpu].max;
			r->timed += v[cpu].count;
			r->total += v[cpu].total;
			sum += v[cpu].count;
		}
		if (!sum)
			continue;
		r->count += sum;
		kb[n].cell = (size_t)(cell - c);
		kb[n].b.idx = keys[i].bucket;
		kb[n].b.count = sum;
		n++;
	}
	free(v);
	qsort(kb, n, sizeof(*kb), kbucket_cmp);
	*out = kb;
	*nr_out = n;
	return 0;
}

static int read_pios(struct kx_bpf *b, struct kx_counts *out)
{
	const struct bpf_map *map = b->skel->maps.pios;
	uint64_t *v = calloc(b->nr_cpus, sizeof(*v));
	struct kx_bpf_pio_key *keys = NULL;
	size_t nr = 0;
	int err = v ? map_keys(map, sizeof(*keys), (void **)&keys, &nr) : -ENOMEM;

	if (!err)
		qsort(keys, nr, sizeof(*keys), key_cmp_pio);
	for (size_t i = 0; !err && i < nr; i++) {
		struct kx_pio_rec r = {
			.pid = (int32_t)keys[i].tgid, .rw = keys[i].rw ? 1 : 0,
			.port = keys[i].port & 0xffff, .size = keys[i].size <= 8 ? keys[i].size : 0,
		};

		if (bpf_map__lookup_elem(map, &keys[i], sizeof(keys[i]), v,
					 b->nr_cpus * sizeof(*v), 0)) {
			err = -errno;
			break;
		}
		for (int cpu = 0; cpu < b->nr_cpus; cpu++)
			r.count += v[cpu];
		if (r.count)
			err = kx_counts_add_pio(out, &r);
	}
	free(keys);
	free(v);
	return err;
}

static void read_stats(struct kx_bpf *b, struct kx_bpf_stats *st)
{
	uint64_t *v = calloc(b->nr_cpus, sizeof(*v)), sum[KX_BPF_ST__MAX] = { 0 };

	for (uint32_t i = 0; v && i < KX_BPF_ST__MAX; i++) {
		if (bpf_map__lookup_elem(b->skel->maps.stats, &i, sizeof(i), v,
					 b->nr_cpus * sizeof(*v), 0))
			continue;
		for (int cpu = 0; cpu < b->nr_cpus; cpu++)
			sum[i] += v[cpu];
	}
	free(v);
	*st = (struct kx_bpf_stats){
		.unpaired = sum[KX_BPF_ST_UNPAIRED], .full = sum[KX_BPF_ST_FULL],
		.pio = sum[KX_BPF_ST_PIO],
	};
}

int kx_bpf_read(struct kx_bpf *b, struct kx_counts *out, struct kx_bpf_stats *stats,
		char *errmsg)
{
	struct kx_bpf_key *ck = NULL;
	struct kx_bpf_hkey *bkeys = NULL;
	struct kcell *c = NULL;
	struct kbucket *kb = NULL;
	struct kx_bucket *bk = NULL;
	size_t nc = 0, nbk = 0, nr_cells = 0, nr_b = 0, j = 0;
	uint64_t exits = 0, entries = 0;
	int err = map_keys(b->skel->maps.cells, sizeof(*ck), (void **)&ck, &nc);

	if (!err)
		err = map_keys(b->skel->maps.buckets, sizeof(*bkeys), (void **)&bkeys, &nbk);
	if (!err)
		err = make_cells(ck, nc, bkeys, nbk, &c, &nr_cells);
	if (!err)
		err = add_untimed(b, ck, nc, c, nr_cells);
	if (!err)
		err = add_buckets(b, bkeys, nbk, c, nr_cells, &kb, &nr_b);
	if (!err && !(bk = malloc((nr_b ? nr_b : 1) * sizeof(*bk))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < nr_b; i++)
		bk[i] = kb[i].b;
	for (size_t i = 0; !err && i < nr_cells; i++) {
		size_t first = j;

		while (j < nr_b && kb[j].cell == i)
			j++;
		exits += c[i].rec.count;
		entries += c[i].rec.timed;
		if (c[i].rec.count)
			err = kx_counts_add_cell(out, &c[i].rec, bk + first, j - first);
	}
	if (!err)
		err = read_pios(b, out);
	if (!err && stats) {
		read_stats(b, stats);
		stats->exits = exits;
		stats->entries = entries;
	}
	free(ck);
	free(bkeys);
	free(bk);
	free(c);
	free(kb);
	if (err)
		return kx_error(errmsg, err, "--bpf: reading the BPF maps: %s", strerror(-err));
	return 0;
}

void kx_bpf_free(struct kx_bpf *b)
{
	if (!b)
		return;
	kx_bpf_skel__destroy(b->skel);
	free(b);
}

#endif /* HAVE_BPF */

/*
 * Forgets a process the caller retired (kvmexit_profile_retire_pid()): the
 * entries of tgid in the maps keyed by process, so that the next read
 * does not bring it back and the maps do not fill up with gone VMs.  By
 * keys only (every such key begins with the tgid), whatever the values
 * hold: the keys are gathered first, as deleting while walking a hash map
 * would restart the walk.  Returns the entries deleted or a negative errno.
 */
int kx_bpf_forget_tgid(struct kx_bpf *b, uint32_t tgid)
{
#ifdef HAVE_BPF
	_Static_assert(offsetof(struct kx_bpf_key, tgid) == 0 &&
		       offsetof(struct kx_bpf_hkey, cell.tgid) == 0 &&
		       offsetof(struct kx_bpf_pio_key, tgid) == 0, "keys begin with the tgid");
	const struct bpf_map *maps[] = {
		b->skel->maps.cells, b->skel->maps.buckets, b->skel->maps.pios,
		b->skel->maps.targets,
	};
	int n = 0;

	for (size_t m = 0; m < sizeof(maps) / sizeof(maps[0]); m++) {
		size_t ksize = bpf_map__key_size(maps[m]), nr = 0, k = 0;
		char *keys = NULL;
		int err = map_keys(maps[m], ksize, (void **)&keys, &nr);

		if (err)
			return err;
		for (size_t i = 0; i < nr; i++) {
			uint32_t t;

			memcpy(&t, keys + i * ksize, sizeof(t));
			if (t == tgid)
				memmove(keys + k++ * ksize, keys + i * ksize, ksize);
		}
		for (size_t i = 0; i < k; i++) {
			if (bpf_map__delete_elem(maps[m], keys + i * ksize, ksize, 0) && errno != ENOENT)
				err = -errno;
			else
				n++;
		}
		free(keys);
		if (err)
			return err;
	}
	return n;
#else
	(void)b;
	(void)tgid;
	return -EOPNOTSUPP;
#endif
}
