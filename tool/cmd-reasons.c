// SPDX-License-Identifier: GPL-2.0-only
/* kvmexit reasons: print the exit-reason tables, as text or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kvmexit.h"
#include "commands.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmexit reasons [--isa vmx|svm] [--json]\n"
		"\n"
		"Lists the VM exit reasons kvmexit knows: code, the name kvm_exit prints,\n"
		"category and description.\n"
		"\n"
		"      --isa vmx|svm  list only the Intel VMX or the AMD SVM table\n"
		"  -J, --json         print a JSON array of {isa, code, name, category,\n"
		"                     description, linux} objects\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Names marked * come from the Intel SDM, the AMD APM or the GHCB\n"
		"specification; the kernel's kvm_exit tracepoint does not name them.\n");
}

/* "48 (0x30)" for VMX, whose codes are small; "0x400" for SVM. */
static void format_code(enum kvmexit_isa isa, uint32_t code, char *buf, size_t size)
{
	if (isa == KVMEXIT_ISA_VMX)
		snprintf(buf, size, "%u (0x%x)", code, code);
	else
		snprintf(buf, size, "0x%x", code);
}

static void format_name(const struct kvmexit_reason *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", r->name, r->linux_names ? "" : " *");
}

struct widths {
	int code, name, cat;
};

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void measure(enum kvmexit_isa isa, struct widths *w)
{
	const struct kvmexit_reason *t;
	char buf[128];
	size_t n, i;

	t = kvmexit_reason_table(isa, &n);
	for (i = 0; i < n; i++) {
		format_code(isa, t[i].code, buf, sizeof(buf));
		w->code = max_int(w->code, (int)strlen(buf));
		format_name(&t[i], buf, sizeof(buf));
		w->name = max_int(w->name, (int)strlen(buf));
		w->cat = max_int(w->cat, (int)strlen(kvmexit_category_name(t[i].category)));
	}
}

static void print_table(enum kvmexit_isa isa, const struct widths *w)
{
	const struct kvmexit_reason *t;
	char code[32], name[128];
	size_t n, i;

	t = kvmexit_reason_table(isa, &n);
	for (i = 0; i < n; i++) {
		format_code(isa, t[i].code, code, sizeof(code));
		format_name(&t[i], name, sizeof(name));
		printf("%-3s  %-*s  %-*s  %-*s  %s\n", kvmexit_isa_name(isa),
		       w->code, code, w->name, name, w->cat,
		       kvmexit_category_name(t[i].category), t[i].description);
	}
}

static void print_text(const enum kvmexit_isa *isas, size_t nisas)
{
	struct widths w = {
		.code = (int)strlen("CODE"),
		.name = (int)strlen("NAME"),
		.cat = (int)strlen("CATEGORY"),
	};
	size_t i;

	for (i = 0; i < nisas; i++)
		measure(isas[i], &w);
	printf("%-3s  %-*s  %-*s  %-*s  %s\n", "ISA", w.code, "CODE", w.name, "NAME",
	       w.cat, "CATEGORY", "DESCRIPTION");
	for (i = 0; i < nisas; i++)
		print_table(isas[i], &w);
	printf("\n* not named by the kernel's kvm_exit tracepoint "
	       "(Intel SDM, AMD APM or GHCB specification)\n");
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const enum kvmexit_isa *isas, size_t nisas)
{
	const struct kvmexit_reason *t;
	const char *sep = "\n";
	size_t n, i, k;

	putchar('[');
	for (k = 0; k < nisas; k++) {
		t = kvmexit_reason_table(isas[k], &n);
		for (i = 0; i < n; i++) {
			printf("%s  {\"isa\": ", sep);
			json_string(kvmexit_isa_name(isas[k]));
			printf(", \"code\": %u, \"name\": ", t[i].code);
			json_string(t[i].name);
			fputs(", \"category\": ", stdout);
			json_string(kvmexit_category_name(t[i].category));
			fputs(", \"description\": ", stdout);
			json_string(t[i].description);
			printf(", \"linux\": %s}", t[i].linux_names ? "true" : "false");
			sep = ",\n";
		}
	}
	printf("%s]\n", *sep == ',' ? "\n" : "");
}

static int parse_isa(const char *arg, enum kvmexit_isa *isa)
{
	if (!strcasecmp(arg, "vmx"))
		*isa = KVMEXIT_ISA_VMX;
	else if (!strcasecmp(arg, "svm"))
		*isa = KVMEXIT_ISA_SVM;
	else
		return -1;
	return 0;
}

/* Short options mean the same in every command: see kvmexit(1). */
enum { OPT_ISA = 256 };

int cmd_reasons(int argc, char **argv)
{
	static const struct option options[] = {
		{ "isa", required_argument, NULL, OPT_ISA },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum kvmexit_isa isas[2] = { KVMEXIT_ISA_VMX, KVMEXIT_ISA_SVM };
	size_t nisas = 2;
	bool json = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":Jh", options, NULL)) != -1) {
		switch (c) {
		case OPT_ISA:
			if (parse_isa(optarg, &isas[0])) {
				fprintf(stderr, "kvmexit reasons: unknown ISA '%s': "
					"use vmx or svm\n", optarg);
				return 2;
			}
			nisas = 1;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "kvmexit reasons: option '%s' needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "kvmexit reasons: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmexit reasons: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (json)
		print_json(isas, nisas);
	else
		print_text(isas, nisas);
	if (fflush(stdout) || ferror(stdout)) {
		perror("kvmexit reasons: cannot write the output");
		return 1;
	}
	return 0;
}
