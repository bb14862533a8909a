// SPDX-License-Identifier: GPL-2.0
/*
 * Preempt notifiers exist only in kernels built with
 * CONFIG_PREEMPT_NOTIFIERS (selected by KVM): without them struct
 * preempt_notifier has no definition and this fails to compile.
 */
#include <linux/preempt.h>

void hvx_feature_test(struct preempt_notifier *pn, struct preempt_ops *ops);
void hvx_feature_test(struct preempt_notifier *pn, struct preempt_ops *ops)
{
	preempt_notifier_init(pn, ops);
	preempt_notifier_inc();
	preempt_notifier_register(pn);
}
