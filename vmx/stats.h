/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - per-vCPU statistics, counted in the exit path.
 *
 * Each vCPU owns a struct hvx_vcpu_stats, embedded in struct hvx_vmx_vcpu.
 * Only a thread holding the vCPU's run_lock (in practice the one running
 * it) writes it, with plain increments: no locks, no atomics, no cache
 * lines shared with other vCPUs. Readers
 * (the netlink family in kmod/) copy it one u64 at a time with
 * hvx_stats_read(), so each counter is read whole even while the vCPU
 * runs; the snapshot as a whole may mix moments (in a by-key table, an
 * entry that moves forward may show twice or not at all), which is fine
 * for statistics.
 *
 * The exported part is struct hvx_stats of the ABI (uapi/hvx.h), so the
 * kernel and userspace agree on one layout and reading is a copy.
 */
#ifndef HVX_VMX_STATS_H
#define HVX_VMX_STATS_H

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <asm/msr.h>

#include "hvx.h"

/*
 * Module parameter stats_timing (exit.c): time exits and round trips
 * through userspace (hist_handler, hist_user). Off by default, since it
 * costs two RDTSCs per exit.
 */
extern bool hvx_stats_timing;

/* Buckets of struct hvx_stats_top_index: a power of 2, by 4 KiB page. */
#define HVX_STATS_INDEX_BUCKETS	256

/**
 * struct hvx_stats_top_index - what the kernel keeps beside a by-key table
 *	whose misses are common (gpa_pages: every fresh page is one)
 * @keys: per bucket (a key's 4 KiB page number modulo
 *	HVX_STATS_INDEX_BUCKETS), how many of the table's keys fall in it;
 *	a key whose bucket is empty is not in the table.
 * @used: entries in use (they fill in order and never empty).
 * @min: with @min_ok, an entry whose count is the table's smallest.
 * @min_ok: @min is known; else it is searched for at the next miss.
 */
struct hvx_stats_top_index {
	u8 keys[HVX_STATS_INDEX_BUCKETS];
	u8 used;
	u8 min;
	bool min_ok;
};

/**
 * struct hvx_vcpu_stats - statistics of one vCPU
 * @s: the counters userspace sees (HVX_A_STATS).
 * @user_tsc: TSC when HVX_RUN last returned to userspace, or 0 when no
 *	round trip is being timed (see hvx_stats_user_enter()).
 * @gpa_index: the index of @s.gpa_pages (hvx_stats_page_add()).
 */
struct hvx_vcpu_stats {
	struct hvx_stats s;
	u64 user_tsc;
	struct hvx_stats_top_index gpa_index;
};

/**
 * hvx_stats_hist_add - count one sample in a log2 histogram
 * @hist: HVX_STATS_HIST_BUCKETS buckets (struct hvx_stats layout).
 * @cycles: the sample, in TSC cycles.
 *
 * Bucket 0 takes 0 and 1, bucket i takes [2^i, 2^(i+1)).
 * Context: the vCPU's run_lock is held.
 */
static inline void hvx_stats_hist_add(u64 *hist, u64 cycles)
{
	BUILD_BUG_ON(HVX_STATS_HIST_BUCKETS != 64);
	hist[cycles ? fls64(cycles) - 1 : 0]++;
}

/**
 * hvx_stats_top_add - count one exit for @key in a by-key table
 * @t: HVX_STATS_TOP entries (struct hvx_stats_top).
 * @key: port, MSR index or page, with the table's key bits.
 *
 * A fixed table of the HVX_STATS_TOP most-seen keys, kept with the
 * "space saving" rule (Metwally et al., 2005): a new key takes the first
 * unused entry or else replaces the entry with the smallest count, whose
 * count it inherits (recorded as overcount). So the cost is one pass over
 * 16 entries at most, and a frequent key cannot be pushed out by a tail of
 * rare ones. Entries fill in order and never empty, so an unused entry ends
 * the search; a hit moves its entry one place forward past one with a
 * smaller count, so that the most frequent keys are found in the first
 * entries. Context: the vCPU's run_lock is held.
 */
static inline void hvx_stats_top_add(struct hvx_stats_top *t, u64 key)
{
	struct hvx_stats_top *min = t;
	int i;

	for (i = 0; i < HVX_STATS_TOP; i++) {
		if (!t[i].count) {
			t[i].key = key;
			t[i].count = 1;
			return;
		}
		if (t[i].key == key) {
			t[i].count++;
			/* One step to the front: the hot keys are found first. */
			if (i && t[i].count > t[i - 1].count)
				swap(t[i], t[i - 1]);
			return;
		}
		if (t[i].count < min->count)
			min = &t[i];
	}
	min->key = key;
	min->overcount = min->count;
	min->count++;
}

static inline unsigned int hvx_stats_index_bucket(u64 key)
{
	return (key >> 12) & (HVX_STATS_INDEX_BUCKETS - 1);
}

/* The first entry with the smallest count: a full pass. */
static inline unsigned int hvx_stats_top_min(const struct hvx_stats_top *t)
{
	unsigned int i, min = 0;

	for (i = 1; i < HVX_STATS_TOP; i++)
		if (t[i].count < t[min].count)
			min = i;
	return min;
}

/**
 * hvx_stats_page_add - count one exit for guest page @key in gpa_pages
 * @st: the vCPU's statistics.
 * @key: the page (GPA & ~0xfff).
 *
 * The table and its rule are those of hvx_stats_top_add(); only the
 * search differs, since a fresh page (every first touch of guest RAM) is
 * a miss, which there costs a pass over all 16 entries. The index tells a
 * miss at once for a key whose bucket holds none of the table's keys, and
 * knows an entry of the smallest count: after a replacement of that entry
 * (count c, now c + 1), the next one with count c is looked for from
 * there on, so that keys seen as often take their turns without a full
 * pass; with none left, the replaced entry is the smallest. A hit on the
 * known entry, which raises its count, makes it unknown until the next
 * miss. Context: the vCPU's run_lock is held.
 */
static inline void hvx_stats_page_add(struct hvx_vcpu_stats *st, u64 key)
{
	struct hvx_stats_top_index *ix = &st->gpa_index;
	struct hvx_stats_top *t = st->s.gpa_pages;
	unsigned int b = hvx_stats_index_bucket(key), i, m;
	u64 c;

	BUILD_BUG_ON(HVX_STATS_TOP > U8_MAX);
	if (ix->keys[b]) {
		for (i = 0; i < ix->used; i++) {
			if (t[i].key != key)
				continue;
			t[i].count++;
			if (ix->min_ok && ix->min == i)
				ix->min_ok = false;
			/* One step to the front, as hvx_stats_top_add(). */
			if (i && t[i].count > t[i - 1].count) {
				swap(t[i], t[i - 1]);
				if (ix->min_ok && ix->min == i - 1)
					ix->min = i;
			}
			return;
		}
	}
	ix->keys[b]++;
	if (ix->used < HVX_STATS_TOP) {
		/* Count 1: no entry has less. */
		m = ix->used++;
		t[m].key = key;
		t[m].count = 1;
		ix->min = m;
		ix->min_ok = true;
		return;
	}
	m = ix->min_ok ? ix->min : hvx_stats_top_min(t);
	ix->keys[hvx_stats_index_bucket(t[m].key)]--;
	c = t[m].count;
	t[m].key = key;
	t[m].overcount = c;
	t[m].count = c + 1;
	ix->min_ok = true;
	ix->min = m;
	for (i = m + 1; i < m + HVX_STATS_TOP; i++) {
		if (t[i % HVX_STATS_TOP].count == c) {
			ix->min = i % HVX_STATS_TOP;
			return;
		}
	}
}

/**
 * hvx_stats_user_enter - HVX_RUN was called: end a userspace round trip
 * @st: the vCPU's statistics.
 *
 * Counts the time since HVX_RUN last returned in hist_user, if that
 * return was timed (stats_timing on then).
 * Context: the vCPU's run_lock is held.
 */
static inline void hvx_stats_user_enter(struct hvx_vcpu_stats *st)
{
	if (st->user_tsc) {
		hvx_stats_hist_add(st->s.hist_user, rdtsc() - st->user_tsc);
		st->user_tsc = 0;
	}
}

/**
 * hvx_stats_user_return - HVX_RUN returns: start timing the round trip
 * @st: the vCPU's statistics.
 * @exit_reason: the HVX_EXIT_* reason reported to userspace.
 * @reported: HVX_RUN reports an exit (returns 0 or -EINTR), so
 *	@exit_reason is counted in user_exits.
 *
 * The round trip is timed only with stats_timing on.
 * Context: the vCPU's run_lock is held.
 */
static inline void hvx_stats_user_return(struct hvx_vcpu_stats *st,
					 u32 exit_reason, bool reported)
{
	if (reported && exit_reason < HVX_STATS_USER_EXITS)
		st->s.user_exits[exit_reason]++;
	st->user_tsc = READ_ONCE(hvx_stats_timing) ? rdtsc() ?: 1 : 0;
}

/**
 * hvx_stats_read - copy a vCPU's exported statistics
 * @st: the vCPU's statistics; may be counting concurrently.
 * @out: where to copy them (e.g. a netlink attribute's payload).
 *
 * Copies one u64 at a time with READ_ONCE(), so no counter is torn.
 * Context: any; the caller keeps the vCPU alive.
 */
static inline void hvx_stats_read(const struct hvx_vcpu_stats *st,
				  struct hvx_stats *out)
{
	const u64 *src = (const u64 *)&st->s;
	u64 *dst = (u64 *)out;
	size_t i;

	BUILD_BUG_ON(sizeof(struct hvx_stats) % sizeof(u64));
	for (i = 0; i < sizeof(struct hvx_stats) / sizeof(u64); i++)
		dst[i] = READ_ONCE(src[i]);
}

#endif /* HVX_VMX_STATS_H */
