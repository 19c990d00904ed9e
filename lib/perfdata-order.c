// SPDX-License-Identifier: GPL-2.0-only
/*
 * Time ordering of the decoded events.
 *
 * Ordering.  As perf's ordered events: decoded kvm events and lost records
 * are queued; at each FINISHED_ROUND the queue is stably sorted by time and
 * the events up to the previous round's largest timestamp are delivered
 * (later ones may still be overtaken by the next round's data).  At the end
 * everything left is delivered.  Records without a time (no sample_id_all)
 * are queued at the largest time seen so far, so they stay in file order
 * relative to what came before them.  Memory is bounded: the queue holds at
 * most KX_QUEUE_MAX (131072) events, 23 MiB with its spare arrays; when a
 * round is larger (files without FINISHED_ROUND, or rounds of many CPUs),
 * the older half of the queue is sorted and delivered, as perf does when it
 * reaches its ordered-events memory limit (OE_FLUSH__HALF).  Events arriving
 * older than what was already delivered are then delivered late, out of
 * order, as perf does.  Only kvm events and lost records are queued, decoded
 * (72 bytes each); other samples are counted and dropped at once.
 */
#include <stdlib.h>
#include <string.h>

#include "perfdata-read.h"

/*
 * Events are decoded straight into a ring, v[], in arrival order.  While
 * they arrive in time order (our captures; perf's with one CPU) the ring
 * is the order: a flush delivers its first events and moves its head, with
 * no key, no sort and no copy.  The first event older than the one before
 * it makes the queue "keyed": 16-byte keys holding ring positions are
 * made for the queued events, and sorting moves only them.  A keyed flush
 * delivers v[k[0].idx], v[k[1].idx]... and marks their slots done; the
 * ring's head moves past done slots, so in the common case (a round's
 * events are all delivered at the next round) no event is copied.  An
 * empty queue is in ring order again.  When the ring is full of live
 * events and holes (slots delivered out of ring order), it is compacted:
 * the live events, in key order, into the spare array.
 */
#define KX_EV_DONE ((enum kvmexit_event_type)(KVMEXIT_EV__MAX + 1))

static void merge(const struct kx_key *a, size_t na, const struct kx_key *b, size_t nb,
		  struct kx_key *out)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb)
		*out++ = b[j].time < a[i].time ? b[j++] : a[i++];
	memcpy(out, a + i, (na - i) * sizeof(*a));
	memcpy(out + (na - i), b + j, (nb - j) * sizeof(*b));
}

static size_t run_end(const struct kx_key *k, size_t i, size_t n)
{
	for (i++; i < n && k[i].time >= k[i - 1].time; i++)
		;
	return i;
}

/* Stable natural merge sort by time: a round is a few sorted runs (CPUs). */
static void queue_sort(struct kx_queue *q)
{
	struct kx_key *src = q->k, *dst = q->ktmp, *t;
	size_t runs;

	if (!q->keyed || q->sorted)
		return;
	do {
		runs = 0;
		for (size_t i = 0; i < q->nr;) {
			size_t m = run_end(src, i, q->nr);
			size_t e = m < q->nr ? run_end(src, m, q->nr) : q->nr;

			merge(src + i, m - i, src + m, e - m, dst + i);
			runs++;
			i = e;
		}
		t = src;
		src = dst;
		dst = t;
	} while (runs > 1);
	q->k = src;
	q->ktmp = dst;
	q->sorted = true;
}

/* The time of the i-th queued event in delivery order (sorted). */
static inline uint64_t queue_time(const struct kx_queue *q, size_t i)
{
	if (q->keyed)
		return q->k[i].time;
	return q->v[(q->head + i) & (q->alloc - 1)].time;
}

/* Hands n events from ring position pos to the batch callback, in runs. */
static int deliver_runs(struct kvmexit_capture *cap, uint32_t pos, size_t n)
{
	struct kx_queue *q = &cap->q;

	while (n) {
		size_t at = pos & (q->alloc - 1), run = q->alloc - at < n ? q->alloc - at : n;
		int r = cap->batch(&q->v[at], run, cap->arg);

		if (r)
			return r;
		pos += (uint32_t)run;
		n -= run;
	}
	return 0;
}

/* Delivers the first n events in delivery order (sorted) and keeps the rest. */
static int queue_pop(struct kvmexit_capture *cap, size_t n)
{
	struct kx_queue *q = &cap->q;
	uint32_t mask = (uint32_t)q->alloc - 1;

	if (cap->batch && !q->keyed && n) {
		cap->stop = deliver_runs(cap, q->head, n);
		q->nr -= n;
		q->head += (uint32_t)n;
		return cap->stop;
	}
	for (size_t i = 0; i < n; i++) {
		struct kvmexit_event *ev = &q->v[(q->keyed ? q->k[i].idx : q->head + i) & mask];
		int r = cap->batch ? cap->batch(ev, 1, cap->arg) : cap->fn(ev, cap->arg);

		if (q->keyed)
			ev->type = KX_EV_DONE;
		if (r) {
			n = i + 1;
			cap->stop = r;
			break;
		}
	}
	if (!n)
		return cap->stop;
	q->nr -= n;
	if (!q->keyed) {
		q->head += (uint32_t)n;
		return cap->stop;
	}
	memmove(q->k, q->k + n, q->nr * sizeof(*q->k));
	while (q->head != q->tail && q->v[q->head & mask].type == KX_EV_DONE)
		q->head++;
	if (!q->nr)
		q->keyed = false;	/* head == tail: every slot was done */
	return cap->stop;
}

int kx_queue_flush_to(struct kvmexit_capture *cap, uint64_t limit)
{
	struct kx_queue *q = &cap->q;
	size_t lo = 0, hi;

	queue_sort(q);
	hi = q->nr;
	while (lo < hi) {		/* first event later than limit */
		size_t mid = lo + (hi - lo) / 2;

		if (queue_time(q, mid) <= limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return queue_pop(cap, lo);
}

int kx_queue_round(struct kvmexit_capture *cap)
{
	int r = kx_queue_flush_to(cap, cap->q.next_flush);

	cap->q.next_flush = cap->q.max_time;
	return r;
}

/*
 * Moves the queued events, in delivery order, to the front of a ring of n
 * slots (n >= q->nr): the spare array, grown to n first when larger.
 */
static int queue_compact(struct kx_queue *q, size_t n)
{
	uint32_t mask = (uint32_t)q->alloc - 1;
	struct kvmexit_event *t;
	void *p;

#define GROW(field) do {						\
		p = realloc(q->field, n * sizeof(*q->field));		\
		if (!p)							\
			return -ENOMEM;					\
		q->field = p;						\
	} while (0)
	if (n > q->alloc) {
		GROW(vtmp);
		GROW(k);
		GROW(ktmp);
	}
	for (size_t i = 0; i < q->nr; i++) {
		if (q->keyed) {
			q->vtmp[i] = q->v[q->k[i].idx & mask];
			q->k[i].idx = (uint32_t)i;
		} else {
			q->vtmp[i] = q->v[(q->head + i) & mask];
		}
	}
	t = q->v;
	q->v = q->vtmp;
	q->vtmp = t;
	q->head = 0;
	q->tail = (uint32_t)q->nr;
	if (n > q->alloc)
		GROW(vtmp);
#undef GROW
	q->alloc = n;
	return 0;
}

/* Makes room for one more event in the ring. */
int kx_queue_room(struct kvmexit_capture *cap)
{
	struct kx_queue *q = &cap->q;
	int err;

	if (!q->alloc)
		return queue_compact(q, 4096);
	if (q->nr < q->alloc / 2)
		return queue_compact(q, q->alloc);	/* mostly holes */
	if (q->alloc < KX_QUEUE_MAX)
		return queue_compact(q, q->alloc * 2);
	/* Full: deliver the older half, as perf's OE_FLUSH__HALF. */
	if (cap->part.quiet)
		cap->part.quiet_halved = true;
	queue_sort(q);
	err = queue_pop(cap, q->nr / 2);
	if (err)
		return err;
	return q->tail - q->head < q->alloc ? 0 : queue_compact(q, q->alloc);
}

/* Keys for the queued events, in ring order: the first one out of order came. */
void kx_queue_key(struct kx_queue *q)
{
	uint32_t mask = (uint32_t)q->alloc - 1;

	for (size_t i = 0; i < q->nr; i++)
		q->k[i] = (struct kx_key){ .time = q->v[(q->head + i) & mask].time,
					   .idx = q->head + (uint32_t)i };
	q->keyed = true;
	q->sorted = true;
}

int kx_queue_push(struct kvmexit_capture *cap, const struct kvmexit_event *ev)
{
	int err = 0;
	struct kvmexit_event *slot = queue_slot(cap, &err);

	if (!slot)
		return err;
	*slot = *ev;
	queue_commit(&cap->q, ev->time);
	return 0;
}
