// SPDX-License-Identifier: GPL-2.0
/*
 * names.c - names of VM-exit reasons, userspace exits and hypercalls,
 * shared by hvxctl and hvx-run.
 */
#include <stddef.h>
#include <stdio.h>

#include "names.h"

/* Basic VM-exit reasons (SDM Vol. 3D Appendix C), as the kernel's
 * VMX_EXIT_REASONS (and so hvx's tracepoints) name them. */
const char *const hvx_exit_names[HVX_STATS_EXIT_REASONS] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT", [3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL",
	[5] = "IO_SMI", [6] = "OTHER_SMI", [7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID",
	[11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
	[15] = "RDPMC", [16] = "RDTSC", [17] = "RSM", [18] = "VMCALL",
	[19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD",
	[22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMOFF", [27] = "VMON",
	[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION",
	[31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_STATE",
	[34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION",
	[37] = "MONITOR_TRAP_FLAG", [39] = "MONITOR_INSTRUCTION",
	[40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR",
	[48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT",
	[51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID",
	[54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE",
	[57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS",
	[61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES",
	[64] = "XRSTORS", [66] = "SPP", [67] = "UMWAIT", [68] = "TPAUSE",
	[69] = "LOADIWKEY", [70] = "ENCLV", [72] = "ENQCMD_PASID",
	[73] = "ENQCMDS_PASID", [74] = "BUS_LOCK", [75] = "NOTIFY",
	[76] = "SEAMCALL", [77] = "TDCALL", [78] = "RDMSRLIST",
	[79] = "WRMSRLIST",
};

/* HVX_EXIT_* names: uapi/hvx.h's HVX_EXIT_REASONS, the one list. */
static const struct {
	unsigned int reason;
	const char *name;
} user_exits[] = { HVX_EXIT_REASONS };

const char *hvx_user_exit_name(unsigned int reason)
{
	unsigned int i;

	for (i = 0; i < sizeof(user_exits) / sizeof(user_exits[0]); i++)
		if (user_exits[i].reason == reason)
			return user_exits[i].name;
	return NULL;
}

const char *hvx_hc_name(int nr, char *buf, size_t len)
{
	switch (nr) {
	case HVX_HC_VAPIC_POLL_IRQ:
		return "VAPIC_POLL_IRQ";
	case HVX_HC_KICK_CPU:
		return "KICK_CPU";
	case HVX_HC_SEND_IPI:
		return "SEND_IPI";
	case HVX_HC_SCHED_YIELD:
		return "SCHED_YIELD";
	}
	snprintf(buf, len, "HC_%d", nr);
	return buf;
}
