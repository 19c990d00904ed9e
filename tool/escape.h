/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text from a capture or a count table (host name, kernel release, CPU
 * name, command line, comm, labels, guest symbol names) and the library's
 * messages that quote it are untrusted: escaped before they reach a
 * terminal, a Markdown page or a JSON document.  Every output goes through
 * these, so no escape sequence, carriage return or line break of the
 * input is ever printed raw.
 */
#ifndef KVMEXIT_TOOL_ESCAPE_H
#define KVMEXIT_TOOL_ESCAPE_H

#include <stdio.h>

enum esc_kind {
	/*
	 * Terminal and CSV: valid UTF-8 text passes; control characters (C0,
	 * DEL, C1), bidirectional overrides and bytes that are not UTF-8
	 * become \n, \r, \t, \xNN or \uNNNN.
	 */
	ESC_TEXT,
	/* As ESC_TEXT, and & < > as HTML entities, \ ` * _ [ ] # | ! ~ with a backslash. */
	ESC_MARKDOWN,
	/* A JSON string's contents: " \ and controls escaped; bytes that are not UTF-8 as U+FFFD. */
	ESC_JSON,
};

#include <stdbool.h>

void esc_write(FILE *f, const char *s, enum esc_kind kind);
/* False when esc_write() would write s unchanged. */
bool esc_needed(const char *s, enum esc_kind kind);
/* The escaped text in a new string; NULL when out of memory. */
char *esc_dup(const char *s, enum esc_kind kind);
/*
 * A message to stderr, "PROG: " first: the formatted text is escaped as
 * ESC_TEXT (its %s arguments may quote a capture), then a newline added.
 */
void esc_warn(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
