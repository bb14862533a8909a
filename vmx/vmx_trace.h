/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmx_trace.h - the tracepoints of the vmx/ room (trace system "hvx", as
 * kmod/hvx_trace.h), in the spirit of KVM's kvm_entry/kvm_exit. They
 * take plain values, not hvx structs. CREATE_TRACE_POINTS is defined in
 * vmx/trace.c only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvx

#if !defined(HVX_VMX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HVX_VMX_TRACE_H

#include <linux/tracepoint.h>
#include <asm/vmx.h>

/*
 * hvx_vm_entry - a VM entry is about to happen (interrupts are off).
 * @vm_id: registry id of the VM. @vcpu_id: vCPU id. @rip: guest RIP.
 */
TRACE_EVENT(hvx_vm_entry,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u64 rip),
	TP_ARGS(vm_id, vcpu_id, rip),

	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->rip = rip;
	),

	TP_printk("vm %u vcpu %u rip 0x%llx",
		  __entry->vm_id, __entry->vcpu_id, __entry->rip)
);

/*
 * hvx_vm_exit - a VM exit, before its handler runs.
 * @exit_reason: the full exit reason (bit 31: VM entry failed).
 * @qual: exit qualification (SDM Vol. 3C 28.2.1). @rip: guest RIP.
 */
TRACE_EVENT(hvx_vm_exit,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u32 exit_reason, u64 qual, u64 rip),
	TP_ARGS(vm_id, vcpu_id, exit_reason, qual, rip),

	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u32, exit_reason)
		__field(u64, qual)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->exit_reason = exit_reason;
		__entry->qual = qual;
		__entry->rip = rip;
	),

	TP_printk("vm %u vcpu %u reason %s%s qual 0x%llx rip 0x%llx",
		  __entry->vm_id, __entry->vcpu_id,
		  __print_symbolic(__entry->exit_reason & 0xffff,
				   VMX_EXIT_REASONS),
		  __entry->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY ?
			" (entry failed)" : "",
		  __entry->qual, __entry->rip)
);

#endif /* HVX_VMX_TRACE_H */

/*
 * define_trace.h includes this file again as TRACE_INCLUDE_PATH/FILE.h,
 * found through Kbuild's -I$(src).
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH vmx
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vmx_trace
#include <trace/define_trace.h>
