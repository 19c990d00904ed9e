// SPDX-License-Identifier: GPL-2.0-only
/*
 * Count tables: exit counts as text, for exits counted some other way, and
 * for writing a profile's counts out.  The format (kvmexit-capture(5),
 * COUNT TABLES), one item per line:
 *
 *   # comment, or "# key: value" metadata (duration, exit_span, vendor, kvm_module,
 *   #   osrelease, hostname, cpu, nr_cpus, lost; other lower-case keys are
 *   #   kvm module parameters: "# ept: Y")
 *   isa,reason,count       optional header line, first of the data lines
 *   vmx,EPT_VIOLATION,1234 ISA (vmx, svm, 1, 2), reason (kernel name or
 *                          number), count; comma or tab separated
 *   duration,12.5          seconds, as "# duration: 12.5"
 *
 * "# duration:" is the recording window; "# exit_span:" (seconds) the span
 * of the exits, first to last, which rates are then taken over, as for the
 * capture the table was written from (kvmexit_profile_rate_span()).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FIELDS 8
#define BOM "\xef\xbb\xbf"

struct table_reader {
	const char *name;
	unsigned long line;
	bool seen_data;
	bool has_duration;
	double duration;
	double exit_span;		/* seconds; 0: none */
	uint64_t total;			/* of the counts so far: must fit in 64 bits */
	enum kvmexit_isa isa;		/* of the rows; UNKNOWN when mixed */
	bool mixed;
	uint64_t rows;
	struct kvmexit_profile *prof;
	struct kvmexit_meta *meta;
	char *errbuf;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
line_error(struct table_reader *r, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->errbuf && r->errlen)
		snprintf(r->errbuf, r->errlen, "%s:%lu: %s", r->name, r->line, msg);
	return err;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	/* CSV quoting of a whole field: "PF excp" */
	if (end - s >= 2 && *s == '"' && end[-1] == '"') {
		end[-1] = '\0';
		s++;
	}
	return s;
}

static void set_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static int parse_seconds(struct table_reader *r, const char *key, const char *text,
			 double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno == ERANGE && v == 0)
		v = 1e-300;			/* underflow: too small, below */
	else if (errno || end == text || *trim(end) || !isfinite(v) || v <= 0)
		return line_error(r, -KVMEXIT_EFORMAT,
				  "%s '%s' is not a positive number of seconds", key, text);
	/* Durations are whole ns in 64 bits: 1 ns to 10^9 s (31 years) keeps rates meaningful. */
	if (v < 1e-9 || v > 1e9)
		return line_error(r, -KVMEXIT_EFORMAT, "%s '%s' is out of range: give "
				  "seconds from 0.000000001 to 1000000000", key, text);
	*out = v;
	return 0;
}

static int parse_duration(struct table_reader *r, const char *text)
{
	int err = parse_seconds(r, "duration", text, &r->duration);

	r->has_duration = !err;
	return err;
}

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static bool is_param_name(const char *key)
{
	if (!*key || strlen(key) >= sizeof(((struct kvmexit_meta_param *)0)->name))
		return false;
	for (const char *p = key; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* "# key: value" lines; any other comment is ignored. */
static int parse_comment(struct table_reader *r, char *text)
{
	struct kvmexit_meta *m = r->meta;
	char *colon = strchr(text, ':'), *key, *value;
	uint64_t u;

	if (!colon)
		return 0;
	*colon = '\0';
	key = trim(text);
	value = trim(colon + 1);
	if (!*value || strchr(key, ' '))
		return 0;
	if (!strcasecmp(key, "duration"))
		return parse_duration(r, value);
	if (!strcasecmp(key, "exit_span"))
		return parse_seconds(r, "exit_span", value, &r->exit_span);
	if (!strcasecmp(key, "vendor"))
		set_str(m->vendor, sizeof(m->vendor), value);
	else if (!strcasecmp(key, "kvm_module") || !strcasecmp(key, "module"))
		set_str(m->kvm_module, sizeof(m->kvm_module), value);
	else if (!strcasecmp(key, "osrelease") || !strcasecmp(key, "kernel"))
		set_str(m->osrelease, sizeof(m->osrelease), value);
	else if (!strcasecmp(key, "hostname") || !strcasecmp(key, "host"))
		set_str(m->hostname, sizeof(m->hostname), value);
	else if (!strcasecmp(key, "cpu") || !strcasecmp(key, "cpu_desc"))
		set_str(m->cpu_desc, sizeof(m->cpu_desc), value);
	else if (!strcasecmp(key, "cmdline"))
		set_str(m->cmdline, sizeof(m->cmdline), value);
	else if (!strcasecmp(key, "nr_cpus") || !strcasecmp(key, "lost")) {
		if (parse_u64(value, &u))
			return line_error(r, -KVMEXIT_EFORMAT, "%s '%s' is not a number",
					  key, value);
		if (!strcasecmp(key, "lost"))
			m->lost = u;
		else
			m->nr_cpus = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
	} else if (is_param_name(key)) {
		if (kx_meta_set_param(m, key, value))
			return line_error(r, -KVMEXIT_EFORMAT,
					  "more than %d module parameters", KVMEXIT_META_MAX_PARAMS);
	}
	return 0;
}

static int parse_isa(const char *text, enum kvmexit_isa *isa)
{
	if (!strcasecmp(text, "vmx") || !strcmp(text, "1"))
		*isa = KVMEXIT_ISA_VMX;
	else if (!strcasecmp(text, "svm") || !strcmp(text, "2"))
		*isa = KVMEXIT_ISA_SVM;
	else
		return -EINVAL;
	return 0;
}

static size_t split(char *line, char **fields)
{
	char sep = strchr(line, '\t') ? '\t' : ',';
	size_t n = 0;

	for (char *p = line;; ) {
		char *next = strchr(p, sep);

		if (next)
			*next = '\0';
		if (n < MAX_FIELDS)
			fields[n] = trim(p);
		n++;
		if (!next)
			return n;
		p = next + 1;
	}
}

static int add_row(struct table_reader *r, char **f)
{
	enum kvmexit_isa isa;
	uint32_t code;
	uint64_t count;
	int err;

	if (parse_isa(f[0], &isa))
		return line_error(r, -KVMEXIT_EFORMAT,
				  "'%s' is not an ISA (vmx, svm, 1 or 2)", f[0]);
	if (kvmexit_reason_parse(isa, f[1], &code))
		return line_error(r, -KVMEXIT_EFORMAT, "'%s' is not a%s %s exit reason",
				  f[1], isa == KVMEXIT_ISA_SVM ? "n" : "", kvmexit_isa_name(isa));
	if (parse_u64(f[2], &count))
		return line_error(r, -KVMEXIT_EFORMAT,
				  "'%s' is not a count (a whole number, 0 or more)", f[2]);
	if (count > UINT64_MAX - r->total)
		return line_error(r, -KVMEXIT_EFORMAT, "the counts add up to more than 2^64 - 1 "
				  "(%" PRIu64 " before this row's %" PRIu64 ")", r->total, count);
	r->total += count;
	err = kvmexit_profile_add_count(r->prof, isa, code, 0, count);
	if (err)
		return line_error(r, err, "cannot add the count: %s", kvmexit_strerror(err));
	if (r->rows++ == 0)
		r->isa = isa;
	else if (r->isa != isa)
		r->mixed = true;
	return 0;
}

static int parse_line(struct table_reader *r, char *line)
{
	char *fields[MAX_FIELDS];
	size_t n;
	bool first = !r->seen_data;

	line = trim(line);
	if (!*line)
		return 0;
	if (*line == '#')
		return parse_comment(r, line + 1);
	r->seen_data = true;
	n = split(line, fields);
	if (first && !strcasecmp(fields[0], "isa"))
		return 0;	/* the header */
	if (!strcasecmp(fields[0], "duration")) {
		if (n != 2)
			return line_error(r, -KVMEXIT_EFORMAT,
					  "expected duration,SECONDS (2 fields), found %zu", n);
		return parse_duration(r, fields[1]);
	}
	if (n != 3)
		return line_error(r, -KVMEXIT_EFORMAT,
				  "expected isa,reason,count (3 fields), found %zu", n);
	return add_row(r, fields);
}

/* Fills what the table did not say from what it did. */
static void finish_meta(struct table_reader *r)
{
	struct kvmexit_meta *m = r->meta;
	enum kvmexit_isa isa = kx_isa_from_vendor(m->vendor);

	if (isa == KVMEXIT_ISA_UNKNOWN && !r->mixed)
		isa = r->isa;
	if (isa == KVMEXIT_ISA_UNKNOWN && !strcmp(m->kvm_module, "kvm_intel"))
		isa = KVMEXIT_ISA_VMX;
	if (isa == KVMEXIT_ISA_UNKNOWN && !strcmp(m->kvm_module, "kvm_amd"))
		isa = KVMEXIT_ISA_SVM;
	m->isa = isa;
	if (!m->kvm_module[0] && isa == KVMEXIT_ISA_VMX)
		set_str(m->kvm_module, sizeof(m->kvm_module), "kvm_intel");
	else if (!m->kvm_module[0] && isa == KVMEXIT_ISA_SVM)
		set_str(m->kvm_module, sizeof(m->kvm_module), "kvm_amd");
	/* A table has no clock: the span starts at 1 ns (0 means unknown). */
	if (r->has_duration) {
		m->start_ns = 1;
		m->end_ns = 1 + (uint64_t)llround(r->duration * 1e9);
	}
	if (r->exit_span > 0)
		kx_profile_set_exit_span(r->prof, (uint64_t)llround(r->exit_span * 1e9));
	m->counts_only = true;
}

int kx_counts_table_read_file(FILE *f, const char *name, struct kvmexit_profile *prof,
			      struct kvmexit_meta *meta, char *errbuf, size_t errlen)
{
	struct table_reader r = {
		.name = name, .prof = prof, .meta = meta, .errbuf = errbuf, .errlen = errlen,
	};
	char *line = NULL;
	size_t alloc = 0;
	ssize_t len;
	int err = 0;

	*meta = (struct kvmexit_meta){ 0 };
	while ((len = getline(&line, &alloc, f)) >= 0) {
		r.line++;
		if (memchr(line, '\0', len)) {
			err = line_error(&r, -KVMEXIT_EFORMAT,
					 "a NUL byte: not a text count table");
			break;
		}
		/* A UTF-8 byte order mark, as some editors save: skipped. */
		err = parse_line(&r, r.line == 1 && !strncmp(line, BOM, 3) ? line + 3 : line);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = line_error(&r, -EIO, "read error");
	free(line);
	if (err)
		return err;
	if (!r.rows) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "%s: no count rows (expected lines of isa,reason,count)", name);
		return -KVMEXIT_ENOEVENTS;
	}
	finish_meta(&r);
	return 0;
}

/* A count table or a Prometheus answer is small: read it whole (at most 256 MiB). */
#define TABLE_MAX_BYTES (256u << 20)

static int slurp(FILE *f, const char *name, char **out, size_t *len, char *errbuf, size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		if (cap >= TABLE_MAX_BYTES) {
			free(buf);
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s: larger than 256 MiB: not a count table", name);
			return -EFBIG;
		}
		cap *= 2;
		char *nb = realloc(buf, cap + 1);

		if (!nb)
			free(buf);
		buf = nb;
	}
	if (!buf)
		return -ENOMEM;
	if (ferror(f)) {
		free(buf);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: read error", name);
		return -EIO;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int kx_counts_table_read(const char *path, struct kvmexit_profile *prof,
			 struct kvmexit_meta *meta, char *errbuf, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? "<stdin>" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!f) {
		err = -errno;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	err = slurp(f, name, &buf, &len, errbuf, errlen);
	if (!is_stdin)
		fclose(f);
	if (err)
		return err;
	/* A JSON object: Prometheus's query API (lib/prom-json.c). */
	if (kx_prom_json_sniff(buf, len) && !memchr(buf, '\0', len)) {
		err = kx_prom_json_read(buf, len, name, prof, meta, errbuf, errlen);
	} else if (!len) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "%s: no count rows (expected lines of isa,reason,count)", name);
		err = -KVMEXIT_ENOEVENTS;
	} else {
		FILE *m = fmemopen(buf, len, "r");

		err = m ? kx_counts_table_read_file(m, name, prof, meta, errbuf, errlen) : -errno;
		if (m)
			fclose(m);
	}
	free(buf);
	return err;
}

/*
 * Text that starts like a table (after a byte order mark: printable or
 * white space) is read as one, so a stray NUL later gets a table error;
 * perf.data and other binary files go to the capture reader.
 */
bool kx_counts_table_sniff(const void *head, size_t len)
{
	const unsigned char *p = head;

	if (len >= 3 && !memcmp(p, BOM, 3)) {
		p += 3;
		len -= 3;
	}
	if (len == 0)
		return false;
	if (len >= 8 && (!memcmp(p, "PERFILE2", 8) || !memcmp(p, "2ELIFREP", 8)))
		return false;
	return isprint(p[0]) || isspace(p[0]);
}

/* Writing */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

struct wbuf {
	int fd;
	int err;
	size_t len;
	char buf[4096];
};

static void wb_flush(struct wbuf *w)
{
	if (!w->err && w->len)
		w->err = write_all(w->fd, w->buf, w->len);
	w->len = 0;
}

static void __attribute__((format(printf, 2, 3))) wb_printf(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (w->len + n >= sizeof(w->buf)) {
		wb_flush(w);
		va_start(ap, fmt);
		n = vsnprintf(w->buf, sizeof(w->buf), fmt, ap);
		va_end(ap);
		if (n >= (int)sizeof(w->buf))
			n = sizeof(w->buf) - 1;
	}
	w->len += n;
}

/* Values are one line each: anything from a newline on is dropped. */
static void wb_meta(struct wbuf *w, const char *key, const char *value)
{
	if (*value)
		wb_printf(w, "# %s: %.*s\n", key, (int)strcspn(value, "\r\n"), value);
}

static int write_rows(struct wbuf *w, const struct kvmexit_profile *prof)
{
	struct kvmexit_stat *rows;
	int n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows);

	if (n < 0)
		return n;
	wb_printf(w, "isa,reason,count\n");
	for (int i = 0; i < n; i++) {
		char name[64];

		kvmexit_reason_name(rows[i].isa, rows[i].reason, name, sizeof(name));
		wb_printf(w, "%s,%s,%" PRIu64 "\n",
			  rows[i].isa == KVMEXIT_ISA_SVM ? "svm" : "vmx", name, rows[i].count);
	}
	kvmexit_stats_free(rows);
	return 0;
}

KVMEXIT_API int kvmexit_counts_table_write(const struct kvmexit_profile *prof, int fd)
{
	const struct kvmexit_meta *m = kvmexit_profile_meta(prof);
	struct kvmexit_rate_span span = { .sz = sizeof(span) };
	struct kvmexit_profile_totals tot;
	struct wbuf *w;
	int err;

	if (!prof || fd < 0)
		return -EINVAL;
	kvmexit_profile_rate_span(prof, &span);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	kvmexit_profile_totals(prof, &tot);
	wb_printf(w, "# kvmexit count table; see kvmexit-capture(5)\n");
	wb_meta(w, "vendor", m->vendor);
	wb_meta(w, "kvm_module", m->kvm_module);
	wb_meta(w, "osrelease", m->osrelease);
	wb_meta(w, "hostname", m->hostname);
	wb_meta(w, "cpu", m->cpu_desc);
	for (size_t i = 0; i < m->nr_params; i++)
		if (is_param_name(m->params[i].name))
			wb_meta(w, m->params[i].name, m->params[i].value);
	if (tot.lost)
		wb_printf(w, "# lost: %" PRIu64 "\n", tot.lost);
	/* The window as "duration"; rates over the exits keep their span. */
	if (span.window_ns)
		wb_printf(w, "# duration: %" PRIu64 ".%09" PRIu64 "\n",
			  span.window_ns / 1000000000u, span.window_ns % 1000000000u);
	if (span.basis == KVMEXIT_RATE_EXIT_SPAN)
		wb_printf(w, "# exit_span: %" PRIu64 ".%09" PRIu64 "\n",
			  span.span_ns / 1000000000u, span.span_ns % 1000000000u);
	err = write_rows(w, prof);
	wb_flush(w);
	if (!err)
		err = w->err;
	free(w);
	return err;
}
