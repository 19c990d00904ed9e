// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit top's full-screen view (ncursesw): the header, the table the
 * text output also prints, the keys, prompts and help.  The source keeps
 * running in slices of 50 ms between keys, also while a prompt is open,
 * so that live rings never wait for the user.  The terminal is restored on
 * every way out: q, SIGINT/SIGTERM (a flag the loop sees), errors, and
 * exit() (atexit).
 */
#include <ctype.h>
#include <curses.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

enum prompt { PROMPT_NONE, PROMPT_FILTER, PROMPT_VM, PROMPT_INTERVAL };

struct screen {
	struct top *t;
	size_t sel, first;		/* selected row, first row shown */
	enum prompt prompt;
	char input[128];
	size_t input_len;
	char msg[256];			/* one-line message under the table */
	bool help, quit, ended, step;
	enum top_view view_before_vm;	/* the view to return to from a VM */
};

static bool curses_on;

static void restore_terminal(void)
{
	if (curses_on) {
		endwin();
		curses_on = false;
	}
}

static const char *const help_lines[] = {
	"kvmexit top keys",
	"",
	"  q          quit (also Ctrl-C)",
	"  h, ?       this help",
	"  b          next view: reason, detail, vm, vcpu, process, category",
	"  1 .. 6     view by reason, detail, vm, vcpu, process, category",
	"  x          reason <-> detail (kvm_stat's child events)",
	"  Up, Down   select a row (also k, j); PgUp, PgDn, Home, End",
	"  Enter      drill into the selected row's VM",
	"  g, p       drill into a VM by name or pid (empty: all VMs)",
	"  Esc, Bksp  back to all VMs",
	"  f          filter reasons by a regular expression (REASON/detail too)",
	"  c          clear the filter and the VM",
	"  o          next sort column: rate, total, avg, p99, name",
	"  r          reset the totals",
	"  space      pause or resume (a replay's clock stops too)",
	"  n          while paused: one interval further",
	"  + , -      refresh faster (interval / 2) or slower (x 2)",
	"  s          set the interval in seconds",
	"",
	"Any key closes this help.",
};

/* Text for the screen: control bytes never reach the terminal. */
static void put_clipped(int y, int x, const char *s, int attr)
{
	int w = COLS - x - 1;	/* the last column stays blank: no wrap at the corner */
	char line[512];
	int n = 0;

	if (y < 0 || y >= LINES || w <= 0)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p && n < w && n < 511; p++)
		line[n++] = (char)(*p < 0x20 || *p == 0x7f ? '?' : *p);
	line[n] = '\0';
	if (attr)
		attron(attr);
	mvaddstr(y, x, line);
	if (attr)
		attroff(attr);
}

static void draw_help(void)
{
	erase();
	for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
		put_clipped((int)i, 0, help_lines[i], i == 0 ? A_BOLD : 0);
	refresh();
}

static size_t count_vms(const struct top *t, size_t *exited)
{
	*exited = 0;
	for (size_t i = 0; i < t->nr_vms; i++)
		*exited += t->vms[i].exited;
	return t->nr_vms;
}

static void draw_header(const struct screen *sc)
{
	const struct top *t = sc->t;
	const struct kvmexit_delta_summary *s = top_summary(t);
	const struct source *src = t->src;
	char line[512], host[256], ts[64];
	size_t n = 0, ex;
	size_t nvms = count_vms(t, &ex);

	top_host_line(t, host, sizeof(host));
	snprintf(line, sizeof(line), "kvmexit top - %s", host);
	put_clipped(0, 0, line, A_BOLD);
	snprintf(line, sizeof(line), "source: %s: %s%s%s", src->label, src->caps.shows,
		 src->caps.lacks[0] ? "; " : "", src->caps.lacks);
	put_clipped(1, 0, line, 0);
	top_timestamp(t, ts, sizeof(ts));
	/* Short spans (a replay's last interval) keep their digits. */
	snprintf(line, sizeof(line), "%s  interval %.*f s  total %.*f s  exits %" PRIu64
		 "  events %" PRIu64 "  lost %" PRIu64 "  VMs %zu", ts,
		 top_interval_s(t) < 1 && top_interval_s(t) > 0 ? 3 : 1, top_interval_s(t),
		 top_total_s(t) < 1 && top_total_s(t) > 0 ? 3 : 1, top_total_s(t),
		 s->interval.exits, s->interval.events, t->lost_cur - t->lost_prev, nvms);
	n = strlen(line);
	if (ex)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " (%zu exited)", ex);
	snprintf(line + n, sizeof(line) - n, "  cpu %.1f%%", t->cpu_pct);
	put_clipped(2, 0, line, 0);
	n = (size_t)snprintf(line, sizeof(line), "view %s  sort %s  refresh %.1f s",
			     top_view_names[t->view], top_sort_names[t->sort],
			     (double)t->interval_ns / 1e9);
	if (t->vm >= 0) {
		const struct top_vm *v = top_vm_find(t, t->vm);

		n += (size_t)snprintf(line + n, sizeof(line) - n, "  vm %s [%d]%s",
				      v ? v->name : "?", (int)t->vm,
				      v && v->exited ? " (exited)" : "");
	}
	if (t->has_filter)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "  filter %s", t->filter_text);
	if (sc->t->paused)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "  [paused]");
	if (sc->ended)
		snprintf(line + n, sizeof(line) - n, "  [%s]",
			 src->caps.live ? "ended" : "replay ended");
	put_clipped(3, 0, line, 0);
	/* Other kvm events (kvm_pio on hosts without kvm_exit, -e ioport). */
	n = 0;
	line[0] = '\0';
	for (int i = KVMEXIT_EV_USERSPACE_EXIT; i < KVMEXIT_EV_LOST; i++) {
		uint64_t tot = t->types_cur[i] - t->types_base[i];

		if (tot)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %" PRIu64 " (total %"
					      PRIu64 ")", n ? ", " : "other events: ",
					      top_event_name((enum kvmexit_event_type)i),
					      t->types_cur[i] - t->types_prev[i], tot);
	}
	put_clipped(4, 0, line, 0);
}

#define TABLE_Y 5

/* Rows that fit under the header and above the message line. */
static size_t table_height(void)
{
	int h = LINES - TABLE_Y - 3;	/* column titles, Total, message */

	return h > 0 ? (size_t)h : 0;
}

static void draw_table(struct screen *sc)
{
	const struct top *t = sc->t;
	size_t len = 0, nlines = 0, h = table_height();
	char *text = top_table_text(t, &len), *p, *lines[4096];

	if (!text)
		return;
	for (p = text; *p && nlines < 4096;) {
		char *e = strchr(p, '\n');

		lines[nlines++] = p;
		if (!e)
			break;
		*e = '\0';
		p = e + 1;
	}
	/* lines: titles, rows..., Total. */
	if (sc->sel >= t->nr_rows)
		sc->sel = t->nr_rows ? t->nr_rows - 1 : 0;
	if (sc->sel < sc->first)
		sc->first = sc->sel;
	if (h && sc->sel >= sc->first + h)
		sc->first = sc->sel - h + 1;
	if (nlines)
		put_clipped(TABLE_Y, 0, lines[0], A_REVERSE);
	for (size_t i = 0; i < h && sc->first + i < t->nr_rows && 1 + sc->first + i < nlines; i++)
		put_clipped(TABLE_Y + 1 + (int)i, 0, lines[1 + sc->first + i],
			    sc->first + i == sc->sel ? A_BOLD | A_UNDERLINE : 0);
	if (nlines > 1) {
		size_t shown = t->nr_rows - sc->first < h ? t->nr_rows - sc->first : h;

		put_clipped(TABLE_Y + 1 + (int)shown, 0, lines[nlines - 1], A_BOLD);
	}
	free(text);
}

static void draw(struct screen *sc)
{
	char line[300];

	if (sc->help) {
		draw_help();
		return;
	}
	erase();
	draw_header(sc);
	draw_table(sc);
	if (sc->prompt != PROMPT_NONE) {
		static const char *const what[] = {
			[PROMPT_FILTER] = "filter reasons (regex, empty: none): ",
			[PROMPT_VM] = "VM name or pid (empty: all): ",
			[PROMPT_INTERVAL] = "interval in seconds: ",
		};

		snprintf(line, sizeof(line), "%s%s", what[sc->prompt], sc->input);
		put_clipped(LINES - 1, 0, line, 0);
	} else if (sc->msg[0]) {
		put_clipped(LINES - 1, 0, sc->msg, A_BOLD);
	} else {
		put_clipped(LINES - 1, 0, "h help  q quit  b view  g vm  f filter  o sort  r reset"
			    "  space pause  +/- refresh", 0);
	}
	refresh();
}

static void set_view(struct screen *sc, enum top_view v)
{
	sc->t->view = v;
	sc->sel = sc->first = 0;
	top_refresh(sc->t);
}

static void prompt_done(struct screen *sc)
{
	struct top *t = sc->t;
	char err[256] = "";
	double secs;
	char *end;

	switch (sc->prompt) {
	case PROMPT_FILTER:
		if (top_set_filter(t, sc->input, err, sizeof(err)))
			snprintf(sc->msg, sizeof(sc->msg), "%s", err);
		break;
	case PROMPT_VM:
		if (top_set_vm(t, sc->input, err, sizeof(err)))
			snprintf(sc->msg, sizeof(sc->msg), "%s", err);
		sc->sel = sc->first = 0;
		break;
	case PROMPT_INTERVAL:
		secs = strtod(sc->input, &end);
		if (end == sc->input || *end || !(secs >= 0.1 && secs <= 3600))
			snprintf(sc->msg, sizeof(sc->msg), "the interval is 0.1 to 3600 seconds");
		else
			t->interval_ns = (uint64_t)(secs * 1e9);
		break;
	default:
		break;
	}
	sc->prompt = PROMPT_NONE;
}

static void prompt_key(struct screen *sc, int ch)
{
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		prompt_done(sc);
	} else if (ch == 27) {
		sc->prompt = PROMPT_NONE;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (sc->input_len)
			sc->input[--sc->input_len] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && sc->input_len + 1 < sizeof(sc->input)) {
		sc->input[sc->input_len++] = (char)ch;
		sc->input[sc->input_len] = '\0';
	}
}

static void open_prompt(struct screen *sc, enum prompt p)
{
	sc->prompt = p;
	sc->input[0] = '\0';
	sc->input_len = 0;
}

/* Drills into the selected row's VM, from any view that has one. */
static void drill(struct screen *sc)
{
	struct top *t = sc->t;

	if (sc->sel >= t->nr_rows || t->rows[sc->sel].pid < 0) {
		snprintf(sc->msg, sizeof(sc->msg), "this row has no VM: view by vm (3) to choose one");
		return;
	}
	t->vm = t->rows[sc->sel].pid;
	sc->view_before_vm = t->view;
	if (t->view == TOP_BY_VM)
		t->view = TOP_BY_REASON;
	sc->sel = sc->first = 0;
	top_refresh(t);
}

static void key(struct screen *sc, int ch)
{
	struct top *t = sc->t;
	size_t h = table_height();

	sc->msg[0] = '\0';
	if (sc->help) {
		sc->help = false;
		return;
	}
	if (sc->prompt != PROMPT_NONE) {
		prompt_key(sc, ch);
		return;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		sc->quit = true;
		break;
	case 'h':
	case '?':
	case KEY_F(1):
		sc->help = true;
		break;
	case 'b':
		set_view(sc, (enum top_view)((t->view + 1) % TOP_VIEW__MAX));
		break;
	case '1': case '2': case '3': case '4': case '5': case '6':
		set_view(sc, (enum top_view)(ch - '1'));
		break;
	case 'x':
		set_view(sc, t->view == TOP_BY_DETAIL ? TOP_BY_REASON : TOP_BY_DETAIL);
		break;
	case KEY_UP:
	case 'k':
		if (sc->sel)
			sc->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (sc->sel + 1 < t->nr_rows)
			sc->sel++;
		break;
	case KEY_PPAGE:
		sc->sel = sc->sel > h ? sc->sel - h : 0;
		break;
	case KEY_NPAGE:
		sc->sel = sc->sel + h < t->nr_rows ? sc->sel + h : (t->nr_rows ? t->nr_rows - 1 : 0);
		break;
	case KEY_HOME:
		sc->sel = 0;
		break;
	case KEY_END:
		sc->sel = t->nr_rows ? t->nr_rows - 1 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		drill(sc);
		break;
	case 'g':
	case 'p':
		open_prompt(sc, PROMPT_VM);
		break;
	case 27:
	case KEY_BACKSPACE:
	case 127:
		if (t->vm >= 0) {
			t->vm = -1;
			t->view = sc->view_before_vm;
			sc->sel = sc->first = 0;
			top_refresh(t);
		}
		break;
	case 'f':
	case '/':
		open_prompt(sc, PROMPT_FILTER);
		break;
	case 'c':
		t->vm = -1;
		top_set_filter(t, "", NULL, 0);
		break;
	case 'o':
		t->sort = (enum top_sort)((t->sort + 1) % TOP_SORT__MAX);
		top_refresh(t);
		break;
	case 'r':
		top_reset(t);
		break;
	case ' ':
		t->paused = !t->paused;
		source_pause(t->src, t->paused);
		break;
	case 'n':
		if (t->paused)
			sc->step = true;
		else
			snprintf(sc->msg, sizeof(sc->msg), "n steps while paused (space pauses)");
		break;
	case '+':
		if (t->interval_ns / 2 >= 100000000)
			t->interval_ns /= 2;
		break;
	case '-':
		if (t->interval_ns * 2 <= 3600000000000ull)
			t->interval_ns *= 2;
		break;
	case 's':
		open_prompt(sc, PROMPT_INTERVAL);
		break;
	case KEY_RESIZE:
		clearok(stdscr, TRUE);
		break;
	default:
		break;
	}
}

/* One interval ended (or the source did): a snapshot and a redraw. */
static int tick(struct screen *sc)
{
	int err = top_tick(sc->t);

	if (err)
		return err;
	draw(sc);
	return 0;
}

static int loop(struct screen *sc, volatile int *quit)
{
	struct top *t = sc->t;
	int err = 0;

	source_pause(t->src, t->paused);
	draw(sc);
	while (!sc->quit && !*quit) {
		uint64_t until = kvmexit_snapshot_time(t->cur) + t->interval_ns;
		bool running = !sc->ended && (!t->paused || sc->step);
		int ch, r;

		if (t->stop_ns && until > t->stop_ns)
			until = t->stop_ns;
		if (sc->step)
			source_pause(t->src, false);
		if (!sc->ended) {
			r = source_run(t->src, until, 50);
			if (r < 0) {
				snprintf(t->errmsg, sizeof(t->errmsg), "%s", t->src->errmsg);
				return r;
			}
			if (r == 0 || (t->stop_ns && source_now(t->src) >= t->stop_ns)) {
				sc->ended = true;
				err = tick(sc);	/* the last part-interval */
			} else if (running && source_now(t->src) >= until) {
				err = tick(sc);
				if (sc->step) {
					sc->step = false;
					source_pause(t->src, true);
				}
			}
			if (err)
				return err;
		}
		/* Keys: without waiting while the source runs, else up to 100 ms. */
		timeout(sc->ended || (t->paused && !t->src->caps.live) ? 100 : 0);
		while ((ch = getch()) != ERR) {
			key(sc, ch);
			draw(sc);
			timeout(0);
			if (sc->quit)
				break;
		}
	}
	return 0;
}

int top_screen_run(struct top *t, volatile int *quit)
{
	struct screen sc = { .t = t };
	static bool registered;
	int err;

	setlocale(LC_ALL, "");
	if (!registered) {
		atexit(restore_terminal);
		registered = true;
	}
	if (!initscr()) {
		fprintf(stderr, "kvmexit top: cannot start the terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return 1;
	}
	curses_on = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	err = loop(&sc, quit);
	restore_terminal();
	if (err) {
		fprintf(stderr, "kvmexit top: %s\n", t->errmsg[0] ? t->errmsg : kvmexit_strerror(err));
		return 1;
	}
	return 0;
}
