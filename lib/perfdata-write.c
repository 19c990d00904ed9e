// SPDX-License-Identifier: GPL-2.0-only
/*
 * perf.data writer, file mode, readable by stock perf 6.1.
 *
 * Layout of a capture:
 *
 *   0            perf_file_header (104 bytes)
 *   104          attrs: per event a perf_event_attr (128 bytes, perf 6.1
 *                rejects larger ones) and the perf_file_section of its ids
 *                the id arrays
 *                the contents of the feature sections: TRACING_DATA,
 *                HOSTNAME, VERSION (with kvmexit's metadata in a slot
 *                padded with NULs, rewritten in place, or the section moved
 *                to the end of the file when the metadata outgrows it), ...,
 *                SAMPLE_TIME (a slot rewritten in place)
 *   data.offset  FINISHED_ROUND, then the feature table, then round 1, a
 *                FINISHED_ROUND, the feature table again, round 2, ...
 *
 * perf finds the feature table at data.offset + data.size, and the table
 * only holds offsets, so the sections themselves can come first, written
 * once.  After every round the writer appends the table (about 200 bytes)
 * and then moves data.size in the header to the round's end: at every
 * moment the header describes a complete capture, whatever happens to the
 * process or the disk afterwards.  The tables of earlier rounds stay in the
 * data, where perf and our reader must read them as records: the table
 * starts with an entry for feature bit 0 (HEADER_RESERVED, which perf reads
 * and ignores), whose 16 bytes are a FINISHED_ROUND record header of the
 * table's size.  So the data is a valid record stream throughout.
 *
 * kvmexit's metadata (kx_meta_encode()) rides in the VERSION section,
 * after the NUL that ends the version string: perf reads a string feature
 * as a u32 length and that many bytes, NUL padded, and uses the text before
 * the first NUL (do_read_string(): "strings are padded by zeroes").  perf
 * inject copies VERSION as it is (keep_feat() in builtin-inject.c), so the
 * metadata goes through it.  A feature bit of kvmexit's own (250, used up to
 * 0.1) does not: perf 6.1 inject calls feat_ops[bit].write for every set bit
 * and crashes on one past its table.  The reader still reads bit 250.
 *
 * A write error (a full disk) stops the writer: _close() truncates the file
 * at the end of the last complete round, rewrites the slots, which need no
 * new space, and returns the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perf/event.h>

#include "internal.h"

_Static_assert(sizeof(struct perf_event_attr) >= KX_ATTR_FILE_SIZE,
	       "perf_event_attr smaller than the attrs captures store");

#define PERF_MAGIC2		0x32454c4946524550ULL	/* "PERFILE2" */
#define HEADER_SIZE		104
#define ATTR_ENTRY_SIZE		(KX_ATTR_FILE_SIZE + 16)
#define BUF_SIZE		(1u << 20)
#define NAME_ALIGN		64
#define META_SLOT_SPARE		4096
#define VERSION_TEXT		"kvmexit " PACKAGE_VERSION	/* perf's HEADER_VERSION */

/* perf's feature bits (tools/perf/util/header.h). */

/* Offsets in struct perf_file_header. */
#define HDR_DATA_SIZE_OFF	48

/* The kernel's tracefs texts, identical on every x86_64 kernel since 3.x. */
static const char header_page_x86_64[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
static const char header_event_x86_64[] =
	"# compressed entry header\n"
	"\ttype_len    :    5 bits\n"
	"\ttime_delta  :   27 bits\n"
	"\tarray       :   32 bits\n"
	"\n"
	"\tpadding     : type == 29\n"
	"\ttime_extend : type == 30\n"
	"\ttime_stamp : type == 31\n"
	"\tdata max type_len  == 28\n";

struct wevent {
	struct perf_event_attr attr;
	uint64_t *ids;
	size_t nr_ids;
	char *system;
	char *format;
	size_t format_len;
	int type;			/* enum kvmexit_event_type, or -1 */
	uint32_t raw_size;		/* bytes after the u32 size of RAW */
	const struct kx_layout *layout;	/* kvm events: where each field goes */
};

struct kvmexit_writer {
	int fd;
	char *path;
	/*
	 * With force: the file is written as dir_fd/tmp_name and renamed
	 * over dir_fd/base_name once its header is out (tmp_name NULL then).
	 */
	int dir_fd;
	char *tmp_name, *base_name;
	uint64_t sample_type;
	struct kvmexit_meta meta;
	struct kx_counts counts;
	struct kx_formats *formats;	/* the tracepoints' layouts (lib/format.c) */
	struct wevent *ev;
	size_t nr_ev;
	int by_type[KVMEXIT_EV__MAX];	/* first event of each type, or -1 */

	bool pipe;			/* "-": pipe mode to standard output */
	bool frozen;			/* header, attrs and sections written */
	bool dirty;			/* records since the last round's end */
	bool samples;			/* samples or records were written */
	int err;			/* first error, sticky */
	char errmsg[KX_ERRMSG_SIZE];

	char *buf;			/* output buffer for file offset pos */
	size_t len;
	uint64_t pos;

	uint64_t data_offset;
	uint64_t round_end;		/* end of the last complete round */
	uint64_t feat[FEAT_BITS / 64];
	unsigned char *table;		/* the feature table, as written */
	size_t table_size;
	size_t meta_entry;		/* offset of VERSION's entry (the metadata's) */
	uint64_t time_slot, meta_slot, meta_slot_size;
	uint64_t first_time, last_time;	/* of samples written */
	uint64_t round_first, round_last; /* of complete rounds */
	int time_pos;			/* of TIME in raw samples, or -1 */
};

/* ------------------------------------------------------------ errors */

static int fail(struct kvmexit_writer *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kvmexit_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return w->err;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	w->err = err;
	return err;
}

/* An error in how the API was used: reported, but the capture goes on. */
static int misuse(struct kvmexit_writer *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int misuse(struct kvmexit_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (!w->err) {
		va_start(ap, fmt);
		vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
		va_end(ap);
	}
	return err;
}

KVMEXIT_API const char *kvmexit_writer_errmsg(const struct kvmexit_writer *w)
{
	return w ? w->errmsg : "";
}

/* ------------------------------------------------------------ output */

static int write_all(struct kvmexit_writer *w, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t r = w->pipe ? write(w->fd, c, n) : pwrite(w->fd, c, n, w->pos);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			if (w->pipe)
				return fail(w, -e, "writing to standard output at byte %" PRIu64
					    ": %s", w->pos, strerror(e));
			return fail(w, -e, "writing %s at byte %" PRIu64 ": %s; the capture keeps "
				    "the rounds written before (%" PRIu64 " bytes of data)",
				    w->path, w->pos, strerror(e),
				    w->round_end > w->data_offset ? w->round_end - w->data_offset : 0);
		}
		c += r;
		n -= r;
		w->pos += r;
	}
	return 0;
}

static int flush(struct kvmexit_writer *w)
{
	size_t n = w->len;

	if (w->err)
		return w->err;
	w->len = 0;
	return write_all(w, w->buf, n);
}

/* Room for n bytes in the buffer (n <= BUF_SIZE), or NULL after an error. */
static inline void *reserve(struct kvmexit_writer *w, size_t n)
{
	void *p;

	if (w->len + n > BUF_SIZE && flush(w))
		return NULL;
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static int emit(struct kvmexit_writer *w, const void *p, size_t n)
{
	void *d;

	if (w->err)
		return w->err;
	if (n > BUF_SIZE) {
		if (flush(w))
			return w->err;
		return write_all(w, p, n);
	}
	d = reserve(w, n);
	if (!d)
		return w->err;
	memcpy(d, p, n);
	return 0;
}

static int emit_u32(struct kvmexit_writer *w, uint32_t v)
{
	return emit(w, &v, sizeof(v));
}

static int emit_u64(struct kvmexit_writer *w, uint64_t v)
{
	return emit(w, &v, sizeof(v));
}

/* The offset the next emitted byte will have in the file. */
static uint64_t out_pos(const struct kvmexit_writer *w)
{
	return w->pos + w->len;
}

static int pwrite_all(struct kvmexit_writer *w, const void *p, size_t n, uint64_t off)
{
	const char *c = p;

	while (n) {
		ssize_t r = pwrite(w->fd, c, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			return fail(w, -e, "updating %s at byte %" PRIu64 ": %s", w->path, off,
				    strerror(e));
		}
		c += r;
		n -= r;
		off += r;
	}
	return 0;
}

/* ------------------------------------------------------------ open */

static int not_regular(const char *path, const struct stat *st, char *errbuf, size_t errlen)
{
	const char *what = S_ISLNK(st->st_mode) ? "a symbolic link" :
			   S_ISDIR(st->st_mode) ? "a directory" :
			   S_ISCHR(st->st_mode) ? "a character device" :
			   S_ISBLK(st->st_mode) ? "a block device" :
			   S_ISFIFO(st->st_mode) ? "a FIFO" :
			   S_ISSOCK(st->st_mode) ? "a socket" : "not a regular file";

	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s is %s: %s", path, what, S_ISLNK(st->st_mode) ?
			 "captures are never written through a link; give the target's path" :
			 "captures only replace regular files; give another path");
	return S_ISLNK(st->st_mode) ? -ELOOP : S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
}

/*
 * Opens the output.  Without force: a new file (O_EXCL, which never
 * follows a symlink).  With force: a new private file beside the path,
 * renamed over it by publish(), so the old file is never truncated, its
 * mode never changed, and a symlink or device planted at the path is
 * never written through.
 */
static int open_output(struct kvmexit_writer *w, const char *path, bool force, int flags,
		       char *errbuf, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir, *tmp;
	struct stat st;
	int err;

	if (!force || lstat(path, &st)) {
		if (force && errno != ENOENT)
			goto fail_errno;
		w->fd = open(path, flags | O_EXCL | O_NOFOLLOW, 0600);
		if (w->fd >= 0)
			return 0;
		if (errno != EEXIST)
			goto fail_errno;
		if (!lstat(path, &st) && !S_ISREG(st.st_mode))
			return not_regular(path, &st, errbuf, errlen);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s exists: use -f to overwrite", path);
		return -EEXIST;
	}
	if (!S_ISREG(st.st_mode))
		return not_regular(path, &st, errbuf, errlen);
	if (slash && !slash[1]) {
		errno = EISDIR;
		goto fail_errno;
	}
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	w->base_name = strdup(slash ? slash + 1 : path);
	if (!dir || !w->base_name || asprintf(&tmp, "%s/.%s.XXXXXX", dir, w->base_name) < 0) {
		free(dir);
		errno = ENOMEM;
		goto fail_errno;
	}
	w->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	w->fd = w->dir_fd < 0 ? -1 : mkostemp(tmp, O_CLOEXEC);	/* mode 0600 */
	if (w->fd < 0) {
		free(tmp);
		goto fail_errno;
	}
	w->tmp_name = strdup(strrchr(tmp, '/') + 1);
	if (!w->tmp_name) {
		unlink(tmp);
		free(tmp);
		errno = ENOMEM;
		goto fail_errno;
	}
	free(tmp);
	return 0;

fail_errno:
	err = -errno;
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "creating %s: %s", path, strerror(-err));
	if (w->fd >= 0)
		close(w->fd);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	free(w->base_name);
	return err;
}

KVMEXIT_API int kvmexit_writer_open(const char *path, const struct kvmexit_writer_opts *opts,
				    struct kvmexit_writer **out, char *errbuf, size_t errlen)
{
	struct kvmexit_writer_opts o = { 0 };
	struct kvmexit_writer *w;
	uint64_t allowed = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
			   PERF_SAMPLE_TIME | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID |
			   PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
	int err;

	*out = NULL;
	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.sample_type)
		o.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
				PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW;
	if ((o.sample_type & ~allowed) || !(o.sample_type & PERF_SAMPLE_RAW)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "sample_type 0x%" PRIx64 " not supported: the writer "
				 "writes IDENTIFIER, IP, TID, TIME, ID, STREAM_ID, CPU, PERIOD and RAW "
				 "(RAW required)", o.sample_type);
		return -EINVAL;
	}

	w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(BUF_SIZE)) || !(w->path = strdup(path))) {
		if (w)
			free(w->buf);
		free(w);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "creating %s: out of memory", path);
		return -ENOMEM;
	}
	w->sample_type = o.sample_type;
	if (o.meta)
		w->meta = *o.meta;
	for (int i = 0; i < KVMEXIT_EV__MAX; i++)
		w->by_type[i] = -1;
	w->time_pos = -1;

	w->fd = w->dir_fd = -1;
	if (!strcmp(path, "-")) {
		/* Pipe mode, as perf record -o -: a stream nothing rewrites. */
		err = isatty(STDOUT_FILENO) ? -ENOTTY : 0;
		w->pipe = true;
		free(w->path);
		w->path = strdup("standard output");
		if (!w->path)
			err = -ENOMEM;
		w->fd = err ? -1 : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (!err && w->fd < 0)
			err = -errno;
		if (err) {
			if (errbuf && errlen)
				snprintf(errbuf, errlen, err == -ENOTTY ?
					 "standard output is a terminal: pipe it into a command "
					 "(kvmexit report -, perf script -i -) or redirect it to a file" :
					 "standard output: %s", strerror(-err));
			goto out_free;
		}
		*out = w;
		return 0;
	}
	err = open_output(w, path, o.force, flags, errbuf, errlen);
	if (err)
		goto out_free;
	*out = w;
	return 0;

out_free:
	free(w->buf);
	free(w->path);
	free(w);
	return err;
}

/*
 * Puts the finished-enough file in place: after this, an interrupted
 * recording leaves a readable capture at the path.  Before, the file it
 * replaces stays as it was.
 */
static int publish(struct kvmexit_writer *w)
{
	if (!w->tmp_name)
		return 0;
	if (renameat(w->dir_fd, w->tmp_name, w->dir_fd, w->base_name)) {
		int e = errno;

		return fail(w, -e, "replacing %s: %s%s", w->path, strerror(e),
			    e == EPERM || e == EACCES ? ": in a sticky directory (/tmp) only "
			    "its owner may replace it; give another -o" : "");
	}
	free(w->tmp_name);
	w->tmp_name = NULL;
	return 0;
}


/* ------------------------------------------------------------ events */

/*
 * Resolves the fields of one format text with the reader's parser, so
 * that what the writer encodes is exactly what the reader decodes.
 */
static int parse_format(struct kvmexit_writer *w, struct wevent *e, const char *system)
{
	char msg[KX_ERRMSG_SIZE];
	uint64_t id;
	int err;

	if (!w->formats && kx_formats_new(8, &w->formats))
		return -ENOMEM;
	err = kx_formats_add(w->formats, system, e->format, e->format_len, msg);
	if (!err)
		err = kx_format_id(e->format, e->format_len, &id);
	if (err)
		return misuse(w, -KVMEXIT_EFORMAT, "tracepoint format of %s rejected (%s): pass "
			      "the text of tracefs events/%s/NAME/format", system,
			      err == -KVMEXIT_EFORMAT && msg[0] ? msg : kvmexit_strerror(err), system);
	e->attr.config = id;
	e->layout = kx_formats_layout(w->formats, id);
	e->type = e->layout ? (int)e->layout->type : -1;
	/* The kernel pads RAW so that the u32 size and the data end 8-aligned. */
	if (e->layout) {
		uint32_t end = (e->layout->fields_end + 7) & ~7u;

		e->raw_size = ((end + 4 + 7) & ~7u) - 4;
	}
	return 0;
}

KVMEXIT_API int kvmexit_writer_add_tracepoint(struct kvmexit_writer *w, const char *system,
					      const char *format_text)
{
	struct wevent *v, *e;
	int err;

	if (w->frozen)
		return misuse(w, -EINVAL, "tracepoint %s: added after the first record; add "
			      "every tracepoint before writing", system);
	v = realloc(w->ev, (w->nr_ev + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->ev = v;
	e = &v[w->nr_ev];
	memset(e, 0, sizeof(*e));
	e->format_len = strlen(format_text);
	e->format = strdup(format_text);
	e->system = strdup(system);
	e->ids = malloc(sizeof(*e->ids));
	if (!e->format || !e->system || !e->ids) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Own ids: unique, never 0 (perf reads id 0 as "no id"). */
	e->ids[0] = w->nr_ev + 1;
	e->nr_ids = 1;
	e->attr.type = PERF_TYPE_TRACEPOINT;
	e->attr.size = KX_ATTR_FILE_SIZE;
	e->attr.sample_period = 1;
	e->attr.sample_type = w->sample_type;
	e->attr.sample_id_all = 1;
	err = parse_format(w, e, system);
	if (err)
		goto out_free;
	if (e->type >= 0 && w->by_type[e->type] < 0)
		w->by_type[e->type] = w->nr_ev;
	return w->nr_ev++;

out_free:
	free(e->format);
	free(e->system);
	free(e->ids);
	return err;
}

struct perf_event_attr *kx_writer_attr(struct kvmexit_writer *w, int idx)
{
	if (w->frozen || idx < 0 || (size_t)idx >= w->nr_ev)
		return NULL;
	return &w->ev[idx].attr;
}

int kx_writer_set_ids(struct kvmexit_writer *w, int idx, const uint64_t *ids, size_t nr)
{
	struct wevent *e;
	uint64_t *v;

	if (w->frozen || idx < 0 || (size_t)idx >= w->nr_ev || nr == 0)
		return -EINVAL;
	e = &w->ev[idx];
	v = realloc(e->ids, nr * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, ids, nr * sizeof(*v));
	e->ids = v;
	e->nr_ids = nr;
	return 0;
}

/* ------------------------------------------------------------ sections */

static void feat_set(struct kvmexit_writer *w, int bit)
{
	w->feat[bit / 64] |= 1ULL << (bit % 64);
}

static int emit_string(struct kvmexit_writer *w, const char *s)
{
	static const char zeros[NAME_ALIGN];
	size_t n = strlen(s) + 1;
	uint32_t len = (n + NAME_ALIGN - 1) / NAME_ALIGN * NAME_ALIGN;

	emit_u32(w, len);
	emit(w, s, n - 1);
	return emit(w, zeros, len - (n - 1));
}

static int emit_tracing_data(struct kvmexit_writer *w)
{
	static const char magic[] = { 23, 8, 68, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	uint32_t nr_sys = 0;

	emit(w, magic, sizeof(magic));
	emit(w, "0.6", 4);
	emit(w, "\0\10", 2);		/* little endian, long is 8 bytes */
	emit_u32(w, 4096);		/* page size */
	emit(w, "header_page", 12);
	emit_u64(w, sizeof(header_page_x86_64) - 1);
	emit(w, header_page_x86_64, sizeof(header_page_x86_64) - 1);
	emit(w, "header_event", 13);
	emit_u64(w, sizeof(header_event_x86_64) - 1);
	emit(w, header_event_x86_64, sizeof(header_event_x86_64) - 1);
	emit_u32(w, 0);			/* ftrace formats */
	/* Systems in order of their first event; each with all its events. */
	for (size_t i = 0; i < w->nr_ev; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(w->ev[j].system, w->ev[i].system);
		nr_sys += !seen;
	}
	emit_u32(w, nr_sys);
	for (size_t i = 0; i < w->nr_ev; i++) {
		uint32_t count = 0;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(w->ev[j].system, w->ev[i].system);
		if (seen)
			continue;
		for (size_t j = i; j < w->nr_ev; j++)
			count += !strcmp(w->ev[j].system, w->ev[i].system);
		emit(w, w->ev[i].system, strlen(w->ev[i].system) + 1);
		emit_u32(w, count);
		for (size_t j = i; j < w->nr_ev; j++) {
			if (strcmp(w->ev[j].system, w->ev[i].system))
				continue;
			emit_u64(w, w->ev[j].format_len);
			emit(w, w->ev[j].format, w->ev[j].format_len);
		}
	}
	emit_u32(w, 0);			/* kallsyms */
	emit_u32(w, 0);			/* printk formats */
	return emit_u64(w, 0);		/* saved cmdlines */
}

static int encode_meta(struct kvmexit_writer *w, char **text, size_t *len)
{
	int err = kx_meta_encode(&w->meta, w->meta.counts_only ? &w->counts : NULL, text, len);

	if (err)
		return fail(w, err, "encoding the metadata of %s: %s", w->path, strerror(-err));
	return 0;
}

/*
 * Emits one feature section and records where it went.  The sections go
 * before the data, so a capture is readable before it is finished.
 */
struct sec {
	int bit;
	uint64_t offset, size;
};

static const int feature_bits[] = { FEAT_TRACING_DATA, FEAT_HOSTNAME, FEAT_OSRELEASE,
				    FEAT_VERSION, FEAT_ARCH, FEAT_NRCPUS, FEAT_CPUDESC,
				    FEAT_CPUID, FEAT_CMDLINE, FEAT_SAMPLE_TIME };

/* The payload of one feature, from the file offset start: 0, 1 when it has none, or the error. */
static int emit_feature(struct kvmexit_writer *w, int bit, uint64_t start)
{
	const struct kvmexit_meta *m = &w->meta;
	char *text = NULL;
	size_t len = 0;

	switch (bit) {
	case FEAT_TRACING_DATA:
		emit_tracing_data(w);
		break;
	case FEAT_HOSTNAME:
		emit_string(w, m->hostname);
		break;
	case FEAT_OSRELEASE:
		emit_string(w, m->osrelease);
		break;
	case FEAT_VERSION:	/* the version string, then the metadata */
		if (encode_meta(w, &text, &len))
			return w->err;
		w->meta_slot = start + 4 + sizeof(VERSION_TEXT);
		/* a pipe is never rewritten: no room to grow */
		w->meta_slot_size = w->pipe ? len : (len + META_SLOT_SPARE + 7) & ~7ULL;
		if (w->meta_slot_size > UINT32_MAX - sizeof(VERSION_TEXT)) {
			free(text);
			return fail(w, -E2BIG, "writing %s: metadata of %zu bytes is too large",
				    w->path, len);
		}
		emit_u32(w, (uint32_t)(sizeof(VERSION_TEXT) + w->meta_slot_size));
		emit(w, VERSION_TEXT, sizeof(VERSION_TEXT));
		emit(w, text, len);
		for (uint64_t pad = w->meta_slot_size - len; pad && !w->err; pad -= 8 < pad ? 8 : pad)
			emit(w, "\0\0\0\0\0\0\0\0", pad < 8 ? pad : 8);
		free(text);
		break;
	case FEAT_ARCH:
		emit_string(w, m->arch[0] ? m->arch : "x86_64");
		break;
	case FEAT_NRCPUS:
		emit_u32(w, m->nr_cpus ? m->nr_cpus : 1);	/* available */
		emit_u32(w, m->nr_cpus ? m->nr_cpus : 1);	/* online */
		break;
	case FEAT_CPUDESC:
		if (!m->cpu_desc[0])
			return 1;
		emit_string(w, m->cpu_desc);
		break;
	case FEAT_CPUID:
		if (!m->cpuid[0])
			return 1;
		emit_string(w, m->cpuid);
		break;
	case FEAT_CMDLINE:
		emit_u32(w, m->cmdline[0] ? 1 : 0);
		if (m->cmdline[0])
			emit_string(w, m->cmdline);
		break;
	case FEAT_SAMPLE_TIME:	/* a slot in file mode: 0 until a round ends */
		w->time_slot = start;
		emit_u64(w, w->first_time);
		emit_u64(w, w->last_time);
		break;
	}
	return w->err;
}

static int emit_sections(struct kvmexit_writer *w, struct sec *secs, size_t *nr)
{
	*nr = 0;
	for (size_t i = 0; i < KX_ARRAY_SIZE(feature_bits); i++) {
		int bit = feature_bits[i];
		uint64_t start = out_pos(w);
		int r = emit_feature(w, bit, start);

		if (r < 0)
			return r;
		if (r)
			continue;
		feat_set(w, bit);
		secs[(*nr)++] = (struct sec){ bit, start, out_pos(w) - start };
		/* Keep sections, and so the data, 8-byte aligned. */
		emit(w, "\0\0\0\0\0\0\0", -out_pos(w) & 7);
	}
	return 0;
}

/* ------------------------------------------------------------ pipe mode */

/*
 * Pipe mode (path "-"), as perf record -o - writes it: a 16-byte header,
 * then records only: HEADER_ATTR (an attr and its ids) per event,
 * HEADER_FEATURE per feature, HEADER_TRACING_DATA followed by the blob,
 * FINISHED_INIT, the data in rounds, and at the end SAMPLE_TIME and VERSION
 * again, with the final metadata (readers take the last).  A record is
 * built in the empty buffer and its size patched in before it goes out.
 */
static int pipe_begin(struct kvmexit_writer *w, size_t head)
{
	if (flush(w))
		return w->err;
	memset(reserve(w, head), 0, head);
	return 0;
}

static int pipe_end(struct kvmexit_writer *w, uint64_t pos0, uint32_t type, const char *what)
{
	struct perf_event_header h = { .type = type };

	emit(w, "\0\0\0\0\0\0\0", -w->len & 7);
	if (w->err)
		return w->err;
	if (w->pos != pos0 || w->len > UINT16_MAX)
		return fail(w, -E2BIG, "writing %s to standard output: %zu bytes do not fit in a "
			    "pipe-mode record (64 KiB); write the capture to a file", what,
			    w->pos != pos0 ? (size_t)BUF_SIZE : w->len);
	h.size = (uint16_t)w->len;
	memcpy(w->buf, &h, sizeof(h));
	return 0;
}

static int pipe_feature(struct kvmexit_writer *w, int bit)
{
	uint64_t pos0 = w->pos, id = (uint64_t)bit;
	int r;

	if (pipe_begin(w, 16))
		return w->err;
	pos0 = w->pos;
	memcpy(w->buf + 8, &id, 8);
	r = emit_feature(w, bit, pos0 + 16);
	if (r == 1) {
		w->len = 0;
		return 0;
	}
	return r ? r : pipe_end(w, pos0, PERF_RECORD_HEADER_FEATURE,
				bit == FEAT_VERSION ? "the metadata" : "a feature");
}

static int freeze_pipe(struct kvmexit_writer *w)
{
	uint64_t hdr[2] = { PERF_MAGIC2, 16 }, pos0;
	uint32_t blob;

	emit(w, hdr, sizeof(hdr));
	for (size_t i = 0; i < w->nr_ev; i++) {
		struct wevent *e = &w->ev[i];
		size_t size = 8 + KX_ATTR_FILE_SIZE + 8 * e->nr_ids;
		struct perf_event_header h = { .type = PERF_RECORD_HEADER_ATTR,
					       .size = (uint16_t)size };

		if (size > UINT16_MAX)
			return fail(w, -E2BIG, "writing to standard output: %zu ids of one event "
				    "do not fit in a pipe-mode record", e->nr_ids);
		e->attr.size = KX_ATTR_FILE_SIZE;
		emit(w, &h, sizeof(h));
		emit(w, &e->attr, KX_ATTR_FILE_SIZE);
		emit(w, e->ids, e->nr_ids * 8);
	}
	for (size_t i = 0; i < KX_ARRAY_SIZE(feature_bits); i++)
		if (feature_bits[i] != FEAT_TRACING_DATA && feature_bits[i] != FEAT_SAMPLE_TIME &&
		    pipe_feature(w, feature_bits[i]))
			return w->err;
	/* HEADER_TRACING_DATA: u32 size of the blob that follows, padded to 8 */
	if (pipe_begin(w, 16))
		return w->err;
	pos0 = w->pos;
	emit_tracing_data(w);
	blob = (uint32_t)((w->len - 16 + 7) & ~7u);
	memcpy(w->buf + 8, &blob, 4);
	emit(w, "\0\0\0\0\0\0\0", -w->len & 7);
	if (w->err || w->pos != pos0)
		return fail(w, w->err ? w->err : -E2BIG,
			    "writing the tracing data to standard output: more than %u bytes",
			    BUF_SIZE);
	memcpy(w->buf, &(struct perf_event_header){ .type = PERF_RECORD_HEADER_TRACING_DATA,
						    .size = 16 }, 8);
	emit_u64(w, (uint64_t)PERF_RECORD_FINISHED_INIT | (8ULL << 48));
	return flush(w);
}

/* The end of a pipe: SAMPLE_TIME and the final metadata. */
static int close_pipe(struct kvmexit_writer *w)
{
	if (w->samples && pipe_feature(w, FEAT_SAMPLE_TIME))
		return w->err;
	if (pipe_feature(w, FEAT_VERSION))
		return w->err;
	return flush(w);
}

/*
 * The feature table: an entry per set bit, in bit order.  Bit 0's entry is
 * a FINISHED_ROUND header of the table's size, so that the table reads as
 * a record where later rounds leave it inside the data.
 */
static int build_table(struct kvmexit_writer *w, const struct sec *secs, size_t nr)
{
	struct perf_event_header *h;

	feat_set(w, FEAT_RESERVED);
	w->table_size = (nr + 1) * 16;
	w->table = calloc(1, w->table_size);
	if (!w->table)
		return fail(w, -ENOMEM, "writing %s: out of memory", w->path);
	h = (struct perf_event_header *)w->table;
	h->type = PERF_RECORD_FINISHED_ROUND;
	h->size = w->table_size;
	for (size_t i = 0; i < nr; i++) {
		memcpy(w->table + 16 * (i + 1), &secs[i].offset, 8);
		memcpy(w->table + 16 * (i + 1) + 8, &secs[i].size, 8);
		if (secs[i].bit == FEAT_VERSION)
			w->meta_entry = 16 * (i + 1);
	}
	return 0;
}

static void emit_header(struct kvmexit_writer *w, uint64_t data_size)
{
	uint64_t h[HEADER_SIZE / 8] = {
		PERF_MAGIC2, HEADER_SIZE, ATTR_ENTRY_SIZE,
		HEADER_SIZE, w->nr_ev * ATTR_ENTRY_SIZE,	/* attrs */
		w->data_offset, data_size,			/* data */
		0, 0,						/* event_types */
	};

	memcpy(&h[9], w->feat, sizeof(w->feat));
	emit(w, h, sizeof(h));
}

/* Same sample_type with TIME everywhere: where raw samples keep their time. */
static int raw_time_pos(const struct kvmexit_writer *w)
{
	uint64_t st;
	int pos = 8;

	if (!w->nr_ev)
		return -1;
	st = w->ev[0].attr.sample_type;
	for (size_t i = 1; i < w->nr_ev; i++)
		if (w->ev[i].attr.sample_type != st)
			return -1;
	if (!(st & PERF_SAMPLE_TIME))
		return -1;
	pos += !!(st & PERF_SAMPLE_IDENTIFIER) * 8;
	pos += !!(st & PERF_SAMPLE_IP) * 8;
	pos += !!(st & PERF_SAMPLE_TID) * 8;
	return pos;
}

/*
 * Writes everything that precedes the records: the header (pointing at an
 * empty round), attrs, ids, sections, and the first feature table.
 */
static int freeze(struct kvmexit_writer *w)
{
	struct sec secs[16];
	uint64_t ids_off, attrs_end, size, data_end;
	size_t nr;

	if (w->frozen)
		return w->err;
	w->frozen = true;
	w->time_pos = raw_time_pos(w);
	if (w->pipe)
		return freeze_pipe(w);

	/* Sections first into the buffer at their final offsets. */
	attrs_end = HEADER_SIZE + w->nr_ev * ATTR_ENTRY_SIZE;
	ids_off = attrs_end;
	for (size_t i = 0; i < w->nr_ev; i++)
		ids_off += w->ev[i].nr_ids * 8;
	w->pos = ids_off;
	if (emit_sections(w, secs, &nr) || build_table(w, secs, nr))
		return w->err;
	w->data_offset = out_pos(w);
	emit_u64(w, (uint64_t)PERF_RECORD_FINISHED_ROUND | (8ULL << 48));
	emit(w, w->table, w->table_size);
	if (flush(w))
		return w->err;
	data_end = w->pos;

	/* Then the header, attrs and ids in front of them. */
	w->pos = 0;
	emit_header(w, 8);
	ids_off = attrs_end;
	for (size_t i = 0; i < w->nr_ev; i++) {
		struct wevent *e = &w->ev[i];

		size = e->nr_ids * 8;
		e->attr.size = KX_ATTR_FILE_SIZE;
		emit(w, &e->attr, KX_ATTR_FILE_SIZE);
		emit_u64(w, ids_off);
		emit_u64(w, size);
		ids_off += size;
	}
	for (size_t i = 0; i < w->nr_ev; i++)
		emit(w, w->ev[i].ids, w->ev[i].nr_ids * 8);
	if (flush(w))
		return w->err;
	w->pos = data_end;
	/* From here on the file is a capture: close() keeps it. */
	w->round_end = w->data_offset + 8;
	return publish(w);
}

/* ------------------------------------------------------------ records */

static inline void note_time(struct kvmexit_writer *w, uint64_t t)
{
	if (!w->first_time || t < w->first_time)
		w->first_time = t;
	if (t > w->last_time)
		w->last_time = t;
}

static size_t sample_size(const struct wevent *e)
{
	uint64_t st = e->attr.sample_type;
	size_t n = sizeof(struct perf_event_header);

	n += 8 * (!!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP) +
		  !!(st & PERF_SAMPLE_TID) + !!(st & PERF_SAMPLE_TIME) +
		  !!(st & PERF_SAMPLE_ID) + !!(st & PERF_SAMPLE_STREAM_ID) +
		  !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_PERIOD));
	return n + 4 + e->raw_size;
}

static int write_sample(struct kvmexit_writer *w, const struct wevent *e,
			const struct kvmexit_event *ev)
{
	uint64_t st = e->attr.sample_type, id = e->ids[0];
	size_t size = sample_size(e);
	unsigned char *p, *raw;
	uint64_t *q;
	uint32_t raw_size = e->raw_size;

	if (size > UINT16_MAX)
		return misuse(w, -E2BIG, "tracepoint %s: records of %zu bytes are too large",
			      kx_event_name(ev->type), size);
	p = reserve(w, size);
	if (!p)
		return w->err;
	*(struct perf_event_header *)p = (struct perf_event_header){
		.type = PERF_RECORD_SAMPLE, .misc = PERF_RECORD_MISC_KERNEL, .size = size,
	};
	q = (uint64_t *)(p + 8);
	if (st & PERF_SAMPLE_IDENTIFIER)
		*q++ = id;
	if (st & PERF_SAMPLE_IP)
		*q++ = 0;
	if (st & PERF_SAMPLE_TID)
		*q++ = (uint32_t)ev->pid | (uint64_t)(uint32_t)ev->tid << 32;
	if (st & PERF_SAMPLE_TIME)
		*q++ = ev->time;
	if (st & PERF_SAMPLE_ID)
		*q++ = id;
	if (st & PERF_SAMPLE_STREAM_ID)
		*q++ = id;
	if (st & PERF_SAMPLE_CPU)
		*q++ = ev->cpu;
	if (st & PERF_SAMPLE_PERIOD)
		*q++ = 1;
	memcpy(q, &raw_size, 4);
	raw = (unsigned char *)q + 4;
	memset(raw, 0, raw_size);
	kx_layout_encode(e->layout, ev, raw);
	note_time(w, ev->time);
	return 0;
}

/* PERF_RECORD_LOST with the sample_id of the first event. */
static int write_lost(struct kvmexit_writer *w, const struct kvmexit_event *ev)
{
	const struct wevent *e = &w->ev[0];
	uint64_t st = e->attr.sample_type, rec[16];
	size_t n = 1;

	rec[n++] = e->ids[0];
	rec[n++] = ev->lost.count;
	if (e->attr.sample_id_all) {
		if (st & PERF_SAMPLE_TID)
			rec[n++] = (uint32_t)ev->pid | (uint64_t)(uint32_t)ev->tid << 32;
		if (st & PERF_SAMPLE_TIME)
			rec[n++] = ev->time;
		if (st & PERF_SAMPLE_ID)
			rec[n++] = e->ids[0];
		if (st & PERF_SAMPLE_STREAM_ID)
			rec[n++] = e->ids[0];
		if (st & PERF_SAMPLE_CPU)
			rec[n++] = ev->cpu;
		if (st & PERF_SAMPLE_IDENTIFIER)
			rec[n++] = e->ids[0];
	}
	struct perf_event_header h = { .type = PERF_RECORD_LOST, .size = n * 8 };

	memcpy(rec, &h, sizeof(h));
	return emit(w, rec, n * 8);
}

static int start_records(struct kvmexit_writer *w)
{
	if (w->err)
		return w->err;
	if (w->meta.counts_only)
		return misuse(w, -EINVAL, "writing events to %s: it is a counts-only capture",
			      w->path);
	if (!w->frozen && freeze(w))
		return w->err;
	w->samples = true;
	w->dirty = true;
	return 0;
}

KVMEXIT_API int kvmexit_writer_write_event(struct kvmexit_writer *w,
					   const struct kvmexit_event *ev)
{
	int idx;

	if (w->err)
		return w->err;
	if ((unsigned)ev->type >= KVMEXIT_EV__MAX)
		return misuse(w, -EINVAL, "event type %d unknown", (int)ev->type);
	if (ev->type == KVMEXIT_EV_LOST) {
		if (!w->nr_ev)
			return misuse(w, -ENOENT, "lost records: no tracepoint added to %s",
				      w->path);
		return start_records(w) ? w->err : write_lost(w, ev);
	}
	idx = w->by_type[ev->type];
	if (idx < 0)
		return misuse(w, -ENOENT, "%s event: its tracepoint was not added to %s",
			      kx_event_name(ev->type), w->path);
	if (start_records(w))
		return w->err;
	return write_sample(w, &w->ev[idx], ev);
}

int kx_writer_write_record(struct kvmexit_writer *w, const struct perf_event_header *rec)
{
	void *p;

	if (w->err)
		return w->err;
	if (!w->dirty && start_records(w))
		return w->err;
	p = reserve(w, rec->size);
	if (!p)
		return w->err;
	memcpy(p, rec, rec->size);
	if (w->time_pos >= 0 && rec->type == PERF_RECORD_SAMPLE && rec->size >= w->time_pos + 8) {
		uint64_t t;

		memcpy(&t, (const char *)rec + w->time_pos, 8);
		note_time(w, t);
	}
	return 0;
}

/* ------------------------------------------------------------ rounds */

static int update_sample_time(struct kvmexit_writer *w, uint64_t first, uint64_t last)
{
	uint64_t t[2] = { first, last };

	return pwrite_all(w, t, sizeof(t), w->time_slot);
}

/*
 * Ends a round: FINISHED_ROUND and the feature table go out with the
 * round's records; only then does the header's data.size move to the
 * round's end, where this table is.
 */
static int end_round(struct kvmexit_writer *w)
{
	uint64_t end, size;

	emit_u64(w, (uint64_t)PERF_RECORD_FINISHED_ROUND | (8ULL << 48));
	if (w->pipe) {		/* each round goes out at once: a live stream */
		w->dirty = false;
		return flush(w);
	}
	end = out_pos(w);
	emit(w, w->table, w->table_size);
	if (flush(w))
		return w->err;
	size = end - w->data_offset;
	if (update_sample_time(w, w->first_time, w->last_time) ||
	    pwrite_all(w, &size, 8, HDR_DATA_SIZE_OFF))
		return w->err;
	w->round_end = end;
	w->round_first = w->first_time;
	w->round_last = w->last_time;
	w->dirty = false;
	return 0;
}

KVMEXIT_API int kvmexit_writer_finish_round(struct kvmexit_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->dirty)
		return 0;
	return end_round(w);
}

KVMEXIT_API int kvmexit_writer_set_meta(struct kvmexit_writer *w,
					const struct kvmexit_meta *meta)
{
	bool counts_only = w->meta.counts_only;

	w->meta = *meta;
	w->meta.counts_only |= counts_only;
	return 0;
}

int kx_writer_set_detail_counts(struct kvmexit_writer *w, const struct kx_counts *counts)
{
	if (!w->meta.counts_only)
		return misuse(w, -EINVAL, "detail counts for %s: set its counts first", w->path);
	for (size_t i = 0; i < counts->nr_detail; i++) {
		const struct kx_detail_count *d = &counts->d[i];
		int err = kx_counts_add_detail(&w->counts, d->isa, d->exit_reason, d->detail,
					       d->cpu, d->count);

		if (err)
			return err;
	}
	return 0;
}

KVMEXIT_API int kvmexit_writer_set_counts(struct kvmexit_writer *w,
					  const struct kvmexit_count *counts, size_t nr)
{
	struct kx_counts c = { 0 };

	if (w->samples)
		return misuse(w, -EINVAL, "counts for %s: it already holds samples", w->path);
	for (size_t i = 0; i < nr; i++) {
		int err = kx_counts_add(&c, counts[i].isa, counts[i].exit_reason,
					counts[i].cpu, counts[i].count);

		if (err) {
			kx_counts_release(&c);
			return err;
		}
	}
	/* Only the counts: cells of kx_writer_add_cells() stay. */
	free(w->counts.v);
	w->counts.v = c.v;
	w->counts.nr = c.nr;
	w->counts.alloc = c.alloc;
	w->meta.counts_only = true;
	return 0;
}

int kx_writer_add_cells(struct kvmexit_writer *w, const struct kx_counts *cells)
{
	int err;

	if (w->samples)
		return misuse(w, -EINVAL, "cells for %s: it already holds samples", w->path);
	err = kx_counts_add_cells_of(&w->counts, cells);
	if (err)
		return err;
	w->meta.counts_only = true;
	return 0;
}

/* ------------------------------------------------------------ close */

/*
 * The final feature table goes after the live one (which stays in the
 * data as a FINISHED_ROUND record) and leaves out bit 0, so a finished
 * capture has only perf's own bits.  The metadata is rewritten in its slot
 * in the VERSION section when it fits (no new space: this works on a full
 * disk), else a new VERSION section follows the final table.  One write of the header then
 * switches data.size and the feature bitmap together.
 */
static int write_final(struct kvmexit_writer *w, bool may_grow)
{
	uint64_t end = w->round_end + w->table_size, feat[FEAT_BITS / 64], hdr[7];
	size_t tsize = w->table_size - 16, len;
	unsigned char *table = w->table + 16;
	char *text, *slot = NULL;
	int err;

	if (encode_meta(w, &text, &len))
		return w->err;
	if (len <= w->meta_slot_size) {
		slot = calloc(1, w->meta_slot_size);
		err = slot ? 0 : fail(w, -ENOMEM, "writing %s: out of memory", w->path);
		if (!err) {
			memcpy(slot, text, len);
			err = pwrite_all(w, slot, w->meta_slot_size, w->meta_slot);
		}
	} else if (may_grow) {
		/* a new VERSION section after the final table */
		uint32_t n = (uint32_t)(sizeof(VERSION_TEXT) + len);
		uint64_t entry[2] = { end + tsize, 4 + (uint64_t)n };

		slot = malloc(entry[1]);
		err = slot ? 0 : fail(w, -ENOMEM, "writing %s: out of memory", w->path);
		if (!err && len > UINT32_MAX - sizeof(VERSION_TEXT))
			err = fail(w, -E2BIG, "writing %s: metadata of %zu bytes is too large",
				   w->path, len);
		if (!err) {
			memcpy(slot, &n, 4);
			memcpy(slot + 4, VERSION_TEXT, sizeof(VERSION_TEXT));
			memcpy(slot + 4 + sizeof(VERSION_TEXT), text, len);
			memcpy(table + w->meta_entry - 16, entry, sizeof(entry));
			err = pwrite_all(w, slot, entry[1], entry[0]);
		}
	} else {
		err = 0;	/* the slot keeps the metadata of the start */
	}
	free(slot);
	free(text);
	if (!err)
		err = pwrite_all(w, table, tsize, end);
	if (err)
		return err;
	memcpy(feat, w->feat, sizeof(feat));
	feat[0] &= ~1ULL;
	hdr[0] = end - w->data_offset;		/* data.size */
	hdr[1] = hdr[2] = 0;			/* event_types */
	memcpy(&hdr[3], feat, sizeof(feat));
	return pwrite_all(w, hdr, sizeof(hdr), HDR_DATA_SIZE_OFF);
}

static void free_writer(struct kvmexit_writer *w)
{
	for (size_t i = 0; i < w->nr_ev; i++) {
		free(w->ev[i].ids);
		free(w->ev[i].format);
		free(w->ev[i].system);
	}
	free(w->ev);
	kx_formats_free(w->formats);
	free(w->table);
	free(w->buf);
	free(w->path);
	kx_counts_release(&w->counts);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	free(w->tmp_name);
	free(w->base_name);
	free(w);
}

/* Closes the writer and removes what it created; the path keeps what it had. */
void kx_writer_discard(struct kvmexit_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	if (w->tmp_name)
		unlinkat(w->dir_fd, w->tmp_name, 0);
	else
		unlink(w->path);
	free_writer(w);
}

KVMEXIT_API int kvmexit_writer_close(struct kvmexit_writer *w, char *errbuf, size_t errlen)
{
	int err;

	if (!w)
		return 0;
	if (!w->err && !w->frozen)
		freeze(w);
	if (!w->err && w->dirty)
		end_round(w);
	if (w->pipe) {
		if (!w->err)
			close_pipe(w);
	} else if (!w->err) {
		write_final(w, true);
	} else if (w->round_end) {
		/*
		 * Keep what the header describes: the last complete round and
		 * its table.  Truncating the rest gives room for the final
		 * table; if even that fails, the live table stays.
		 */
		int first = w->err;
		char msg[KX_ERRMSG_SIZE];

		memcpy(msg, w->errmsg, sizeof(msg));
		w->err = 0;
		if (ftruncate(w->fd, w->round_end + w->table_size) == 0 &&
		    !update_sample_time(w, w->round_first, w->round_last))
			write_final(w, false);
		w->err = first;
		memcpy(w->errmsg, msg, sizeof(msg));
	} else if (w->frozen && ftruncate(w->fd, 0)) {
		/* Not even the header went out: an empty file, not a broken one. */
	}
	if (close(w->fd) && !w->err)
		fail(w, -errno, "closing %s: %s", w->path, strerror(errno));
	if (w->tmp_name)	/* never published: the old file stays */
		unlinkat(w->dir_fd, w->tmp_name, 0);
	err = w->err;
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", w->errmsg);
	free_writer(w);
	return err;
}
