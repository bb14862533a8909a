// SPDX-License-Identifier: GPL-2.0
/*
 * pin_user_pages_fast_only(): the lockless pin that never falls back to
 * the slow path (so never faults a page in). Later kernels dropped it.
 */
#include <linux/mm.h>

int hvx_feature_test(void);
int hvx_feature_test(void)
{
	struct page *page;

	return pin_user_pages_fast_only(0, 1, FOLL_LONGTERM | FOLL_WRITE,
					&page);
}
