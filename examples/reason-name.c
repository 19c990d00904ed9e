// SPDX-License-Identifier: GPL-2.0-only
/*
 * reason-name: name a raw exit reason, or look a reason up by name.
 *
 *	./reason-name vmx 0x80000021	FAILED_VMENTRY flag + basic reason 33
 *	./reason-name svm npf		a name works as well as a number
 */
#include <stdio.h>
#include <string.h>
#include <kvmexit.h>

int main(int argc, char **argv)
{
	const struct kvmexit_reason *r;
	enum kvmexit_isa isa;
	char name[64], flags[128];
	uint32_t code;

	if (argc != 3 || (strcmp(argv[1], "vmx") && strcmp(argv[1], "svm"))) {
		fprintf(stderr, "usage: %s vmx|svm REASON\n", argv[0]);
		return 2;
	}
	isa = strcmp(argv[1], "vmx") ? KVMEXIT_ISA_SVM : KVMEXIT_ISA_VMX;
	/* A name ("EPT_VIOLATION", any case), a number, or UNKNOWN(0x..). */
	if (kvmexit_reason_parse(isa, argv[2], &code) < 0) {
		fprintf(stderr, "'%s' is not a %s exit reason\n", argv[2],
			kvmexit_isa_name(isa));
		return 1;
	}
	kvmexit_reason_name(isa, code, name, sizeof(name));
	printf("%s 0x%x: %s\n", kvmexit_isa_name(isa), code, name);

	/* VMX keeps flags above bit 15; the table has the basic reason. */
	if (isa == KVMEXIT_ISA_VMX && kvmexit_vmx_flags(code)) {
		kvmexit_vmx_flags_str(code, flags, sizeof(flags));
		printf("flags: %s\n", flags);
	}
	r = kvmexit_reason_lookup(isa, code);
	if (r)
		printf("category: %s\ndescription: %s\n",
		       kvmexit_category_name(r->category), r->description);
	return 0;
}
