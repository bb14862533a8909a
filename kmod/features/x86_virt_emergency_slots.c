// SPDX-License-Identifier: GPL-2.0
/*
 * The core's emergency callbacks (arch/x86/virt/hw.c) have a slot for
 * each VMX user, KVM's and hvx's (kmod/patches/ 0005): then hvx keeps
 * its callback registered while it has VMs, kvm_intel loaded or not.
 * Without it there is one slot, and hvx leaves it to kvm_intel.
 */
#include <asm/virt.h>

#if !defined(X86_VIRT_EMERGENCY_SLOTS) || X86_VIRT_EMERGENCY_SLOTS < 2
#error "one emergency callback slot"
#endif
