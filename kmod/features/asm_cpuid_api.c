// SPDX-License-Identifier: GPL-2.0
/*
 * 6.15 moved cpuid_count(), cpuid_eax() and friends from
 * <asm/processor.h> into <asm/cpuid/api.h>. (A test rather than
 * __has_include(), which sparse does not understand.)
 */
#include <asm/cpuid/api.h>

unsigned int hvx_feature_test(void);
unsigned int hvx_feature_test(void)
{
	return cpuid_eax(0);
}
