// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - the VMX state of a VM, shared by its vCPUs (struct hvx_vmx_vm):
 * the I/O bitmaps, the TSC offset, the MSR-exit policy and the vCPU
 * count. kmod/ embeds it in its VM object and creates and destroys it
 * with the VM; vCPUs reach it through their @vm pointer.
 */
#include <linux/gfp.h>
#include <linux/string.h>

#include "vmx.h"

/**
 * hvx_vmx_vm_init - set up a VM's VMX state
 * @vm: the state, zeroed.
 * @mem: the VM's guest-physical address space.
 * @flags: the VM's HVX_VM_* flags (HVX_VM_MSR_EXITS, HVX_VM_NO_VCPUS).
 *
 * A VM that will have vCPUs gets its I/O bitmaps, every bit set (every
 * port exits), if the CPU offers "use I/O bitmaps" (SDM Vol. 3C 25.6.4);
 * they exit exactly as unconditional I/O exiting does until a port is
 * passed through. Two pages per VM, charged to the caller's memory cgroup.
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
int hvx_vmx_vm_init(struct hvx_vmx_vm *vm, struct hvx_mem *mem, u32 flags)
{
	vm->mem = mem;
	vm->msr_exits = flags & HVX_VM_MSR_EXITS;
	if ((flags & HVX_VM_NO_VCPUS) ||
	    !(hvx_caps.proc_may & CPU_BASED_USE_IO_BITMAPS))
		return 0;
	vm->io_bitmap = (unsigned long *)__get_free_pages(GFP_KERNEL_ACCOUNT, 1);
	if (!vm->io_bitmap)
		return -ENOMEM;
	memset(vm->io_bitmap, 0xff, 2 * PAGE_SIZE);
	return 0;
}

/**
 * hvx_vmx_vm_destroy - free what hvx_vmx_vm_init() allocated
 * @vm: the state; no vCPU is left. Also safe after a failed init.
 *
 * Context: process context.
 */
void hvx_vmx_vm_destroy(struct hvx_vmx_vm *vm)
{
	if (vm->io_bitmap)
		free_pages((unsigned long)vm->io_bitmap, 1);
	vm->io_bitmap = NULL;
}

/**
 * hvx_vmx_vm_set_tsc_offset - set the TSC offset of every vCPU of a VM
 * @vm: the VM's VMX state.
 * @offset: TSC cycles added to the host's TSC.
 *
 * Each vCPU takes the new offset at its next run (and its own adjustment,
 * IA32_TSC_ADJUST, restarts at zero): hvx_vmx_sync_tsc_offset().
 * Context: the caller serialises setters (kmod/: the VM lock).
 */
void hvx_vmx_vm_set_tsc_offset(struct hvx_vmx_vm *vm, s64 offset)
{
	WRITE_ONCE(vm->tsc_offset, offset);
	/* Pairs with the read in hvx_vmx_sync_tsc_offset(). */
	smp_mb__before_atomic();
	atomic_inc(&vm->tsc_gen);
}
