/* SPDX-License-Identifier: GPL-2.0-only */
/* VM names for live views (tool/vm-name.c). */
#ifndef KVMEXIT_TOOL_VM_NAME_H
#define KVMEXIT_TOOL_VM_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The name of the VM whose VMM process is pid, from /proc: QEMU's -name
 * (guest=NAME, as libvirt sets it, or NAME), else the comm; control bytes
 * become '?'.  Returns 0, or a negative errno (-ENOENT: the process is gone).
 */
int vm_name_live(int32_t pid, char *buf, size_t size);

/* Whether the process still runs. */
bool vm_alive(int32_t pid);

#endif
