// SPDX-License-Identifier: GPL-2.0
/*
 * x86_entry_from_kvm(): hands an NMI or interrupt that caused a VM exit
 * to the host's handler through the FRED or the IDT entry, whichever the
 * kernel runs with (7.x; exported to hvx by kmod/patches/).
 */
#include <asm/entry-common.h>
#include <asm/trapnr.h>

void hvx_feature_test(void);
void hvx_feature_test(void)
{
	x86_entry_from_kvm(EVENT_TYPE_NMI, X86_TRAP_NMI);
}
