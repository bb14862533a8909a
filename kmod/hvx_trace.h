/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_trace.h - the tracepoints kmod/ fires (trace system "hvx"), for
 * ftrace and perf, in the spirit of KVM's kvm_userspace_exit:
 *
 *   echo 1 > /sys/kernel/tracing/events/hvx/enable
 *   perf record -e 'hvx:*' ...
 *
 * The VM entry and exit events are vmx/'s own, in vmx/vmx_trace.h.
 * CREATE_TRACE_POINTS is defined in kmod/trace.c only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvx

#if !defined(HVX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HVX_TRACE_H

#include <linux/tracepoint.h>

#include "hvx.h"

/*
 * hvx_userspace_exit - HVX_RUN returns to userspace.
 * @exit_reason: hvx_run.exit_reason (HVX_EXIT_*). @ret: the ioctl's result.
 */
TRACE_EVENT(hvx_userspace_exit,
	TP_PROTO(u32 vm_id, u32 vcpu_id, u32 exit_reason, int ret),
	TP_ARGS(vm_id, vcpu_id, exit_reason, ret),

	TP_STRUCT__entry(
		__field(u32, vm_id)
		__field(u32, vcpu_id)
		__field(u32, exit_reason)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->vm_id = vm_id;
		__entry->vcpu_id = vcpu_id;
		__entry->exit_reason = exit_reason;
		__entry->ret = ret;
	),

	TP_printk("vm %u vcpu %u reason %s ret %d",
		  __entry->vm_id, __entry->vcpu_id,
		  __print_symbolic(__entry->exit_reason, HVX_EXIT_REASONS),
		  __entry->ret)
);

#endif /* HVX_TRACE_H */

/*
 * define_trace.h includes this file again as TRACE_INCLUDE_PATH/FILE.h,
 * found through Kbuild's -I$(src).
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmod
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hvx_trace
#include <trace/define_trace.h>
