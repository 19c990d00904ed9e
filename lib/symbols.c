// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest symbols: guest RIP -> "function+0xoffset".
 *
 * Two sources, told apart by their first bytes:
 *  - an ELF file (a guest vmlinux, or any executable): FUNC and OBJECT
 *    symbols of .symtab, or of .dynsym when there is no .symtab, read with
 *    libelf.  A symbol with a size covers [value, value + size); one of
 *    size 0 covers up to the next symbol.
 *  - a kallsyms text ("ffffffff81000000 T _stext", /proc/kallsyms of the
 *    guest): each symbol covers up to the next one (the last, as in perf,
 *    up to the end of the page after the one it starts in).
 * Symbols are sorted by address; a lookup is a binary search.  Of several
 * symbols at one address, the one kept is, in order: sized, FUNC (or a
 * text symbol), global, then the first name in byte order.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct sym {
	uint64_t addr, size;		/* size 0: up to the next symbol */
	uint32_t name;			/* offset in names */
	uint8_t rank;			/* lower is preferred at one address */
};

struct kvmexit_symbols {
	struct sym *v;
	size_t nr, alloc;
	char *names;
	size_t names_len, names_alloc;
};

static int sym_add(struct kvmexit_symbols *s, uint64_t addr, uint64_t size,
		   const char *name, size_t len, uint8_t rank)
{
	if (s->nr == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 1024;
		struct sym *v = realloc(s->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->alloc = n;
	}
	if (s->names_len + len + 1 > s->names_alloc) {
		size_t n = (s->names_alloc + len + 1) * 2;
		char *p;

		if (n > UINT32_MAX)
			return -E2BIG;
		p = realloc(s->names, n);
		if (!p)
			return -ENOMEM;
		s->names = p;
		s->names_alloc = n;
	}
	memcpy(s->names + s->names_len, name, len);
	s->names[s->names_len + len] = '\0';
	s->v[s->nr++] = (struct sym){
		.addr = addr, .size = size, .name = (uint32_t)s->names_len, .rank = rank,
	};
	s->names_len += len + 1;
	return 0;
}

/* Address, then preference, then name (names is the string pool). */
static int sym_cmp_r(const void *a, const void *b, void *names)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp((const char *)names + x->name, (const char *)names + y->name);
}

/* Sorts by address and keeps the preferred symbol of each address. */
static void sym_finish(struct kvmexit_symbols *s)
{
	size_t n = 0;

	qsort_r(s->v, s->nr, sizeof(*s->v), sym_cmp_r, s->names);
	for (size_t i = 0; i < s->nr; i++)
		if (!n || s->v[n - 1].addr != s->v[i].addr)
			s->v[n++] = s->v[i];
	s->nr = n;
}

/* ---------------------------------------------------------------- ELF */

static Elf_Scn *find_symtab(Elf *elf, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL, *dyn = NULL;
	GElf_Shdr dyn_shdr, sh;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			*shdr = sh;
			return scn;
		}
		if (sh.sh_type == SHT_DYNSYM && !dyn) {
			dyn = scn;
			dyn_shdr = sh;
		}
	}
	if (dyn)
		*shdr = dyn_shdr;
	return dyn;
}

static uint8_t elf_rank(const GElf_Sym *sym)
{
	return (sym->st_size ? 0 : 4) + (GELF_ST_TYPE(sym->st_info) == STT_FUNC ? 0 : 2) +
	       (GELF_ST_BIND(sym->st_info) == STB_GLOBAL ? 0 : 1);
}

static int read_elf_syms(struct kvmexit_symbols *s, Elf *elf, const char *path, char *err)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_symtab(elf, &shdr);
	Elf_Data *data;
	size_t n;

	if (!scn)
		return kx_error(err, -ENOENT, "%s: no .symtab or .dynsym section (stripped?): "
				"use an unstripped guest vmlinux or a kallsyms file", path);
	data = elf_getdata(scn, NULL);
	if (!data || !shdr.sh_entsize)
		return kx_error(err, -KVMEXIT_EFORMAT, "%s: cannot read the symbol table: %s",
				path, elf_errmsg(-1));
	n = shdr.sh_size / shdr.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type, e;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		e = sym_add(s, sym.st_value, sym.st_size, name, strlen(name), elf_rank(&sym));
		if (e)
			return kx_error(err, e, "%s: cannot keep its symbols: %s", path,
					kvmexit_strerror(e));
	}
	if (!s->nr)
		return kx_error(err, -ENOENT, "%s: no function or object symbols", path);
	return 0;
}

static int open_elf(struct kvmexit_symbols *s, const char *path, char *err)
{
	Elf *elf;
	int fd, ret;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return kx_error(err, -EINVAL, "libelf is too old: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kx_error(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		/* libelf sets no error for a file too short for an ELF header. */
		int e = elf_errno();
		struct stat st;

		if (e)
			ret = kx_error(err, -KVMEXIT_EFORMAT, "%s: not a readable ELF file: %s",
				       path, elf_errmsg(e));
		else if (!fstat(fd, &st) && st.st_size < 64)
			ret = kx_error(err, -KVMEXIT_EFORMAT, "%s: not a readable ELF file: %lld "
				       "bytes, shorter than a 64-bit ELF header (64)", path,
				       (long long)st.st_size);
		else
			ret = kx_error(err, -KVMEXIT_EFORMAT, "%s: not a readable ELF file: its "
				       "header is not a valid ELF header", path);
	} else {
		ret = read_elf_syms(s, elf, path, err);
	}
	elf_end(elf);
	close(fd);
	return ret;
}

/* ----------------------------------------------------------- kallsyms */

/* Global text, weak, local text, then other global and local symbols. */
static uint8_t kallsyms_rank(char type)
{
	switch (type) {
	case 'T':
		return 0;
	case 'W':
		return 1;
	case 't':
		return 2;
	case 'w':
		return 3;
	default:
		return isupper((unsigned char)type) ? 4 : 5;
	}
}

/* One line: "ADDRESS TYPE NAME [\t[module]]".  1: skipped, 0: added. */
static int kallsyms_line(struct kvmexit_symbols *s, char *line, bool *nonzero)
{
	char *end, *name;
	uint64_t addr;
	char type;
	size_t len;

	errno = 0;
	addr = strtoull(line, &end, 16);
	if (errno || end == line || (*end != ' ' && *end != '\t'))
		return -KVMEXIT_EFORMAT;
	while (*end == ' ' || *end == '\t')
		end++;
	type = *end++;
	if (!isalpha((unsigned char)type) || (*end != ' ' && *end != '\t'))
		return -KVMEXIT_EFORMAT;
	while (*end == ' ' || *end == '\t')
		end++;
	name = end;
	len = strcspn(name, " \t\r\n");
	if (!len)
		return -KVMEXIT_EFORMAT;
	/* Undefined and absolute symbols are not code. */
	if (type == 'U' || type == 'u' || type == 'a' || type == 'A')
		return 1;
	if (addr)
		*nonzero = true;
	return sym_add(s, addr, 0, name, len, kallsyms_rank(type));
}

static int open_kallsyms(struct kvmexit_symbols *s, const char *path, FILE *f, char *err)
{
	bool nonzero = false;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int ret = 0;

	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		ret = kallsyms_line(s, line, &nonzero);
		if (ret == -KVMEXIT_EFORMAT) {
			ret = kx_error(err, ret, "%s:%zu: not a kallsyms line "
				       "(expected 'ADDRESS TYPE NAME') and not an ELF file",
				       path, lineno);
			break;
		}
		if (ret < 0) {
			ret = kx_error(err, ret, "%s: cannot keep its symbols: %s", path,
				       kvmexit_strerror(ret));
			break;
		}
		ret = 0;
	}
	free(line);
	if (!ret && ferror(f))
		ret = kx_error(err, -EIO, "%s: read error", path);
	if (!ret && !s->nr)
		ret = kx_error(err, -ENOENT, "%s: no symbols in it", path);
	if (!ret && !nonzero)
		ret = kx_error(err, -ENOENT, "%s: every address is 0: kallsyms was read without "
			       "privilege (kptr_restrict); read the guest's /proc/kallsyms as root",
			       path);
	return ret;
}

KVMEXIT_API int kvmexit_symbols_open(const char *path, struct kvmexit_symbols **out,
				     char *errbuf, size_t errlen)
{
	char err[KX_ERRMSG_SIZE] = "";
	struct kvmexit_symbols *s;
	unsigned char magic[4] = { 0 };
	FILE *f;
	int ret;

	if (!path || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		ret = kx_error(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	} else {
		size_t n = fread(magic, 1, sizeof(magic), f);

		if (n == 4 && !memcmp(magic, ELFMAG, SELFMAG)) {
			ret = open_elf(s, path, err);
		} else {
			rewind(f);
			ret = open_kallsyms(s, path, f, err);
		}
		fclose(f);
	}
	if (ret) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", err);
		kvmexit_symbols_free(s);
		return ret;
	}
	sym_finish(s);
	*out = s;
	return 0;
}

/* The last symbol at or below addr, or NULL. */
static const struct sym *sym_floor(const struct kvmexit_symbols *s, uint64_t addr, size_t *idx)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	*idx = lo - 1;
	return &s->v[lo - 1];
}

KVMEXIT_API int kvmexit_symbols_lookup(const struct kvmexit_symbols *s, uint64_t addr,
				       char *buf, size_t size)
{
	const struct sym *sym;
	size_t i;
	int n;

	if (!s || (!buf && size))
		return -EINVAL;
	sym = sym_floor(s, addr, &i);
	if (!sym)
		return -ENOENT;
	if (sym->size && addr - sym->addr >= sym->size)
		return -ENOENT;
	/* Unsized: up to the next symbol; the last one, as perf does, to the
	 * page boundary after the one it starts in. */
	if (!sym->size && i + 1 == s->nr &&
	    addr - sym->addr >= ((sym->addr + 4095) & ~4095ull) + 4096 - sym->addr)
		return -ENOENT;
	n = snprintf(buf, size, "%s+0x%" PRIx64, s->names + sym->name, addr - sym->addr);
	return n < 0 ? -EINVAL : n;
}

KVMEXIT_API void kvmexit_symbols_free(struct kvmexit_symbols *s)
{
	if (!s)
		return;
	free(s->v);
	free(s->names);
	free(s);
}
