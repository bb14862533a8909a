// SPDX-License-Identifier: GPL-2.0
/*
 * ktime_get_snapshot() gave way to ktime_get_snapshot_id(), which names
 * the clock to capture beside the clocksource counter (7.x).
 */
#include <linux/timekeeping.h>

void hvx_feature_test(void);
void hvx_feature_test(void)
{
	struct system_time_snapshot snap;

	ktime_get_snapshot_id(CLOCK_MONOTONIC, &snap);
}
