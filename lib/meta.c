// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture metadata: what kvmexit stores beyond stock perf.data, as text.
 *
 * The section is "key=value" lines after a "kvmexit-meta 1" line; values
 * never contain newlines.  Readers skip keys they do not know, so keys can
 * be added without a version bump; a changed meaning needs a new version.
 * See kvmexit-capture(5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define KX_META_MAGIC "kvmexit-meta 1\n"

KVMEXIT_API const char *kvmexit_meta_param(const struct kvmexit_meta *meta,
					   const char *name)
{
	for (size_t i = 0; i < meta->nr_params; i++)
		if (!strcmp(meta->params[i].name, name))
			return meta->params[i].value;
	return NULL;
}

static int param_bool(const char *value)
{
	if (!value || !*value)
		return -1;
	if (!strcasecmp(value, "Y") || !strcmp(value, "1"))
		return 1;
	if (!strcasecmp(value, "N") || !strcmp(value, "0"))
		return 0;
	return -1;
}

KVMEXIT_API int kvmexit_meta_tdp(const struct kvmexit_meta *meta)
{
	if (!strcmp(meta->kvm_module, "kvm_intel"))
		return param_bool(kvmexit_meta_param(meta, "ept"));
	if (!strcmp(meta->kvm_module, "kvm_amd"))
		return param_bool(kvmexit_meta_param(meta, "npt"));
	return -1;
}

KVMEXIT_API const char *kvmexit_meta_vm_name(const struct kvmexit_meta *meta, int32_t pid)
{
	for (size_t i = 0; i < meta->nr_vms && i < KVMEXIT_META_MAX_VMS; i++)
		if (meta->vms[i].pid == pid)
			return meta->vms[i].name;
	return NULL;
}

int kx_meta_set_vm(struct kvmexit_meta *meta, int32_t pid, const char *name)
{
	struct kvmexit_meta_vm *v = NULL;

	for (size_t i = 0; i < meta->nr_vms; i++)
		if (meta->vms[i].pid == pid)
			v = &meta->vms[i];
	if (!v) {
		if (meta->nr_vms == KVMEXIT_META_MAX_VMS)
			return -ENOSPC;
		v = &meta->vms[meta->nr_vms++];
		v->pid = pid;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	return 0;
}

enum kvmexit_isa kx_isa_from_vendor(const char *vendor)
{
	if (!strncmp(vendor, "GenuineIntel", 12))
		return KVMEXIT_ISA_VMX;
	if (!strncmp(vendor, "AuthenticAMD", 12) || !strncmp(vendor, "HygonGenuine", 12))
		return KVMEXIT_ISA_SVM;
	return KVMEXIT_ISA_UNKNOWN;
}

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int kx_meta_set_param(struct kvmexit_meta *meta, const char *name, const char *value)
{
	struct kvmexit_meta_param *p = NULL;

	for (size_t i = 0; i < meta->nr_params; i++)
		if (!strcmp(meta->params[i].name, name))
			p = &meta->params[i];
	if (!p) {
		if (meta->nr_params == KVMEXIT_META_MAX_PARAMS)
			return -ENOSPC;
		p = &meta->params[meta->nr_params++];
		copy_str(p->name, sizeof(p->name), name, strlen(name));
	}
	copy_str(p->value, sizeof(p->value), value, strlen(value));
	return 0;
}

int kx_counts_add(struct kx_counts *counts, enum kvmexit_isa isa,
		  uint32_t exit_reason, int32_t cpu, uint64_t count)
{
	if (counts->nr == counts->alloc) {
		size_t n = counts->alloc ? counts->alloc * 2 : 64;
		struct kvmexit_count *v = realloc(counts->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		counts->v = v;
		counts->alloc = n;
	}
	counts->v[counts->nr++] = (struct kvmexit_count){
		.isa = isa, .exit_reason = exit_reason, .cpu = cpu, .count = count,
	};
	return 0;
}

int kx_counts_add_detail(struct kx_counts *counts, enum kvmexit_isa isa,
			 uint32_t exit_reason, uint32_t detail, int32_t cpu, uint64_t count)
{
	if (counts->nr_detail == counts->alloc_detail) {
		size_t n = counts->alloc_detail ? counts->alloc_detail * 2 : 16;
		struct kx_detail_count *d = realloc(counts->d, n * sizeof(*d));

		if (!d)
			return -ENOMEM;
		counts->d = d;
		counts->alloc_detail = n;
	}
	counts->d[counts->nr_detail++] = (struct kx_detail_count){
		.isa = isa, .exit_reason = exit_reason, .detail = detail, .cpu = cpu,
		.count = count,
	};
	return 0;
}

/* Makes room for one more item in a growing array; 0 or -ENOMEM. */
static int grow(void **v, size_t *alloc, size_t nr, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : 16;
	void *p;

	if (nr + need <= *alloc)
		return 0;
	while (n < nr + need)
		n *= 2;
	p = realloc(*v, n * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*alloc = n;
	return 0;
}

int kx_counts_add_cell(struct kx_counts *counts, const struct kx_cell_rec *cell,
		       const struct kx_bucket *b, size_t nb)
{
	struct kx_cell_rec *c;

	if (grow((void **)&counts->cells, &counts->alloc_cells, counts->nr_cells, 1,
		 sizeof(*counts->cells)) ||
	    grow((void **)&counts->buckets, &counts->alloc_buckets, counts->nr_buckets, nb,
		 sizeof(*counts->buckets)))
		return -ENOMEM;
	c = &counts->cells[counts->nr_cells++];
	*c = *cell;
	c->first = counts->nr_buckets;
	c->nr = nb;
	if (nb)
		memcpy(counts->buckets + counts->nr_buckets, b, nb * sizeof(*b));
	counts->nr_buckets += nb;
	return 0;
}

int kx_counts_add_pio(struct kx_counts *counts, const struct kx_pio_rec *pio)
{
	if (grow((void **)&counts->pios, &counts->alloc_pios, counts->nr_pios, 1,
		 sizeof(*counts->pios)))
		return -ENOMEM;
	counts->pios[counts->nr_pios++] = *pio;
	return 0;
}

int kx_counts_add_cells_of(struct kx_counts *dst, const struct kx_counts *src)
{
	for (size_t i = 0; i < src->nr_cells; i++) {
		const struct kx_cell_rec *c = &src->cells[i];
		int err = kx_counts_add_cell(dst, c, src->buckets + c->first, c->nr);

		if (err)
			return err;
	}
	for (size_t i = 0; i < src->nr_pios; i++) {
		int err = kx_counts_add_pio(dst, &src->pios[i]);

		if (err)
			return err;
	}
	return 0;
}

void kx_counts_release(struct kx_counts *counts)
{
	free(counts->v);
	free(counts->d);
	free(counts->cells);
	free(counts->buckets);
	free(counts->pios);
	*counts = (struct kx_counts){ 0 };
}

/* A growing text buffer whose only failure is -ENOMEM, reported at the end. */
struct strbuf {
	char *s;
	size_t len, alloc;
	int err;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->s ? sb->s + sb->len : NULL, sb->alloc - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->err = -EINVAL;
			return;
		}
		if (sb->len + n < sb->alloc) {
			sb->len += n;
			return;
		}
		size_t want = (sb->alloc + n + 1) * 2;
		char *s = realloc(sb->s, want);

		if (!s) {
			sb->err = -ENOMEM;
			return;
		}
		sb->s = s;
		sb->alloc = want;
	}
}

/* Values are single-line: anything from a newline on is dropped. */
static void sb_kv(struct strbuf *sb, const char *key, const char *value)
{
	if (*value)
		sb_printf(sb, "%s=%.*s\n", key, (int)strcspn(value, "\r\n"), value);
}

/*
 * A VM name as a value: control bytes (a newline would end the line) and
 * '%' become %XX, so that any name survives.
 */
static void sb_vm(struct strbuf *sb, const struct kvmexit_meta_vm *v)
{
	sb_printf(sb, "vm.%" PRId32 "=", v->pid);
	for (const unsigned char *c = (const unsigned char *)v->name; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '%')
			sb_printf(sb, "%%%02X", *c);
		else
			sb_printf(sb, "%c", *c);
	}
	sb_printf(sb, "\n");
}

static int parse_u64(const char *s, size_t len, uint64_t *out);

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "vm.PID=NAME", NAME as sb_vm() escapes it. */
static int decode_vm(const char *key, size_t klen, const char *v, size_t vlen,
		     struct kvmexit_meta *m)
{
	char name[sizeof(m->vms[0].name)];
	uint64_t pid;
	size_t o = 0;

	if (parse_u64(key, klen, &pid) || pid > INT32_MAX)
		return -KVMEXIT_EFORMAT;
	for (size_t i = 0; i < vlen; i++) {
		char c = v[i];

		if (c == '%') {
			if (i + 2 >= vlen || unhex(v[i + 1]) < 0 || unhex(v[i + 2]) < 0)
				return -KVMEXIT_EFORMAT;
			c = (char)(unhex(v[i + 1]) << 4 | unhex(v[i + 2]));
			i += 2;
		}
		if (!c)
			return -KVMEXIT_EFORMAT;
		if (o + 1 < sizeof(name))
			name[o++] = c;
	}
	name[o] = '\0';
	/* A full table keeps the first VMs: not worth failing for. */
	(void)kx_meta_set_vm(m, (int32_t)pid, name);
	return 0;
}

int kx_meta_encode(const struct kvmexit_meta *meta, const struct kx_counts *counts,
		   char **text, size_t *len)
{
	struct strbuf sb = { 0 };

	sb_printf(&sb, "%s", KX_META_MAGIC);
	sb_kv(&sb, "vendor", meta->vendor);
	sb_kv(&sb, "kvm_module", meta->kvm_module);
	sb_printf(&sb, "isa=%u\n", meta->isa);
	sb_kv(&sb, "osrelease", meta->osrelease);
	sb_kv(&sb, "hostname", meta->hostname);
	sb_kv(&sb, "cpu_desc", meta->cpu_desc);
	sb_printf(&sb, "nr_cpus=%" PRIu32 "\n", meta->nr_cpus);
	sb_printf(&sb, "start_ns=%" PRIu64 "\nend_ns=%" PRIu64 "\n", meta->start_ns, meta->end_ns);
	sb_printf(&sb, "start_epoch_ns=%" PRIu64 "\n", meta->start_epoch_ns);
	sb_printf(&sb, "lost=%" PRIu64 "\n", meta->lost);
	sb_printf(&sb, "counts_only=%d\n", meta->counts_only);
	for (size_t i = 0; i < meta->nr_params; i++) {
		char key[64];

		snprintf(key, sizeof(key), "param.%s", meta->params[i].name);
		sb_kv(&sb, key, meta->params[i].value);
	}
	for (size_t i = 0; i < meta->nr_vms && i < KVMEXIT_META_MAX_VMS; i++)
		sb_vm(&sb, &meta->vms[i]);
	for (size_t i = 0; counts && i < counts->nr; i++)
		sb_printf(&sb, "count=%u,%" PRIu32 ",%" PRId32 ",%" PRIu64 "\n",
			  counts->v[i].isa, counts->v[i].exit_reason, counts->v[i].cpu,
			  counts->v[i].count);
	for (size_t i = 0; counts && i < counts->nr_detail; i++)
		sb_printf(&sb, "count_detail=%u,%" PRIu32 ",%" PRIu32 ",%" PRId32 ",%" PRIu64 "\n",
			  counts->d[i].isa, counts->d[i].exit_reason, counts->d[i].detail,
			  counts->d[i].cpu, counts->d[i].count);
	for (size_t i = 0; counts && i < counts->nr_cells; i++) {
		const struct kx_cell_rec *c = &counts->cells[i];

		sb_printf(&sb, "cell=%u,%" PRIu32 ",%" PRIu32 ",%" PRId32 ",%" PRId32 ",%" PRIu64
			  ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", c->isa, c->reason,
			  c->detail, c->pid, c->vcpu, c->count, c->timed, c->total,
			  c->timed ? c->min : 0, c->timed ? c->max : 0);
		for (size_t j = 0; j < c->nr; j++)
			sb_printf(&sb, "%s%" PRIu32 ":%" PRIu64, j ? " " : "",
				  counts->buckets[c->first + j].idx, counts->buckets[c->first + j].count);
		sb_printf(&sb, "\n");
	}
	for (size_t i = 0; counts && i < counts->nr_pios; i++) {
		const struct kx_pio_rec *p = &counts->pios[i];

		sb_printf(&sb, "pio=%" PRId32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu64 "\n",
			  p->pid, p->rw, p->port, p->size, p->count);
	}
	if (sb.err) {
		free(sb.s);
		return sb.err;
	}
	*text = sb.s;
	*len = sb.len;
	return 0;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf))
		return -KVMEXIT_EFORMAT;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return (errno || *end || buf[0] == '-') ? -KVMEXIT_EFORMAT : 0;
}

static int parse_count(const char *v, size_t len, struct kx_counts *counts)
{
	char buf[96];
	unsigned isa;
	uint32_t reason;
	int32_t cpu;
	uint64_t count;
	int used = 0;

	if (len >= sizeof(buf))
		return -KVMEXIT_EFORMAT;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (sscanf(buf, "%u,%" SCNu32 ",%" SCNd32 ",%" SCNu64 "%n", &isa, &reason, &cpu,
		   &count, &used) != 4 || (size_t)used != len || isa > KVMEXIT_ISA_SVM)
		return -KVMEXIT_EFORMAT;
	return counts ? kx_counts_add(counts, isa, reason, cpu, count) : 0;
}

/* isa,reason,detail,cpu,count: a part of a count= line's count. */
static int parse_count_detail(const char *v, size_t len, struct kx_counts *counts)
{
	char buf[112];
	unsigned isa;
	uint32_t reason, detail;
	int32_t cpu;
	uint64_t count;
	int used = 0;

	if (len >= sizeof(buf))
		return -KVMEXIT_EFORMAT;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (sscanf(buf, "%u,%" SCNu32 ",%" SCNu32 ",%" SCNd32 ",%" SCNu64 "%n", &isa, &reason,
		   &detail, &cpu, &count, &used) != 5 || (size_t)used != len ||
	    isa > KVMEXIT_ISA_SVM || !detail)
		return -KVMEXIT_EFORMAT;
	return counts ? kx_counts_add_detail(counts, isa, reason, detail, cpu, count) : 0;
}

/* Numbers separated by one character each: a cursor over a value. */
struct cursor {
	const char *p, *end;
	int err;
};

static uint64_t next_u64(struct cursor *c, char sep, uint64_t max)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned int d = (unsigned int)(*c->p++ - '0');

		if (v > (UINT64_MAX - d) / 10)
			c->err = -KVMEXIT_EFORMAT;
		v = v * 10 + d;
	}
	if (c->p == start || v > max)
		c->err = -KVMEXIT_EFORMAT;
	if (sep) {
		if (c->p < c->end && *c->p == sep)
			c->p++;
		else
			c->err = -KVMEXIT_EFORMAT;
	}
	return v;
}

/* An id that may be -1 (unknown): "-1" or 0..INT32_MAX. */
static int32_t next_id(struct cursor *c, char sep)
{
	if (c->end - c->p >= 2 && c->p[0] == '-' && c->p[1] == '1') {
		c->p += 2;
		if (c->p < c->end && *c->p == sep)
			c->p++;
		else
			c->err = -KVMEXIT_EFORMAT;
		return -1;
	}
	return (int32_t)next_u64(c, sep, INT32_MAX);
}

/* cell=ISA,REASON,DETAIL,PID,VCPU,COUNT,TIMED,TOTAL,MIN,MAX,[IDX:N[ IDX:N]...] */
static int parse_cell(const char *v, size_t len, struct kx_counts *counts)
{
	struct cursor c = { .p = v, .end = v + len };
	struct kx_cell_rec r = { 0 };
	struct kx_bucket *b = NULL;
	size_t nb = 0, alloc = 0;
	uint64_t sum = 0;
	int err;

	r.isa = (enum kvmexit_isa)next_u64(&c, ',', KVMEXIT_ISA_SVM);
	r.reason = (uint32_t)next_u64(&c, ',', UINT32_MAX);
	r.detail = (uint32_t)next_u64(&c, ',', UINT32_MAX);
	r.pid = next_id(&c, ',');
	r.vcpu = next_id(&c, ',');
	r.count = next_u64(&c, ',', UINT64_MAX);
	r.timed = next_u64(&c, ',', r.count);
	r.total = next_u64(&c, ',', UINT64_MAX);
	r.min = next_u64(&c, ',', UINT64_MAX);
	r.max = next_u64(&c, ',', UINT64_MAX);
	while (!c.err && c.p < c.end) {
		struct kx_bucket k;

		if (nb && *c.p++ != ' ') {
			c.err = -KVMEXIT_EFORMAT;
			break;
		}
		k.idx = (uint32_t)next_u64(&c, ':', KX_HIST_BUCKETS - 1);
		k.count = next_u64(&c, 0, UINT64_MAX - sum);
		/* Buckets in order, none empty, adding up to the timed exits. */
		if (!k.count || (nb && k.idx <= b[nb - 1].idx))
			c.err = -KVMEXIT_EFORMAT;
		if (c.err)
			break;
		sum += k.count;
		if (grow((void **)&b, &alloc, nb, 1, sizeof(*b))) {
			free(b);
			return -ENOMEM;
		}
		b[nb++] = k;
	}
	if (!c.err && (sum != r.timed || (r.timed && r.min > r.max)))
		c.err = -KVMEXIT_EFORMAT;
	err = c.err ? c.err : counts ? kx_counts_add_cell(counts, &r, b, nb) : 0;
	free(b);
	return err;
}

/* pio=PID,RW,PORT,SIZE,COUNT */
static int parse_pio(const char *v, size_t len, struct kx_counts *counts)
{
	struct cursor c = { .p = v, .end = v + len };
	struct kx_pio_rec r;

	r.pid = next_id(&c, ',');
	r.rw = (uint32_t)next_u64(&c, ',', 1);
	r.port = (uint32_t)next_u64(&c, ',', 0xffff);
	r.size = (uint32_t)next_u64(&c, ',', 8);
	r.count = next_u64(&c, 0, UINT64_MAX);
	if (c.err || c.p != c.end)
		return -KVMEXIT_EFORMAT;
	return counts ? kx_counts_add_pio(counts, &r) : 0;
}

#define KEY_IS(k) (klen == sizeof(k) - 1 && !memcmp(line, k, klen))

static int decode_line(const char *line, size_t n, struct kvmexit_meta *m,
		       struct kx_counts *counts)
{
	const char *eq = memchr(line, '=', n);
	size_t klen, vlen;
	const char *v;
	uint64_t u = 0;

	if (!eq)
		return n == 0 ? 0 : -KVMEXIT_EFORMAT;
	klen = eq - line;
	v = eq + 1;
	vlen = n - klen - 1;
	if (KEY_IS("vendor"))
		copy_str(m->vendor, sizeof(m->vendor), v, vlen);
	else if (KEY_IS("kvm_module"))
		copy_str(m->kvm_module, sizeof(m->kvm_module), v, vlen);
	else if (KEY_IS("osrelease"))
		copy_str(m->osrelease, sizeof(m->osrelease), v, vlen);
	else if (KEY_IS("hostname"))
		copy_str(m->hostname, sizeof(m->hostname), v, vlen);
	else if (KEY_IS("cpu_desc"))
		copy_str(m->cpu_desc, sizeof(m->cpu_desc), v, vlen);
	else if (KEY_IS("count"))
		return parse_count(v, vlen, counts);
	else if (KEY_IS("count_detail"))
		return parse_count_detail(v, vlen, counts);
	else if (klen > 3 && !memcmp(line, "vm.", 3))
		return decode_vm(line + 3, klen - 3, v, vlen, m);
	else if (KEY_IS("cell"))
		return parse_cell(v, vlen, counts);
	else if (KEY_IS("pio"))
		return parse_pio(v, vlen, counts);
	else if (klen > 6 && !memcmp(line, "param.", 6)) {
		char name[48], value[48];

		copy_str(name, sizeof(name), line + 6, klen - 6);
		copy_str(value, sizeof(value), v, vlen);
		/* A full table keeps the first parameters: not worth failing for. */
		(void)kx_meta_set_param(m, name, value);
		return 0;
	} else {
		if (parse_u64(v, vlen, &u))
			return KEY_IS("isa") || KEY_IS("nr_cpus") || KEY_IS("start_ns") ||
			       KEY_IS("end_ns") || KEY_IS("lost") || KEY_IS("counts_only") ||
			       KEY_IS("start_epoch_ns") ? -KVMEXIT_EFORMAT : 0;
		if (KEY_IS("isa"))
			m->isa = u <= KVMEXIT_ISA_SVM ? (enum kvmexit_isa)u : KVMEXIT_ISA_UNKNOWN;
		else if (KEY_IS("nr_cpus"))
			m->nr_cpus = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
		else if (KEY_IS("start_ns"))
			m->start_ns = u;
		else if (KEY_IS("end_ns"))
			m->end_ns = u;
		else if (KEY_IS("start_epoch_ns"))
			m->start_epoch_ns = u;
		else if (KEY_IS("lost"))
			m->lost = u;
		else if (KEY_IS("counts_only"))
			m->counts_only = u != 0;
	}
	return 0;
}

int kx_meta_decode(const char *text, size_t len, struct kvmexit_meta *meta,
		   struct kx_counts *counts)
{
	size_t magic = strlen(KX_META_MAGIC);

	if (len < magic || memcmp(text, KX_META_MAGIC, magic))
		return -KVMEXIT_EFORMAT;
	for (size_t pos = magic; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		int err;

		/* A NUL pads the section to 8 bytes: the text ends there. */
		if (memchr(line, '\0', n)) {
			n = strnlen(line, n);
			nl = NULL;
		}
		err = decode_line(line, n, meta, counts);
		if (err)
			return err;
		if (!nl)
			break;
		pos += n + 1;
	}
	meta->has_kvmexit = true;
	return 0;
}
