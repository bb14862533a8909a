// SPDX-License-Identifier: GPL-2.0
/*
 * 6.16 renamed rdmsrl(), wrmsrl() and rdmsrl_safe() to rdmsrq(),
 * wrmsrq() and rdmsrq_safe(). Some are macros, some inline functions,
 * depending on the version and on paravirt, so #ifdef cannot tell.
 */
#include <linux/types.h>
#include <asm/msr.h>

int hvx_feature_test(void);
int hvx_feature_test(void)
{
	u64 v;

	rdmsrq(0x10, v);
	wrmsrq(0x10, v);
	return rdmsrq_safe(0x10, &v);
}
