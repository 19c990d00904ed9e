// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the kernel says what it can record and how kvm is set up: tracefs
 * (event ids and format texts of the kvm tracepoints), /sys/module (kvm
 * module parameters) and /proc (CPU vendor, kernel release, host name).
 * Every lookup takes a root directory, so tests can point it at fixtures.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "internal.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static const char *const event_names[] = {
	[KVMEXIT_EV_EXIT] = "kvm_exit",
	[KVMEXIT_EV_ENTRY] = "kvm_entry",
	[KVMEXIT_EV_USERSPACE_EXIT] = "kvm_userspace_exit",
	[KVMEXIT_EV_PIO] = "kvm_pio",
	[KVMEXIT_EV_MMIO] = "kvm_mmio",
	[KVMEXIT_EV_MSR] = "kvm_msr",
};

const char *kx_event_name(enum kvmexit_event_type type)
{
	if ((size_t)type >= KX_ARRAY_SIZE(event_names))
		return NULL;
	return event_names[type];
}

/* Reads a whole small file into a new NUL-terminated buffer. */
static int read_file(const char *path, char **text, size_t *len)
{
	size_t alloc = 4096, n = 0;
	char *buf = malloc(alloc);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 == alloc) {
			char *p = realloc(buf, alloc * 2);

			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
			alloc *= 2;
		}
		r = read(fd, buf + n, alloc - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	if (len)
		*len = n;
	return 0;
}

/* Reads the first line of ROOT/REL (without its newline) into buf. */
static int read_line(const char *root, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX], *text;
	int err;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	err = read_file(path, &text, NULL);
	if (err)
		return err;
	snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
	return 0;
}

static bool is_tracefs(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int kx_tracefs_find(const char *hint, char *path, size_t size, char *errmsg)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	if (hint) {
		if (!is_tracefs(hint))
			return kx_error(errmsg, -ENOENT,
					"%s is not tracefs (no events directory in it): "
					"give the directory where tracefs is mounted", hint);
		snprintf(path, size, "%s", hint);
		return 0;
	}
	for (size_t i = 0; i < KX_ARRAY_SIZE(dirs); i++) {
		if (is_tracefs(dirs[i])) {
			snprintf(path, size, "%s", dirs[i]);
			return 0;
		}
	}
	if (mount("nodev", dirs[0], "tracefs", 0, NULL) < 0 || !is_tracefs(dirs[0]))
		return kx_error(errmsg, -errno ? -errno : -ENOENT,
				"tracefs not found in /sys/kernel/tracing or /sys/kernel/debug/tracing "
				"and mounting it failed (%s): run as root, or "
				"mount -t tracefs nodev /sys/kernel/tracing", strerror(errno));
	snprintf(path, size, "%s", dirs[0]);
	return 0;
}

int kx_tracefs_event_id(const char *tracefs, const char *event, uint64_t *id)
{
	char rel[128], buf[32], *end;
	int err;

	snprintf(rel, sizeof(rel), "events/kvm/%s/id", event);
	err = read_line(tracefs, rel, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*id = strtoull(buf, &end, 10);
	return (errno || end == buf || *end) ? -KVMEXIT_EFORMAT : 0;
}

int kx_tracefs_event_format(const char *tracefs, const char *event,
			    char **text, size_t *len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/events/kvm/%s/format", tracefs, event);
	return read_file(path, text, len);
}

/* "key<spaces>: value" lines of /proc/cpuinfo; the first processor's. */
static const char *cpuinfo_value(const char *text, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');

		if (!strncmp(line, key, klen) && (line[klen] == ' ' || line[klen] == '\t' ||
						  line[klen] == ':')) {
			const char *v = strchr(line, ':');

			if (v && (!nl || v < nl)) {
				v++;
				while (*v == ' ')
					v++;
				*vlen = nl ? (size_t)(nl - v) : strlen(v);
				return v;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static void cpuinfo_copy(const char *text, const char *key, char *dst, size_t size)
{
	size_t vlen;
	const char *v = cpuinfo_value(text, key, &vlen);

	if (v)
		snprintf(dst, size, "%.*s", (int)vlen, v);
}

static void host_cpuinfo(const char *root, struct kvmexit_meta *meta)
{
	char path[PATH_MAX], family[16] = "", model[16] = "", stepping[16] = "", *text;
	uint32_t nr = 0;

	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	if (read_file(path, &text, NULL))
		return;
	cpuinfo_copy(text, "vendor_id", meta->vendor, sizeof(meta->vendor));
	cpuinfo_copy(text, "model name", meta->cpu_desc, sizeof(meta->cpu_desc));
	cpuinfo_copy(text, "cpu family", family, sizeof(family));
	cpuinfo_copy(text, "model", model, sizeof(model));
	cpuinfo_copy(text, "stepping", stepping, sizeof(stepping));
	for (const char *p = text; (p = strstr(p, "processor")); p++)
		if (p == text || p[-1] == '\n')
			nr++;
	free(text);
	/* perf's CPUID feature for x86: vendor,family,model,stepping */
	if (meta->vendor[0] && family[0])
		snprintf(meta->cpuid, sizeof(meta->cpuid), "%s,%s,%s,%s", meta->vendor,
			 family, model, stepping);
	if (nr)
		meta->nr_cpus = nr;
	if (meta->vendor[0])
		meta->isa = kx_isa_from_vendor(meta->vendor);
}

static int module_params(const char *root, const char *module, struct kvmexit_meta *meta)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(dir, sizeof(dir), "%s/sys/module/%s/parameters", root, module);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && !err) {
		char rel[PATH_MAX], value[48];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(meta->params[0].name))
			continue;
		snprintf(rel, sizeof(rel), "sys/module/%s/parameters/%s", module, de->d_name);
		if (read_line(root, rel, value, sizeof(value)))
			continue;	/* write-only or unreadable parameter */
		err = kx_meta_set_param(meta, de->d_name, value);
		if (err == -ENOSPC)
			err = 0;	/* the table keeps the first ones */
	}
	closedir(d);
	return err;
}

/* kvm_intel or kvm_amd; else another kvm_* vendor module (e.g. kvm_pvm). */
static void host_kvm_module(const char *root, struct kvmexit_meta *meta)
{
	static const char *const known[] = { "kvm_intel", "kvm_amd" };
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < KX_ARRAY_SIZE(known); i++) {
		if (!module_params(root, known[i], meta)) {
			snprintf(meta->kvm_module, sizeof(meta->kvm_module), "%s", known[i]);
			return;
		}
	}
	snprintf(dir, sizeof(dir), "%s/sys/module", root);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "kvm_", 4) || strlen(de->d_name) >= sizeof(meta->kvm_module))
			continue;
		if (!module_params(root, de->d_name, meta)) {
			snprintf(meta->kvm_module, sizeof(meta->kvm_module), "%s", de->d_name);
			break;
		}
	}
	closedir(d);
}

int kx_host_meta(const char *root, struct kvmexit_meta *meta)
{
	host_cpuinfo(root, meta);
	(void)read_line(root, "proc/sys/kernel/osrelease", meta->osrelease, sizeof(meta->osrelease));
	(void)read_line(root, "proc/sys/kernel/hostname", meta->hostname, sizeof(meta->hostname));
#if defined(__x86_64__)
	if (!meta->arch[0])
		snprintf(meta->arch, sizeof(meta->arch), "x86_64");
#endif
	host_kvm_module(root, meta);
	return 0;
}

int kx_perf_paranoid(const char *root)
{
	char buf[16], *end;
	long v;

	if (read_line(root, "proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)))
		return INT_MIN;
	v = strtol(buf, &end, 10);
	return end == buf ? INT_MIN : (int)v;
}
