// SPDX-License-Identifier: GPL-2.0-only
/* Escaping of untrusted text for the terminal, Markdown and JSON. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/*
 * The length of the valid UTF-8 sequence at s (1-4), with its code point
 * in *cp, or 0 when s does not start one (a stray continuation byte, an
 * overlong form, a surrogate, beyond U+10FFFF, or cut short).
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points a terminal would act on: C0, DEL, C1, bidi embeddings, overrides and isolates. */
static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

static void put_control(FILE *f, uint32_t c, enum esc_kind kind)
{
	if (c == '\n')
		fputs("\\n", f);
	else if (c == '\r')
		fputs("\\r", f);
	else if (c == '\t')
		fputs("\\t", f);
	else if (kind == ESC_JSON || c > 0xff)
		fprintf(f, "\\u%04x", (unsigned int)c);
	else
		fprintf(f, "\\x%02x", (unsigned int)c);
}

void esc_write(FILE *f, const char *str, enum esc_kind kind)
{
	const unsigned char *s = (const unsigned char *)str;

	while (s && *s) {
		uint32_t c;
		size_t n = utf8_seq(s, &c);

		if (!n) {
			if (kind == ESC_JSON)
				fputs("\\ufffd", f);
			else
				fprintf(f, "\\x%02x", *s);
			s++;
			continue;
		}
		if (is_control(c)) {
			put_control(f, c, kind);
		} else if (kind == ESC_JSON && (c == '"' || c == '\\')) {
			fprintf(f, "\\%c", (int)c);
		} else if (kind == ESC_MARKDOWN && (c == '&' || c == '<' || c == '>')) {
			fputs(c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;", f);
		} else if (kind == ESC_MARKDOWN && c < 0x80 && strchr("\\`*_[]#|!~", (int)c)) {
			fprintf(f, "\\%c", (int)c);
		} else {
			fwrite(s, 1, n, f);
		}
		s += n;
	}
}

bool esc_needed(const char *s, enum esc_kind kind)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || (kind == ESC_JSON && strchr("\"\\", c)) ||
		    (kind == ESC_MARKDOWN && strchr("&<>\\`*_[]#|!~", c)))
			return true;
	}
	return false;
}

char *esc_dup(const char *s, enum esc_kind kind)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	esc_write(f, s, kind);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void esc_warn(const char *prog, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: ", prog);
	if (n < 0)
		fputs("out of memory", stderr);
	else
		esc_write(stderr, msg, ESC_TEXT);
	fputc('\n', stderr);
	free(msg);
}
