// SPDX-License-Identifier: GPL-2.0-only
/*
 * Count tables from Prometheus: the JSON answer of its HTTP query API
 * (/api/v1/query) to a query over kvmexit serve's kvmexit_exits_total,
 *
 *   {"status":"success","data":{"resultType":"vector","result":[
 *     {"metric":{"reason":"npf",...},"value":[1700000000.5,"206"]}, ...]}}
 *
 * becomes exit counts per reason, summed over the other labels; a range
 * query's "matrix" gives each series' last value.  The ISA of a reason
 * comes from an "isa" label when there is one, else from its exact
 * spelling (VMX names are upper case, SVM's lower case); counts that are
 * not whole numbers (increase() extrapolates) are rounded.
 *
 * The JSON is untrusted: a small parser into a tree of nodes, depth and
 * size bounded, every string checked; messages quote nothing raw.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define JSON_MAX_DEPTH 32

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	char *str;			/* J_STR (decoded), and a key in objects */
	double num;
	struct jnode *kids;		/* J_ARR, J_OBJ: children, keys in ->key */
	size_t nr;
	char *key;
};

struct jparser {
	const char *p, *end;
	const char *what;		/* error: what was expected */
	size_t at;			/* error: offset */
};

static void jfree(struct jnode *n)
{
	for (size_t i = 0; i < n->nr; i++)
		jfree(&n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n->key);
}

static void skip_ws(struct jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int fail(struct jparser *j, const char *what, const char *start)
{
	j->what = what;
	j->at = (size_t)(j->p - start);
	return -KVMEXIT_EFORMAT;
}

static int hex4(const char *p, unsigned int *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at j->p (the opening quote), decoded into a new NUL-free buffer. */
static int parse_string(struct jparser *j, const char *start, char **out)
{
	const char *s = ++j->p;
	size_t cap = 0;
	char *o;
	size_t n = 0;

	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			j->p++;
		j->p++;
	}
	if (j->p >= j->end)
		return fail(j, "a closing '\"'", start);
	/* Escapes never make a string longer (\uXXXX: 6 bytes for at most 3, pairs 12 for 4). */
	cap = (size_t)(j->p - s) + 1;
	o = malloc(cap);
	if (!o)
		return -ENOMEM;
	for (const char *p = s; p < j->p;) {
		unsigned int cp, lo;

		if ((unsigned char)*p < 0x20) {
			free(o);
			j->p = p;
			return fail(j, "no control characters in a string", start);
		}
		if (*p != '\\') {
			o[n++] = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': case '\\': case '/':
			o[n++] = *p++;
			continue;
		case 'b': o[n++] = '\b'; p++; continue;
		case 'f': o[n++] = '\f'; p++; continue;
		case 'n': o[n++] = '\n'; p++; continue;
		case 'r': o[n++] = '\r'; p++; continue;
		case 't': o[n++] = '\t'; p++; continue;
		case 'u':
			if (j->p - p < 5 || hex4(p + 1, &cp))
				break;
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->p - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					break;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				break;
			}
			if (!cp)
				break;		/* no NUL inside our strings */
			n += put_utf8(o + n, cp);
			continue;
		default:
			break;
		}
		free(o);
		j->p = p;
		return fail(j, "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX, not \\u0000)",
			    start);
	}
	o[n] = '\0';
	j->p++;
	*out = o;
	return 0;
}

static int parse_value(struct jparser *j, const char *start, struct jnode *n, int depth);

static int parse_container(struct jparser *j, const char *start, struct jnode *n, int depth,
			   bool obj)
{
	char close = obj ? '}' : ']';
	size_t alloc = 0;

	n->type = obj ? J_OBJ : J_ARR;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		struct jnode *kid;
		char *key = NULL;
		int err;

		skip_ws(j);
		if (obj) {
			if (j->p >= j->end || *j->p != '"')
				return fail(j, "a key in quotes", start);
			err = parse_string(j, start, &key);
			if (err)
				return err;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				return fail(j, "':' after a key", start);
			}
			j->p++;
		}
		if (n->nr == alloc) {
			size_t na = alloc ? alloc * 2 : 4;
			struct jnode *v = realloc(n->kids, na * sizeof(*v));

			if (!v) {
				free(key);
				return -ENOMEM;
			}
			n->kids = v;
			alloc = na;
		}
		kid = &n->kids[n->nr++];
		memset(kid, 0, sizeof(*kid));
		kid->key = key;
		err = parse_value(j, start, kid, depth + 1);
		if (err)
			return err;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		return fail(j, obj ? "',' or '}'" : "',' or ']'", start);
	}
}

static int parse_value(struct jparser *j, const char *start, struct jnode *n, int depth)
{
	char *end;

	if (depth > JSON_MAX_DEPTH)
		return fail(j, "at most 32 levels of nesting", start);
	skip_ws(j);
	if (j->p >= j->end)
		return fail(j, "a value", start);
	switch (*j->p) {
	case '{':
		return parse_container(j, start, n, depth, true);
	case '[':
		return parse_container(j, start, n, depth, false);
	case '"':
		n->type = J_STR;
		return parse_string(j, start, &n->str);
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };

		for (int i = 0; i < 3; i++) {
			size_t l = strlen(words[i]);

			if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, words[i], l)) {
				n->type = i == 2 ? J_NULL : J_BOOL;
				n->num = i == 0;
				j->p += l;
				return 0;
			}
		}
		return fail(j, "a value", start);
	}
	default:
		if (!(*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
			return fail(j, "a value", start);
		/* The buffer ends with a NUL (kx_prom_json_read() makes sure). */
		n->num = strtod(j->p, &end);
		if (end == j->p || end > j->end)
			return fail(j, "a number", start);
		n->type = J_NUM;
		j->p = end;
		return 0;
	}
}

static const struct jnode *member(const struct jnode *n, const char *key)
{
	if (!n || n->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < n->nr; i++)
		if (!strcmp(n->kids[i].key, key))
			return &n->kids[i];
	return NULL;
}

/* Printable ASCII only, for messages: the text is untrusted. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[n] = '\0';
	return buf;
}

/* The exact (case-sensitive) kernel name of a reason in one ISA. */
static bool exact_name(enum kvmexit_isa isa, const char *name, uint32_t *code)
{
	size_t n;
	const struct kvmexit_reason *t = kvmexit_reason_table(isa, &n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name)) {
			*code = t[i].code;
			return true;
		}
	return false;
}

struct prow {
	char *reason;
	enum kvmexit_isa isa;
	uint64_t count;
};

static int isa_of_label(const char *v, enum kvmexit_isa *isa)
{
	if (!strcasecmp(v, "vmx") || !strcmp(v, "1"))
		*isa = KVMEXIT_ISA_VMX;
	else if (!strcasecmp(v, "svm") || !strcmp(v, "2"))
		*isa = KVMEXIT_ISA_SVM;
	else
		return -1;
	return 0;
}

/* One series of the result: its reason, ISA (if a label says) and count. */
static int read_series(const struct jnode *s, bool matrix, struct prow *row, const char *name,
		       size_t i, char *errbuf, size_t errlen)
{
	const struct jnode *metric = member(s, "metric"), *reason = member(metric, "reason");
	const struct jnode *isa = member(metric, "isa");
	const struct jnode *v = member(s, matrix ? "values" : "value");
	char shown_buf[64];
	double d;

	if (!reason || reason->type != J_STR) {
		snprintf(errbuf, errlen, "%s: series %zu has no \"reason\" label: query "
			 "kvmexit_exits_total, summed by (reason) if you like", name, i + 1);
		return -KVMEXIT_EFORMAT;
	}
	if (matrix && v && v->type == J_ARR && v->nr)
		v = &v->kids[v->nr - 1];	/* a range query: the last value */
	if (!v || v->type != J_ARR || v->nr != 2 || v->kids[1].type != J_STR) {
		snprintf(errbuf, errlen, "%s: series %zu (%s) has no value [time, \"count\"]", name,
			 i + 1, shown(reason->str, shown_buf, sizeof(shown_buf)));
		return -KVMEXIT_EFORMAT;
	}
	d = strtod(v->kids[1].str, NULL);
	if (!isfinite(d) || d < 0 || d > 1.8e19) {
		char vb[32];

		snprintf(errbuf, errlen, "%s: series %zu (%s): '%s' is not a count (0 or more)",
			 name, i + 1, shown(reason->str, shown_buf, sizeof(shown_buf)),
			 shown(v->kids[1].str, vb, sizeof(vb)));
		return -KVMEXIT_EFORMAT;
	}
	row->reason = reason->str;
	row->isa = KVMEXIT_ISA_UNKNOWN;
	if (isa && isa->type == J_STR && isa_of_label(isa->str, &row->isa)) {
		snprintf(errbuf, errlen, "%s: series %zu: isa \"%s\" is neither vmx nor svm", name,
			 i + 1, shown(isa->str, shown_buf, sizeof(shown_buf)));
		return -KVMEXIT_EFORMAT;
	}
	row->count = (uint64_t)llround(d);
	return 0;
}

/* The rows into the profile, each reason in its ISA. */
static int add_rows(struct prow *rows, size_t n, struct kvmexit_profile *prof,
		    struct kvmexit_meta *meta, const char *name, char *errbuf, size_t errlen)
{
	enum kvmexit_isa all = KVMEXIT_ISA_UNKNOWN;
	char shown_buf[64];

	/* An ISA for each row from its label or spelling; one for the host. */
	for (size_t i = 0; i < n; i++) {
		uint32_t code;

		if (rows[i].isa == KVMEXIT_ISA_UNKNOWN) {
			bool vmx = exact_name(KVMEXIT_ISA_VMX, rows[i].reason, &code);
			bool svm = exact_name(KVMEXIT_ISA_SVM, rows[i].reason, &code);

			if (vmx != svm)
				rows[i].isa = vmx ? KVMEXIT_ISA_VMX : KVMEXIT_ISA_SVM;
		}
		if (rows[i].isa == KVMEXIT_ISA_UNKNOWN)
			continue;
		if (all != KVMEXIT_ISA_UNKNOWN && all != rows[i].isa) {
			snprintf(errbuf, errlen, "%s: VMX and SVM reasons mixed (%s): give one host "
				 "kind per query, e.g. by kvmexit_host_info's vendor", name,
				 shown(rows[i].reason, shown_buf, sizeof(shown_buf)));
			return -KVMEXIT_EFORMAT;
		}
		all = rows[i].isa;
	}
	for (size_t i = 0; i < n; i++) {
		enum kvmexit_isa isa = rows[i].isa != KVMEXIT_ISA_UNKNOWN ? rows[i].isa : all;
		uint32_t code;
		int err;

		if (isa == KVMEXIT_ISA_UNKNOWN || kvmexit_reason_parse(isa, rows[i].reason, &code)) {
			snprintf(errbuf, errlen, "%s: '%s' is not a%s exit reason", name,
				 shown(rows[i].reason, shown_buf, sizeof(shown_buf)),
				 isa == KVMEXIT_ISA_UNKNOWN ? " VMX or SVM"
				 : isa == KVMEXIT_ISA_SVM ? "n SVM" : " VMX");
			return -KVMEXIT_EFORMAT;
		}
		err = kvmexit_profile_add_count(prof, isa, code, 0, rows[i].count);
		if (err) {
			snprintf(errbuf, errlen, "%s: cannot add the count: %s", name,
				 kvmexit_strerror(err));
			return err;
		}
	}
	meta->isa = all;
	snprintf(meta->kvm_module, sizeof(meta->kvm_module), "%s",
		 all == KVMEXIT_ISA_VMX ? "kvm_intel" : all == KVMEXIT_ISA_SVM ? "kvm_amd" : "");
	meta->counts_only = true;
	return 0;
}

int kx_prom_json_read(const char *buf, size_t len, const char *name,
		      struct kvmexit_profile *prof, struct kvmexit_meta *meta,
		      char *errbuf, size_t errlen)
{
	struct jparser j = { .p = buf, .end = buf + len };
	struct jnode root = { 0 };
	const struct jnode *status, *data, *type, *result;
	struct prow *rows = NULL;
	char shown_buf[128];
	bool matrix;
	int err;

	*meta = (struct kvmexit_meta){ 0 };
	/* strtod() stops at the NUL the caller puts after the text. */
	if (!errbuf || !errlen)
		errbuf = shown_buf, errlen = sizeof(shown_buf);
	err = parse_value(&j, buf, &root, 0);
	if (!err) {
		skip_ws(&j);
		if (j.p != j.end)
			err = fail(&j, "the end after the JSON value", buf);
	}
	if (err) {
		if (err == -ENOMEM)
			snprintf(errbuf, errlen, "%s: %s", name, kvmexit_strerror(err));
		else
			snprintf(errbuf, errlen, "%s: not JSON: expected %s at byte %zu", name, j.what,
				 j.at);
		goto out;
	}
	err = -KVMEXIT_EFORMAT;
	status = member(&root, "status");
	data = member(&root, "data");
	if (status && status->type == J_STR && strcmp(status->str, "success")) {
		const struct jnode *e = member(&root, "error");

		snprintf(errbuf, errlen, "%s: Prometheus answered \"%s\": %s", name,
			 shown(status->str, shown_buf, 16),
			 e && e->type == J_STR ? shown(e->str, shown_buf + 16, sizeof(shown_buf) - 16)
					       : "(no message)");
		goto out;
	}
	type = member(data, "resultType");
	result = member(data, "result");
	if (!type || type->type != J_STR || !result || result->type != J_ARR ||
	    (strcmp(type->str, "vector") && strcmp(type->str, "matrix"))) {
		snprintf(errbuf, errlen, "%s: not a Prometheus query result (expected "
			 "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[...]}})",
			 name);
		goto out;
	}
	matrix = !strcmp(type->str, "matrix");
	if (!result->nr) {
		snprintf(errbuf, errlen, "%s: the query result is empty: no series", name);
		err = -KVMEXIT_ENOEVENTS;
		goto out;
	}
	rows = calloc(result->nr, sizeof(*rows));
	if (!rows) {
		err = -ENOMEM;
		snprintf(errbuf, errlen, "%s: %s", name, kvmexit_strerror(err));
		goto out;
	}
	for (size_t i = 0; i < result->nr; i++) {
		err = read_series(&result->kids[i], matrix, &rows[i], name, i, errbuf, errlen);
		if (err)
			goto out;
	}
	err = add_rows(rows, result->nr, prof, meta, name, errbuf, errlen);
out:
	free(rows);
	jfree(&root);
	return err;
}

bool kx_prom_json_sniff(const void *head, size_t len)
{
	const char *p = head;

	while (len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++, len--;
	return len && *p == '{';
}
