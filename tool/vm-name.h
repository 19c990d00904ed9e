/* SPDX-License-Identifier: GPL-2.0-only */
/* VM names for live views (tool/vm-name.c). */
#ifndef KVMEXIT_TOOL_VM_NAME_H
#define KVMEXIT_TOOL_VM_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The name of the VM whose VMM process is pid, from /proc: kvmexit_vm_name()
 * of its command line (QEMU's -name, libvirt's domain), else the comm;
 * control bytes become '?'.  Returns 0, or a negative errno (-ENOENT: the
 * process is gone).
 */
int vm_name_live(int32_t pid, char *buf, size_t size);

/* A name from elsewhere (a capture's metadata), control bytes as '?'. */
void vm_name_set(const char *name, char *buf, size_t size);

/* Whether the process still runs. */
bool vm_alive(int32_t pid);

#endif
