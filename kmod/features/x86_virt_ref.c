// SPDX-License-Identifier: GPL-2.0
/*
 * The core kernel owns VMXON (arch/x86/virt/hw.c): x86_virt_get_ref() and
 * x86_virt_put_ref() keep a per-CPU count of VMX users, shared by KVM and
 * TDX, with one emergency callback slot. Declared only when the kernel
 * has KVM (CONFIG_KVM_X86); exported to hvx by kmod/patches/ (Kbuild
 * checks the export itself).
 */
#include <asm/cpufeatures.h>
#include <asm/virt.h>

int hvx_feature_test(void);
int hvx_feature_test(void)
{
	int r = x86_virt_get_ref(X86_FEATURE_VMX);

	if (!r)
		x86_virt_put_ref(X86_FEATURE_VMX);
	x86_virt_register_emergency_callback(NULL);
	x86_virt_unregister_emergency_callback(NULL);
	return r;
}
