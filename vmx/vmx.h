/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmx.h - the vmx/ room: VMX root mode, VMCS, VM entry and exit handling.
 *
 * Callers (kmod/) see struct hvx_vmx_vcpu and the hvx_vmx_*() functions.
 * Nothing in vmx/ knows about file descriptors or ioctls; it reports exits
 * by filling the shared struct hvx_run, which is the ABI's description of
 * an exit.
 */
#ifndef HVX_VMX_H
#define HVX_VMX_H

#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <asm/apicdef.h>
#include <asm/asm.h>
#include <asm/fpu/types.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "hvx.h"
#include "stats.h"
#include "vmenter.h"
#include "../ept/ept.h"
#include "../kmod/compat.h"

/* DR6/DR7 bits that read as 1 (SDM Vol. 3B 18.2.3, 18.2.4). */
#define HVX_DR6_FIXED_1	0xffff0ff0ULL
#define HVX_DR7_FIXED_1	0x400ULL

/* Guest x87/SSE/AVX state, XSAVE standard format (SDM Vol. 1 13.4). */
#define HVX_FPU_AREA_SIZE	1024

/* CR4 bits a guest may set, besides OSXSAVE when XSAVE is offered. */
#define HVX_CR4_GUEST_BASE (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | \
			    X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
			    X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | \
			    X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

/* IA32_EFER bits a guest may set: SCE, LME, LMA, NXE (SDM Vol. 3A 2.2.1). */
#define HVX_EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/**
 * hvx_is_canonical - is @addr canonical for 48-bit linear addresses?
 * @addr: a linear address.
 *
 * Bits 63:47 must all equal bit 47 (SDM Vol. 1 3.3.7.1).
 * Return: true if canonical.
 */
static inline bool hvx_is_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

/* GPR indices in hardware encoding order (SDM Vol. 2A 2.1.5, Table 2-2). */
enum hvx_gpr {
	HVX_RAX, HVX_RCX, HVX_RDX, HVX_RBX, HVX_RSP, HVX_RBP, HVX_RSI, HVX_RDI,
	HVX_R8, HVX_R9, HVX_R10, HVX_R11, HVX_R12, HVX_R13, HVX_R14, HVX_R15,
	HVX_NR_GPRS
};

/**
 * struct hvx_vmx_caps - VMX capabilities read once at module load
 * @basic: IA32_VMX_BASIC (SDM Vol. 3D A.1).
 * @pin: pin-based controls hvx uses (A.3.1).
 * @proc: primary processor-based controls (A.3.2).
 * @proc2: secondary processor-based controls (A.3.3).
 * @exit: VM-exit controls (A.4).
 * @entry: VM-entry controls (A.5).
 * @cr0_fixed0: CR0 bits that must be 1 in VMX operation (A.7).
 * @cr0_fixed1: CR0 bits that may be 1 (A.7).
 * @cr4_fixed0: CR4 bits that must be 1 (A.8).
 * @cr4_fixed1: CR4 bits that may be 1 (A.8).
 * @ept_vpid: IA32_VMX_EPT_VPID_CAP (A.10).
 * @vmcs_size: bytes of a VMCS region (A.1, bits 44:32).
 * @revision: VMCS revision identifier (A.1, bits 30:0).
 * @vpid: VPIDs are used.
 * @proc_may: primary processor-based controls the CPU allows to be 1.
 * @proc2_may: secondary processor-based controls the CPU allows to be 1
 *	(for assists enabled per vCPU, e.g. virtualize APIC accesses).
 * @debugctl: IA32_DEBUGCTL exists; a VM exit clears it (SDM Vol. 3C
 *	28.5.1), so hvx restores the host's value.
 * @spec_ctrl: IA32_SPEC_CTRL bits a guest may set (IBRS, STIBP, SSBD as the
 *	host has them), 0 if the host has no SPEC_CTRL (SDM Vol. 4 2.1).
 * @ibpb: the host has IBPB, so guest writes to IA32_PRED_CMD are honoured.
 * @fast_string: the host's IA32_MISC_ENABLE has fast-string operation
 *	enabled (SDM Vol. 4 Table 2-2, bit 0). A guest's string instructions
 *	run under the host's setting, so its MISC_ENABLE shows the same after
 *	a reset: a guest that checks the bit (Linux does) picks the same
 *	string routines as the host.
 * @host_xcr0: the host's XCR0, restored after every exit.
 * @guest_xcr0: XCR0 bits a guest may enable (x87, SSE, AVX as the host
 *	has them), or 0 when the host has no XSAVE: guests then get FXSAVE
 *	state only and no XSAVE in CPUID.
 * @preempt_timer: VMX-preemption timer value, in timer ticks (TSC >>
 *	IA32_VMX_MISC[4:0], SDM Vol. 3C 26.5.1): one host tick's worth, or 0
 *	when the CPU has no preemption timer. With the "save VMX-preemption
 *	timer value" exit control (in @exit) the timer keeps counting down
 *	across exits and is only reloaded after it expired or a host
 *	interrupt caused an exit; without it, it is loaded before every
 *	entry.
 * @cr4_native: CR4 bits for features the CPU carries out for a guest by
 *	itself, offered as the host has them (vmx.c, probe_cr4_native()).
 * @tick_tsc: TSC cycles in one host tick (tsc_khz * 1000 / HZ, at least
 *	1): how long the exit fast path may keep interrupts off (exit.c).
 */
struct hvx_vmx_caps {
	u64 basic;
	u32 pin, proc, proc2, exit, entry;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;
	u32 vmcs_size, revision;
	bool vpid;
	u32 proc_may, proc2_may;
	bool debugctl;
	u64 spec_ctrl;
	bool ibpb;
	bool fast_string;
	u64 host_xcr0, guest_xcr0;
	u32 preempt_timer;
	u64 cr4_native;
	u64 tick_tsc;
};

extern struct hvx_vmx_caps hvx_caps;

/* Pending work that the next HVX_RUN completes with userspace's data. */
enum hvx_pending {
	HVX_PENDING_NONE,
	HVX_PENDING_IO,		/* IN/OUT or INS/OUTS, see struct hvx_io_op */
	HVX_PENDING_MMIO,	/* MMIO access, see struct hvx_mmio_op */
	HVX_PENDING_MSR,	/* RDMSR/WRMSR handed to userspace */
	HVX_PENDING_HYPERCALL,	/* VMCALL handed to userspace: RAX to set */
};

struct hvx_vmx_vcpu;

/**
 * struct hvx_vmx_dev_ops - in-kernel devices, as the exit handlers see them
 * @pio: a port access. @val holds the data of an OUT and receives the
 *	data of an IN (the low @size bytes). Return 0 if a device handled
 *	it, -ENOENT if no device claims @port (the access goes to
 *	userspace).
 * @pio_fast: as @pio, with interrupts off (the exit fast path), for the
 *	devices that allow it: 0 if one handled the access, -ENOENT if no
 *	device claims @port (the exit goes to userspace without @pio),
 *	-EAGAIN if the port needs @pio in process context. Must not sleep;
 *	may be NULL.
 * @mmio: the same for a guest-physical address outside RAM.
 * @intr_pending: the vector of the highest-priority external interrupt
 *	that the in-kernel interrupt controllers hold for this vCPU, or -1.
 *	Must not change state.
 * @intr_ack: the vCPU is injecting @vector now (the INTA cycle: the
 *	controller moves it from "requested" to "in service"). Returns the
 *	vector to inject, which can differ from @vector (a PIC answers a
 *	vanished request with its spurious vector), or -1 for none; sets
 *	*@src to where it came from (HVX_IRQ_SRC_*, for the statistics).
 *
 * Set by kmod/ before the vCPU first runs (hvx_vmx_set_dev_ops()); all
 * called by the vCPU's own thread, in process context with preemption
 * enabled, and may sleep, except @pio_fast.
 */
struct hvx_vmx_dev_ops {
	int (*pio)(struct hvx_vmx_vcpu *v, u16 port, bool in, u8 size,
		   u64 *val);
	int (*pio_fast)(struct hvx_vmx_vcpu *v, u16 port, bool in, u8 size,
			u64 *val);
	int (*mmio)(struct hvx_vmx_vcpu *v, u64 gpa, bool write, u8 size,
		    u64 *val);
	int (*intr_pending)(struct hvx_vmx_vcpu *v);
	int (*intr_ack)(struct hvx_vmx_vcpu *v, int vector, int *src);
};

/**
 * struct hvx_vmx_pv_ops - what hypercalls do to other vCPUs (hypercall.c)
 * @kick: KVM_HC_KICK_CPU: the vCPU with APIC id @apic_id leaves a halt
 *	(or its next HLT completes at once). Unknown ids are ignored.
 * @send_ipi: KVM_HC_SEND_IPI: deliver the fixed IPI of ICR low word @icr
 *	to APIC ids @min + i for each bit i of @map[0] and @min + @cluster
 *	+ i for each bit i of @map[1] (@cluster: 64, or 32 outside 64-bit
 *	mode, where only the low 32 bits of each word are used), through
 *	the in-kernel local APICs. Returns how many APICs took it. May be
 *	NULL (no in-kernel LAPIC).
 * @yield: KVM_HC_SCHED_YIELD: give the CPU to the thread of the vCPU
 *	with APIC id @apic_id if it is runnable but not running.
 * @wake: wake the thread of sibling vCPU @id if it still exists
 *	(hvx_vmx_wake()): a wake-up @v deferred (hvx_vmx_kick()). Any
 *	context; does not sleep. May be NULL: then nothing is deferred.
 *
 * Set by kmod/ before the vCPU first runs; @kick and @send_ipi are called
 * on the exit fast path with interrupts off and must not sleep; @yield
 * is called in process context.
 */
struct hvx_vmx_pv_ops {
	void (*kick)(struct hvx_vmx_vcpu *v, u64 apic_id);
	long (*send_ipi)(struct hvx_vmx_vcpu *v, const unsigned long *map,
			 unsigned int cluster, u64 min, u32 icr);
	void (*yield)(struct hvx_vmx_vcpu *v, u64 apic_id);
	void (*wake)(struct hvx_vmx_vcpu *v, u32 id);
};

/* APIC virtualization assists of a vCPU (hvx_vmx_vcpu.apicv). */
#define HVX_APICV_REG	BIT(0)	/* APIC-register virtualization */
#define HVX_APICV_VID	BIT(1)	/* virtual-interrupt delivery */

/**
 * struct hvx_vmx_apicv_state - VMCS fields of virtual-interrupt delivery
 * @eoi_exit: EOI-exit bitmap, vectors 0-255 (SDM Vol. 3C 25.6.8): an EOI
 *	of a vector whose bit is set causes an EOI-induced exit.
 * @intr_status: guest interrupt status (25.4.2): SVI in bits 15:8, RVI
 *	in bits 7:0.
 */
struct hvx_vmx_apicv_state {
	u64 eoi_exit[4];
	u16 intr_status;
};

/* Operations of struct hvx_vmx_apic_ops.msr. */
enum hvx_msr_op {
	HVX_MSR_READ,	/* fill *val */
	HVX_MSR_CHECK,	/* would *val be accepted? change nothing */
	HVX_MSR_WRITE,	/* write *val (checked first) */
};

/**
 * struct hvx_vmx_apic_ops - an in-kernel local APIC, as vmx/ sees it
 * @msr: RDMSR/WRMSR, HVX_GET_MSRS/HVX_SET_MSRS of IA32_APIC_BASE,
 *	IA32_TSC_DEADLINE and the x2APIC MSRs 0x800-0x8ff (enum hvx_msr_op).
 *	Returns 0, -EINVAL if the CPU would raise #GP(0), or -ENOENT if the
 *	MSR is not the APIC's (vmx/ handles it as before).
 * @init: the vCPU took an INIT (after hvx_vmx_reset(), with IA32_APIC_BASE
 *	kept as it was: SDM Vol. 3A 11.4.7.3, 11.12.5.1): reset the APIC.
 * @tpr_threshold: 0..15, for the TPR-threshold VMCS field when the CPU
 *	has the TPR shadow: the priority class of the highest interrupt
 *	that only the TPR holds back, else 0, so that a guest MOV to CR8
 *	that lowers the TPR below it exits (SDM Vol. 3C 30.1.2).
 *
 * @sync: with APIC virtualization (hvx_vmx_vcpu.apicv), before an entry
 *	that evaluates interrupts (HVX_REQ_EVENT): copy what changed of the
 *	APIC's registers to the virtual-APIC page where the
 *	CPU reads them (SDM Vol. 3C 30.4.2, 30.5) and, with virtual-interrupt
 *	delivery, move new requests into VIRR and fill @st: the EOI-exit
 *	bitmap and RVI/SVI (30.1.1, 30.2). @st holds the values of the last
 *	entry on the call. Returns false when nothing changed since then
 *	(the VMCS fields stay as the CPU left them).
 * @eoi_exit: an EOI-induced exit for @vector (SDM Vol. 3C 30.1.4): the
 *	CPU has retired it from VISR; finish the EOI (I/O APIC).
 * @apic_write: an APIC-write exit: the guest's write to register @offset
 *	(offset in the APIC page) is on the virtual-APIC page; emulate it
 *	(SDM Vol. 3C 30.4.3.3).
 * @vid_pending: with virtual-interrupt delivery: does the APIC hold a
 *	vector the CPU would deliver (above the processor priority)? For
 *	waking a halted vCPU; changes nothing.
 * @pv_eoi: the guest signalled the EOI of the interrupt hvx offered a
 *	paravirtual EOI for (vmx/pvmsr.c) by clearing its flag: retire the
 *	highest in-service vector as an EOI write would.
 * @msr_fast: as @msr with HVX_MSR_WRITE, with interrupts off (the exit
 *	fast path), for the x2APIC EOI and TPR and IA32_TSC_DEADLINE only.
 *	Returns 0 when done, -EAGAIN when the write needs @msr in process
 *	context or would raise #GP (nothing changed then).
 * @apic_write_fast: as @apic_write with interrupts off, for the EOI and
 *	TPR registers only. Returns false when the write needs @apic_write
 *	(nothing changed then).
 *
 * Set by kmod/ on vCPUs that have an in-kernel local APIC; all called by
 * the vCPU's own thread (@tpr_threshold and @sync with preemption disabled
 * and the VMCS current, @msr_fast and @apic_write_fast with interrupts
 * off: they must not sleep).
 */
struct hvx_vmx_apic_ops {
	int (*msr)(struct hvx_vmx_vcpu *v, u32 index, enum hvx_msr_op op,
		   u64 *val);
	void (*init)(struct hvx_vmx_vcpu *v);
	int (*tpr_threshold)(struct hvx_vmx_vcpu *v);
	bool (*sync)(struct hvx_vmx_vcpu *v, struct hvx_vmx_apicv_state *st);
	void (*eoi_exit)(struct hvx_vmx_vcpu *v, u8 vector);
	void (*apic_write)(struct hvx_vmx_vcpu *v, u32 offset);
	bool (*vid_pending)(struct hvx_vmx_vcpu *v);
	void (*pv_eoi)(struct hvx_vmx_vcpu *v);
	int (*msr_fast)(struct hvx_vmx_vcpu *v, u32 index, u64 val);
	bool (*apic_write_fast)(struct hvx_vmx_vcpu *v, u32 offset);
};

/**
 * struct hvx_io_op - a port I/O instruction waiting for userspace
 * @in: IN/INS (data flows into the guest).
 * @string: INS/OUTS.
 * @rep: REP prefix.
 * @size: element size, bytes.
 * @port: the I/O port, from the exit qualification; kept here because the
 *	run page is writable by userspace.
 * @count: elements carried by this exit.
 * @addr_mask: address-size mask for RSI/RDI/RCX (0xffff, 0xffffffff, ~0).
 * @gpa: guest physical address of the lowest element (string I/O).
 * @backward: RFLAGS.DF was set.
 */
struct hvx_io_op {
	bool in, string, rep, backward;
	u8 size;
	u16 port;
	u32 count;
	u64 addr_mask;
	u64 gpa;
};

/**
 * enum hvx_insn_op - what an instruction decoded for MMIO does
 * @HVX_OP_NONE: not an instruction hvx emulates.
 * @HVX_OP_MOV_LOAD: MOV r, m (8A/8B, A0/A1).
 * @HVX_OP_MOV_STORE: MOV m, r or imm (88/89, A2/A3, C6/C7 /0).
 * @HVX_OP_MOVX: MOVZX/MOVSX r, m8/m16 (0F B6/B7/BE/BF).
 * @HVX_OP_ALU: ADD OR ADC SBB AND SUB XOR CMP TEST with a memory operand
 *	(00-3B, 80-83, 84/85, F6/F7 /0); see enum hvx_alu.
 * @HVX_OP_XCHG: XCHG m, r (86/87).
 * @HVX_OP_MOVS: MOVS (A4/A5), optionally REP.
 * @HVX_OP_STOS: STOS (AA/AB), optionally REP.
 * @HVX_OP_LODS: LODS (AC/AD), optionally REP.
 * @HVX_OP_SCAS: SCAS (AE/AF), optionally REPE/REPNE.
 * @HVX_OP_CMPS: CMPS (A6/A7), optionally REPE/REPNE; either or both
 *	operands on MMIO.
 * @HVX_OP_BT: BT BTS BTR BTC m, r or imm8 (0F A3/AB/B3/BB, 0F BA /4-/7);
 *	enum hvx_bt in @alu.
 * @HVX_OP_XADD: XADD m, r (0F C0/C1).
 * @HVX_OP_CMPXCHG: CMPXCHG m, r (0F B0/B1).
 * @HVX_OP_SETCC: SETcc m8 (0F 90-9F); condition in @alu.
 * @HVX_OP_CMOV: CMOVcc r, m (0F 40-4F); condition in @alu.
 * @HVX_OP_CMPXCHG8B: CMPXCHG8B m64, CMPXCHG16B m128 (0F C7 /1).
 * @HVX_OP_VEC_LOAD: SSE load of an XMM register: MOVUPS MOVUPD MOVAPS
 *	MOVAPD MOVDQU MOVDQA MOVSS MOVSD MOVD MOVQ xmm, m.
 * @HVX_OP_VEC_STORE: SSE store of an XMM register: the same moves m, xmm,
 *	and MOVNTPS MOVNTPD MOVNTDQ. Both also in their VEX forms (VMOVDQU
 *	..., with YMM registers for VEX.256).
 * @HVX_OP_CACHE_FLUSH: CLFLUSH, CLFLUSHOPT m8 (0F AE /7, 66 0F AE /7),
 *	CLWB m8 (66 0F AE /6): no access a device could see.
 */
enum hvx_insn_op {
	HVX_OP_NONE,
	HVX_OP_MOV_LOAD,
	HVX_OP_MOV_STORE,
	HVX_OP_MOVX,
	HVX_OP_ALU,
	HVX_OP_XCHG,
	HVX_OP_MOVS,
	HVX_OP_STOS,
	HVX_OP_LODS,
	HVX_OP_SCAS,
	HVX_OP_CMPS,
	HVX_OP_BT,
	HVX_OP_XADD,
	HVX_OP_CMPXCHG,
	HVX_OP_SETCC,
	HVX_OP_CMOV,
	HVX_OP_CMPXCHG8B,
	HVX_OP_VEC_LOAD,
	HVX_OP_VEC_STORE,
	HVX_OP_CACHE_FLUSH,
};

/* Bit-test operations (HVX_OP_BT), in the order of group 8's /4-/7. */
enum hvx_bt { HVX_BT, HVX_BTS, HVX_BTR, HVX_BTC };

/*
 * ALU operations; 0-7 are the encoding in opcode bits 5:3 and in
 * ModR/M.reg of group 1 (SDM Vol. 2D Table A-6).
 */
enum hvx_alu {
	HVX_ALU_ADD, HVX_ALU_OR, HVX_ALU_ADC, HVX_ALU_SBB,
	HVX_ALU_AND, HVX_ALU_SUB, HVX_ALU_XOR, HVX_ALU_CMP,
	HVX_ALU_TEST,
};

/* Segment registers in the VMX order of the instruction-information field. */
enum hvx_seg {
	HVX_SEG_ES, HVX_SEG_CS, HVX_SEG_SS, HVX_SEG_DS, HVX_SEG_FS, HVX_SEG_GS,
};

/**
 * struct hvx_insn - an instruction decoded by hvx_decode()
 * @len: instruction length, bytes.
 * @op: enum hvx_insn_op.
 * @alu: enum hvx_alu for HVX_OP_ALU, enum hvx_bt for HVX_OP_BT, the
 *	condition (tttn, SDM Vol. 2A B.1.4.7) for SETcc and CMOVcc.
 * @size: memory operand size (each element for MOVS/STOS), bytes.
 * @opsize: operand size, bytes (2, 4 or 8).
 * @addr_size: address size, bytes (2, 4 or 8).
 * @reg: the register operand (enum hvx_gpr); HVX_RAX for moffs and STOS.
 * @reg_size: its size, bytes (the operand size for MOVZX/MOVSX).
 * @high_byte: @reg is AH, CH, DH or BH (then @reg - 4 holds it).
 * @reg_dst: the register is the destination (loads, "op r, m" forms).
 * @sign_extend: MOVSX.
 * @has_imm: the other operand is @imm instead of @reg.
 * @rep: a REP prefix (F2 or F3).
 * @repne: the REP prefix was F2 (REPNE for CMPS and SCAS).
 * @vex: HVX_OP_VEC_*: VEX-encoded (VMOVDQU ...): a load zeroes the
 *	register above the operand up to bit 255.
 * @vec_size: HVX_OP_VEC_* and HVX_OP_CMPXCHG8B: the memory operand's
 *	size in bytes (4, 8, 16 or 32), accessed in @size pieces (at most 8
 *	bytes, one exit each); for HVX_OP_VEC_*, @reg is the XMM register.
 * @lock: a LOCK prefix.
 * @seg: the segment of a MOVS source (enum hvx_seg): DS or the override.
 * @seg_override: @seg comes from a prefix (64-bit mode: FS or GS only).
 * @imm: the immediate, sign-extended to 64 bits.
 * @mem: how the memory operand is addressed (enum hvx_insn_mem); the
 *	fields below describe it (emulate.c computes its linear address
 *	where the exit does not report one: APIC-access exits).
 * @modrm: HVX_MEM_MODRM: the ModR/M byte (mod is never 3).
 * @sib: the SIB byte, if ModR/M has one (32- and 64-bit addressing).
 * @rex: REX.X (bit 1) and REX.B (bit 0), or VEX's X and B, uninverted.
 * @disp: the displacement, sign-extended; HVX_MEM_MOFFS: the offset.
 */
struct hvx_insn {
	u8 len, op, alu, size, opsize, addr_size;
	u8 reg, reg_size;
	bool high_byte, reg_dst, sign_extend, has_imm, rep, lock;
	u8 seg;
	bool seg_override, repne, vex;
	u8 vec_size;
	u64 imm;
	u8 mem, modrm, sib, rex;
	s64 disp;
};

/* struct hvx_insn.mem: the memory operand's addressing. */
enum hvx_insn_mem {
	HVX_MEM_NONE,		/* string instructions: rSI and rDI */
	HVX_MEM_MODRM,		/* ModR/M, SIB, displacement */
	HVX_MEM_MOFFS,		/* MOV to/from moffs: an absolute offset */
};

/* The MMIO access an instruction waits on (struct hvx_mmio_op.stage). */
enum hvx_mmio_stage {
	HVX_MMIO_READ,		/* userspace supplies the data */
	HVX_MMIO_WRITE,		/* userspace takes the data */
};

/**
 * struct hvx_mmio_op - an MMIO instruction in progress
 * @insn: the decoded instruction.
 * @stage: enum hvx_mmio_stage of the access userspace is handling.
 * @gpa: guest-physical address of that access.
 * @src: the operand that is not the MMIO one: register value or
 *	immediate (MOV store, ALU, XCHG, STOS) or the element read from RAM
 *	(MOVS to MMIO).
 * @dst_la: MOVS from MMIO: linear address of the destination element.
 * @dst_gpa: MOVS from MMIO: its guest-physical address.
 * @addr_mask: MOVS/STOS: address-size mask for RSI/RDI/RCX.
 * @backward: MOVS/STOS: RFLAGS.DF was set.
 * @set_reg: on completion, load @reg_val into the register operand.
 * @reg_val: the value.
 * @set_flags: on completion, load the arithmetic flags from @flags.
 * @flags: RFLAGS bits computed by the ALU operation.
 * @dst_reg: the register @reg_val goes to (enum hvx_gpr): the register
 *	operand, or rAX for CMPXCHG.
 * @dst_high: @dst_reg is AH, CH, DH or BH.
 * @second: CMPS: the first operand (DS:RSI) is read, in @src.
 * @frag: HVX_OP_VEC_*, HVX_OP_CMPXCHG8B: the piece of the operand
 *	being accessed.
 * @vec_gpa: the same: guest-physical address of the operand.
 * @vec: the same: the data, low quadword first.
 * @la: linear address of the MMIO operand, from the EPT violation; read
 *	only while the guest has breakpoints armed (@la_valid), for data
 *	breakpoints on the emulated access.
 * @la_valid: @la holds it.
 *
 * An instruction takes one or two exits to userspace: a read, a write, or
 * a read and then the write of the result (ALU read-modify-write, XCHG,
 * MOVS between two MMIO addresses). Guest state changes only when the
 * last access completes.
 */
struct hvx_mmio_op {
	struct hvx_insn insn;
	u8 stage;
	bool backward, set_reg, set_flags;
	u64 gpa, src, dst_la, dst_gpa, addr_mask, reg_val;
	unsigned long flags;
	u8 dst_reg;
	bool dst_high, second;
	u8 frag;
	u64 vec_gpa;
	u64 vec[4];
	u64 la;
	bool la_valid;
};

/**
 * struct hvx_vmx_host_state - host state a VM exit does not give back
 * @ds: DS selector (a VM exit loads the null selector, SDM Vol. 3C 28.5.2).
 * @es: ES selector, likewise.
 * @fs: FS selector, likewise; FS base comes back from HOST_FS_BASE.
 * @gs: GS selector, likewise; GS base is the kernel's (HOST_GS_BASE).
 * @ldt: LDTR selector (a VM exit leaves LDTR unusable).
 * @fs_base: IA32_FS_BASE of the vCPU thread.
 * @kernel_gs_base: IA32_KERNEL_GS_BASE of the vCPU thread.
 * @debugctl: IA32_DEBUGCTL (a VM exit clears it, SDM Vol. 3C 28.5.1).
 *
 * Saved once per run (vmx/run.c), given back when the run ends or the
 * thread is scheduled out.
 */
struct hvx_vmx_host_state {
	u16 ds, es, fs, gs, ldt;
	unsigned long fs_base, kernel_gs_base, debugctl;
};

/**
 * struct hvx_vmx_run_state - the per-run level of the run loop (run.c)
 * @pn: preempt notifier, registered while the thread is inside HVX_RUN.
 * @host: the host's state saved at the first entry of the run.
 * @gfpu: the guest's FPU state, in the kernel's guest-fpstate format
 *	(unused where HVX_GUEST_FPSTATE is 0: then @fpu of the vCPU).
 * @host_fs_base: HOST_FS_BASE as last written into this VMCS.
 * @host_fs_base_ok: @host_fs_base is valid.
 * @host_cr3: HOST_CR3 as last written into this VMCS.
 * @host_cr4: HOST_CR4, likewise.
 * @host_cr_ok: @host_cr3 and @host_cr4 are valid.
 * @loaded: @host is saved and the guest's per-run state is in the CPU.
 * @kgs_loaded: the guest's IA32_KERNEL_GS_BASE is in the CPU.
 * @msrs_stale: a guest user-return MSR changed: load it at the next entry.
 * @in_run: between hvx_vmx_vcpu_load() and hvx_vmx_vcpu_put().
 * @pn_inc: this vCPU holds a preempt_notifier_inc() reference.
 * @fpu_in: @gfpu is the thread's FPU state (fpu_swap_kvm_fpstate()).
 * @xcr0_loaded: the guest's XCR0 is in the CPU (around an entry only).
 * @ready: a candidate for directed yield (read by siblings,
 *	hvx_vcpu_on_spin()), as KVM's vcpu->ready: the thread was
 *	scheduled out while runnable (preempted), or was woken from its
 *	sleep by a kick (hvx_vmx_kick()), inside HVX_RUN, and has not run
 *	since. Cleared when it is scheduled in, at each entry and at the
 *	end of the run.
 * @preempted_user: the guest was above CPL 0 at the thread's last exit
 *	when the thread was last scheduled out, preempted (KVM's
 *	!preempted_in_kernel): read then, once, by sched_out
 *	(hvx_vmx_peek() of SS.DPL), false when the thread slept or the
 *	VMCS was not current there. A sibling spinning at CPL 0 skips such
 *	a vCPU (hvx_vmx_preempted_in_user()).
 * @kick_ids: bit i: the sleeping thread of sibling vCPU i was kicked by
 *	this vCPU's thread while it handled an exit (hvx_vmx_kick()), the
 *	wake-up deferred to its next entry (hvx_vmx_kick_flush()). Ids, not
 *	pointers: the sibling is looked up under RCU when it is woken
 *	(hvx_vmx_pv_ops.wake), as it may go away meanwhile. Bits are set by
 *	this vCPU's thread, taken with xchg() by it or by @kick_work.
 * @kick_work: wakes @kick_ids when the thread is scheduled out first.
 */
struct hvx_vmx_run_state {
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	struct preempt_notifier pn;
	unsigned long kick_ids;
	struct irq_work kick_work;
#endif
	struct hvx_vmx_host_state host;
	struct fpu_guest gfpu;
	unsigned long host_fs_base, host_cr3, host_cr4;
	bool host_fs_base_ok, host_cr_ok, loaded, kgs_loaded, msrs_stale, in_run, pn_inc,
	     fpu_in, xcr0_loaded;
	bool ready, preempted_user;
};

/**
 * struct hvx_vmx_pv - the KVM paravirtual MSRs of a vCPU (vmx/pvmsr.c)
 * @system_time: MSR_KVM_SYSTEM_TIME_NEW as written: GPA | enable bit.
 * @wall_clock: MSR_KVM_WALL_CLOCK_NEW as last written.
 * @steal: MSR_KVM_STEAL_TIME as written: GPA | enable bit.
 * @eoi: MSR_KVM_PV_EOI_EN as written: GPA | enable bit.
 * @last_run_delay: the vCPU thread's run_delay (ns) at the last steal-time
 *	update; valid while @steal_started.
 * @steal_started: @last_run_delay is valid (first update after enable).
 * @preempted: hvx set the steal-time preempted byte when the thread was
 *	scheduled out and has not cleared it since.
 * @eoi_pending: hvx set the guest's PV EOI flag for the interrupt in
 *	service; every exit then looks whether the guest cleared it.
 * @clock_cpu: host CPU of the last kvmclock update plus one, 0 for none.
 *
 * All zero (everything disabled) at creation and after INIT. Owned by the
 * vCPU's thread; the preempt notifier (same thread) sets @preempted.
 */
struct hvx_vmx_pv {
	u64 system_time, wall_clock, steal, eoi;
	u64 last_run_delay;
	bool steal_started, preempted, eoi_pending;
	int clock_cpu;
};

/**
 * struct hvx_vmx_vm - the VMX state of one VM, shared by its vCPUs
 * @mem: the VM's guest-physical address space (ept/).
 * @io_bitmap: VMX I/O bitmaps A and B (two pages, SDM Vol. 3C 25.6.4),
 *	allocated with every bit set by hvx_vmx_vm_init() when the CPU offers
 *	"use I/O bitmaps", else NULL; every vCPU's VMCS points at them. A
 *	clear bit lets the guest reach that host port without an exit:
 *	passthrough clears and sets bits with atomic bitops and makes every
 *	vCPU leave guest mode after setting one (iommu/guest.c).
 * @tsc_offset: the VM's TSC offset (HVX_SET_TSC_OFFSET), TSC cycles.
 * @tsc_gen: bumped by every hvx_vmx_vm_set_tsc_offset(); a vCPU compares
 *	it with its own copy at each run (hvx_vmx_sync_tsc_offset()).
 * @nr_vcpus: vCPUs that exist, kept by kmod/ under its VM lock: the
 *	default CPUID topology (leaves 1, 4 and 0xB) follows it, and a PAUSE
 *	exit looks for a vCPU to yield to (kmod/, hvx_vcpu_on_spin()) only
 *	when it is 2 or more.
 * @clock_offset: nanoseconds added to the host's kvmclock time (CLOCK_BOOTTIME
 *	on the line of pvmsr.c) for this VM's kvmclock (HVX_SET_CLOCK), so
 *	that a restored guest's clock goes on from where it was; 0 by
 *	default. Written by kmod/ under its VM lock.
 * @msr_exits: unknown MSRs exit to userspace (HVX_VM_MSR_EXITS).
 * @hc_exits: hypercall numbers that exit to userspace
 *	(HVX_SET_HYPERCALL_EXITS), HVX_HYPERCALL_EXIT_NRS bits; written word
 *	by word by kmod/ under its VM lock, read by the vCPUs without it.
 */
struct hvx_vmx_vm {
	struct hvx_mem *mem;
	unsigned long *io_bitmap;
	s64 tsc_offset;
	atomic_t tsc_gen;
	atomic_t nr_vcpus;
	s64 clock_offset;
	bool msr_exits;
	unsigned long hc_exits[BITS_TO_LONGS(HVX_HYPERCALL_EXIT_NRS)];
};

/*
 * VMCS fields that exit handlers only read, cached for one exit
 * (struct hvx_vmx_vcpu.xf_avail, hvx_vmx_xfield()): what the instruction
 * emulator needs to fetch and decode at CS:RIP and walk the guest's page
 * tables, and the exit's guest-physical and guest-linear addresses.
 */
enum hvx_xfield {
	HVX_XF_GPA,		/* GUEST_PHYSICAL_ADDRESS */
	HVX_XF_GLA,		/* GUEST_LINEAR_ADDRESS */
	HVX_XF_CS_AR,		/* GUEST_CS_AR_BYTES */
	HVX_XF_CS_BASE,		/* GUEST_CS_BASE */
	HVX_XF_SS_AR,		/* GUEST_SS_AR_BYTES */
	HVX_XF_CR3,		/* GUEST_CR3 */
	HVX_NR_XF
};

/* Per-vCPU pages of guest-physical addresses last found to be MMIO. */
#define HVX_MMIO_HINTS	4

/**
 * struct hvx_mmio_icache - the last emulated MMIO instruction, fetched and
 *	decoded (vmx/emulate.c)
 * @valid: the rest describes a successful fetch and decode.
 * @gen: hvx_mem_gen() from before the walk: the user addresses below
 *	are those of the same GPAs while it is unchanged.
 * @la: linear address of the instruction (CS base added).
 * @cr3: the guest's CR3 for the walk.
 * @cr0: the guest's CR0.
 * @cr4: the guest's CR4.
 * @efer: the guest's IA32_EFER.
 * @code_size: 2, 4 or 8: the code segment's default size.
 * @user: the walk was for CPL 3.
 * @levels: paging-structure entries read by the walk (0 without paging).
 * @pte_size: their size, 4 or 8.
 * @pte: the owner's user address of each entry, top level first.
 * @pte_val: the value each had.
 * @code: the user address of the 16 bytes fetched at @la (one page).
 * @bytes: the instruction's bytes, zero past @insn.len.
 * @mask: ones over the instruction's bytes in @bytes.
 * @insn: the decode of @bytes.
 *
 * An MMIO exit whose walk would read the same entries and whose bytes
 * are the same decodes the same: the walk's entries and the instruction
 * are read again from their user addresses and compared, and the decode
 * is reused. Any difference takes the full fetch and decode.
 */
struct hvx_mmio_icache {
	bool valid;
	unsigned long gen;
	u64 la, cr3, cr0, cr4, efer;
	u8 code_size, levels, pte_size;
	bool user;
	void __user *pte[4];
	u64 pte_val[4];
	void __user *code;
	u64 bytes[2], mask[2];
	struct hvx_insn insn;
};

/**
 * struct hvx_vmx_vcpu - VMX state of one vCPU
 * @gprs: guest GPRs except RSP (which lives in the VMCS); saved and loaded
 *	by vmenter.S, so this must stay the first member.
 * @host_rsp: the HOST_RSP field of @vmcs (SDM Vol. 3C 25.5.1), written by
 *	hvx_vmx_enter() only when the entry's stack pointer differs; 0
 *	before the first entry. vCPU thread only.
 * @rsp: guest RSP, a copy of the VMCS field; read it with hvx_vmx_rsp()
 *	(valid only while @regs_avail has HVX_REG_RSP).
 * @rip: guest RIP, likewise (hvx_vmx_rip(), HVX_REG_RIP).
 * @rflags: guest RFLAGS, likewise (hvx_vmx_rflags(), HVX_REG_RFLAGS).
 * @cr2: guest CR2 (not in the VMCS; swapped around entry).
 * @cr0: guest CR0 as the guest sees it (read shadow).
 * @cr4: guest CR4 as the guest sees it (read shadow).
 * @efer: guest IA32_EFER.
 * @tpr: guest task-priority register (CR8 is bits 7:4) when the CPU has
 *	no TPR shadow.
 * @vapic: virtual-APIC page (SDM Vol. 3C 30.1): with the TPR shadow, the
 *	TPR (CR8 and the in-kernel local APIC's TPR) lives in its VTPR byte.
 * @vmcs: the VMCS region (SDM Vol. 3C 25.2).
 * @cpu: host CPU the VMCS is active on, or -1.
 * @launched: VMLAUNCH succeeded since the last VMCLEAR.
 * @loaded_node: link on the per-CPU list of active VMCSs.
 * @vpid: VPID, 0 if none.
 * @flush_tlb: flush this VPID's mappings before the next entry: set when
 *	hvx emulates an operation that flushes the TLB architecturally.
 * @id: vCPU id (initial APIC id).
 * @vm_id: id of the VM in the module's registry (kmod/), for tracepoints.
 * @entry_ctls: current VM-entry controls (IA-32e mode guest changes).
 * @mem: the VM's memory (@vm's, cached: the EPT pointer, VPID flushes).
 * @vm: the VM's VMX state.
 * @run: the shared run page.
 * @io_data: the shared I/O data page.
 * @intr_state: guest interruptibility state (SDM Vol. 3C 25.4.2), likewise
 *	(hvx_vmx_intr_state(), HVX_REG_INTR).
 * @regs_avail: HVX_REG_* bits: the copy above is the VMCS's value. Cleared
 *	by every VM exit; the accessors fill a copy on first use.
 * @regs_dirty: HVX_REG_* bits: the copy is newer than the VMCS field and
 *	is written back before the next entry (and only then); with
 *	HVX_REGS_CHECK, RIP, RSP and RFLAGS are also written back where they
 *	differ from @regs_seen (hvx_vmx_regs_cache()).
 * @regs_seen: RIP, RSP and RFLAGS when hvx_vmx_regs_cache() handed the
 *	fields to a slow path, in enum hvx_reg order.
 * @xf: VMCS fields of enum hvx_xfield, read for the current exit.
 * @xf_avail: HVX_XF_* bits: @xf holds the field's value. Cleared at every
 *	exit, at the end of hvx_vmx_run() and by every write of a cached
 *	field (hvx_vmx_xfield_flush()), so a value never outlives the
 *	exit's handling.
 * @ept_hint: the table of 4 KiB EPT leaves this vCPU's last RAM fault
 *	used (struct hvx_ept_hint); vCPU thread only.
 * @mmio_hint: guest page frames whose last EPT violation was MMIO, indexed
 *	by the low bits of the frame (~0: none). An EPT violation at one of
 *	them has its emulator fields read before the VMCS is let go; only a
 *	hint: a wrong one costs a few VMREADs or the unlocked reads after.
 * @mmio_nosl: for the frame in the same entry of @mmio_hint:
 *	hvx_mem_gen() << 1 | 1 if no slot held it at that generation, else 0.
 *	While the generation is the same the frame is MMIO, and an EPT
 *	violation there skips hvx_ept_fault().
 * @icache: the last MMIO instruction's fetch and decode.
 * @vmcs_current: hvx_vmx_run() holds the VMCS current on this CPU, with
 *	preemption off (between its hvx_vmx_load() and hvx_vmx_unload()):
 *	hvx_vmx_read() and hvx_vmx_write() are a bare VMREAD/VMWRITE then;
 *	vCPU thread only.
 * @timer_reload: write the VMX-preemption timer before the next entry
 *	(it expired, a host interrupt exited, or the VMCS is new); see
 *	hvx_vmx_caps.preempt_timer.
 * @exit_reason: last exit reason.
 * @exit_qual: last exit qualification.
 * @instr_len: last VM-exit instruction length.
 * @syscall_msrs: STAR/LSTAR/CSTAR/SFMASK/KERNEL_GS_BASE must be swapped
 *	(sticky once set).
 * @msr_bitmap_long: the VMCS's MSR bitmap is (a copy of)
 *	hvx_msr_bitmap_long.
 * @msr_bitmap_x2: the vCPU's MSR bitmap for x2APIC mode with APIC
 *	virtualization, or NULL (apicv.c).
 * @msr_bitmap_x2_on: the VMCS uses @msr_bitmap_x2.
 * @msr_bitmap_key: hvx_vmx_msr_bitmap_key() when hvx_vmx_msr_bitmap_update()
 *	last ran (~0 before the first entry): entries skip it while the
 *	key is the same.
 * @apic_access: "virtualize APIC accesses" is wanted in xAPIC mode.
 * @apicv: HVX_APICV_* assists in use (0: TPR shadow and APIC-access page
 *	at most).
 * @apicv_x2: "virtualize x2APIC mode" is on (the guest's APIC is in
 *	x2APIC mode), "virtualize APIC accesses" off.
 * @apicv_state: EOI-exit bitmap and guest interrupt status as last written.
 * @entry_info: the VM-entry interruption information of the last entry,
 *	0 if it injected nothing.
 * @msr: guest values of MSRs that hvx keeps in software.
 * @spec_ctrl_direct: the guest reads and writes IA32_SPEC_CTRL without
 *	exits (set after its first non-zero write); the entry code then reads
 *	the guest's value back into @msr.spec_ctrl after every exit.
 * @dr: guest DR0-3 and DR6, kept in software (MOV-DR exits are taken).
 * @pending: what the next run must complete (enum hvx_pending).
 * @pending_rip: RIP when @pending was set (hvx_vmx_set_pending()): the
 *	next run completes the instruction only with RIP still there.
 * @io: the pending I/O instruction.
 * @io_unclaimed: the exit fast path found the port of this exit claimed
 *	by no in-kernel device (@pio_fast said -ENOENT): handle_io() does not
 *	ask @pio again. Cleared by every exit, set by fast_io().
 * @ram_fault: the exit was an EPT violation that mapped guest RAM:
 *	hvx_vmx_run() enters the guest again itself. Set by its handler,
 *	cleared before each entry.
 * @mmio: the pending MMIO instruction.
 * @reinject_info: IDT-vectoring information to re-inject, 0 if none.
 * @reinject_err: its error code.
 * @reinject_len: its instruction length.
 * @cpuid: the guest's CPUID table.
 * @cpuid_nent: entries used in @cpuid.
 * @cpuid_default: @cpuid is hvx's default (not set by userspace), whose
 *	topology follows the VM's vCPU count.
 * @tsc_gen: @vm's tsc_gen last applied.
 * @proc_ctls: current primary processor-based controls (window exiting).
 * @irq_vector: external interrupt queued by userspace, or -1; set by any
 *	thread with cmpxchg(), taken by the vCPU thread.
 * @nmi_pending: an NMI is queued (xchg()).
 * @requests: HVX_REQ_* bits set by other threads (atomic bitops).
 * @sipi_vector: vector of the last SIPI sent.
 * @mp_state: HVX_MP_*, changed by the vCPU thread only.
 * @guest_cpu: the CPU running this vCPU's guest code, or -1; the target
 *	of kicks (SDM Vol. 3C 26.2: an interrupt makes it exit).
 * @wq: where the vCPU thread sleeps while halted or waiting for SIPI.
 * @request_irq_window: userspace asked for HVX_EXIT_IRQ_WINDOW_OPEN.
 * @stats: statistics, counted by the thread running the vCPU (stats.h).
 * @xcr0: guest XCR0 (SDM Vol. 1 13.3).
 * @fpu: guest x87/SSE/AVX state (XSAVE format; FXSAVE's first 512 bytes
 *	when the host has no XSAVE).
 * @tpr_threshold: the VMCS's TPR threshold as last written (entries
 *	write it only when it changes).
 * @dev_ops: in-kernel devices, or NULL (everything exits to userspace);
 *	they find their own vCPU from this one with container_of().
 * @apic_ops: the in-kernel local APIC, or NULL (then interrupts come from
 *	@dev_ops alone and the APIC MSRs are plain storage or #GP).
 * @spec_id: never-reused id for the per-CPU "last vCPU" (spec.c), 0
 *	until the vCPU is first loaded.
 * @spec_nsw: this thread's context-switch count at the last entry.
 * @l1d_flush: host code that may have touched other data ran since the
 *	last entry: the L1D "cond" state flushes before the next.
 * @msr_bitmap_spec: the VMCS's MSR bitmap lets IA32_SPEC_CTRL through.
 * @dr_armed: the guest's DR7 enables a breakpoint (any L0-L3/G0-G3 bit),
 *	so @dr DR0-3 are loaded into the CPU around guest execution; set by
 *	MOV to DR7 and reset. While it is false the exit path does nothing
 *	for debug registers besides restoring the host's DR7 when the host
 *	has breakpoints armed.
 * @db_hits: B0-B3 (DR6 layout) of the guest's data and I/O breakpoints
 *	that accesses of the instruction being emulated matched
 *	(hvx_vmx_dr_hits()); reported with the #DB that
 *	hvx_vmx_skip_instruction() raises when the instruction completes,
 *	dropped when an exception aborts it.
 * @mce_exit: HVX_MCE_* for the last exit, set with interrupts off right
 *	after it (hvx_vmx_mce_irqoff()); meaningful for exception exits and
 *	failed VM entries only.
 * @triple_fault: hvx_vmx_inject_exception() shut the vCPU down (a fault
 *	during a double fault, SDM Vol. 3A Table 6-5); the exit handler
 *	reports it as HVX_EXIT_SHUTDOWN and clears it. vCPU thread only.
 * @apic_hw_off: the guest's APIC is disabled in IA32_APIC_BASE and, with
 *	"virtualize APIC accesses", the TPR shadow, APIC-register
 *	virtualization and virtual-interrupt delivery are off, so that every
 *	access to the APIC-access page exits (apicv.c).
 * @rs: what the run loop switches once per run (run.c).
 * @wbinvd_dirty: CPUs the vCPU left since its last WBINVD exit, whose
 *	caches may hold its guest's writes; set by hvx_vmx_load(), used
 *	and cleared by the vCPU's own thread only (exit.c).
 * @pv: the KVM paravirtual MSRs (pvmsr.c).
 * @pv_ops: what hypercalls do to other vCPUs, or NULL (kmod/).
 * @pv_features: KVM_FEATURE_* bits of the vCPU's CPUID leaf 0x40000101
 *	EAX: the paravirtual features the guest was offered (cpuid.c keeps
 *	it in step with @cpuid).
 * @pv_unhalted: a KVM_HC_KICK_CPU came for this vCPU and no HLT took it
 *	yet; set by any thread (xchg() to take it).
 * @hc_long: the VMCALL handed to userspace came from 64-bit mode.
 * @halt_irqs_off: the vCPU is halted by a HLT with interrupts off (only
 *	a kick, an NMI or INIT end it); vCPU thread only.
 * @ple_window: the PAUSE-loop window for the next entry, cycles
 *	(handlers.c: doubled at each PAUSE exit, back to HVX_PLE_WINDOW when
 *	the thread is scheduled in); vCPU thread only.
 * @ple_window_dirty: @ple_window is not in the VMCS yet.
 */
struct hvx_vmx_vcpu {
	unsigned long gprs[HVX_NR_GPRS];
	unsigned long host_rsp;
	u64 rsp, rip, rflags, cr2;
	u64 intr_state;
	u8 regs_avail, regs_dirty;
	u8 xf_avail;
	u64 regs_seen[3];
	bool vmcs_current;
	bool timer_reload;
	u64 cr0, cr4, efer;
	u8 tpr;
	u8 *vapic;

	void *vmcs;
	int cpu;
	bool launched;
	struct list_head loaded_node;
	u16 vpid;
	bool flush_tlb;
	u32 id;
	u32 vm_id;
	u32 entry_ctls;

	struct hvx_mem *mem;
	struct hvx_vmx_vm *vm;
	struct hvx_run *run;
	u8 *io_data;

	u32 exit_reason;
	u64 exit_qual;
	u32 instr_len;
	u64 xf[HVX_NR_XF];
	struct hvx_ept_hint ept_hint;
	u64 mmio_hint[HVX_MMIO_HINTS];
	unsigned long mmio_nosl[HVX_MMIO_HINTS];
	struct hvx_mmio_icache icache;

	bool syscall_msrs;
	bool msr_bitmap_long;
	void *msr_bitmap_x2;
	bool msr_bitmap_x2_on;
	u32 msr_bitmap_key;
	bool apic_access;
	u32 apicv;
	bool apicv_x2;
	struct hvx_vmx_apicv_state apicv_state;
	u32 entry_info;
	struct {
		u64 star, lstar, cstar, sfmask, kernel_gs_base;
		u64 apic_base, misc_enable, tsc_offset, tsc_adjust;
		u64 tsc_aux, mcg_status, spec_ctrl;
		u64 mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	} msr;
	bool spec_ctrl_direct;
	u64 dr[5];

	enum hvx_pending pending;
	u64 pending_rip;
	struct hvx_io_op io;
	bool io_unclaimed;
	bool ram_fault;
	struct hvx_mmio_op mmio;
	u32 reinject_info, reinject_err, reinject_len;

	struct hvx_cpuid_entry cpuid[HVX_MAX_CPUID_ENTRIES];
	u32 cpuid_nent;
	bool cpuid_default;
	int tsc_gen;
	u32 proc_ctls;
	int irq_vector;
	int nmi_pending;
	unsigned long requests;
	u8 sipi_vector;
	u32 mp_state;
	int guest_cpu;
	wait_queue_head_t wq;
	bool request_irq_window;

	struct hvx_vcpu_stats stats;

	int tpr_threshold;
	const struct hvx_vmx_dev_ops *dev_ops;
	const struct hvx_vmx_apic_ops *apic_ops;

	u64 xcr0;
	u8 fpu[HVX_FPU_AREA_SIZE] __aligned(64);

	u64 spec_id;
	unsigned long spec_nsw;
	bool l1d_flush;
	bool msr_bitmap_spec;
	bool dr_armed;
	u8 mce_exit;
	bool triple_fault;
	bool apic_hw_off;
	u8 db_hits;
	struct hvx_vmx_run_state rs;
	cpumask_var_t wbinvd_dirty;
	struct hvx_vmx_pv pv;
	const struct hvx_vmx_pv_ops *pv_ops;
	u32 pv_features;
	int pv_unhalted;
	bool hc_long;
	bool halt_irqs_off;
	u32 ple_window;
	bool ple_window_dirty;
};

/*
 * PAUSE-loop exiting (SDM Vol. 3C 26.1.3): a PAUSE loop with gaps under
 * HVX_PLE_GAP cycles exits after @ple_window cycles. The window starts at
 * HVX_PLE_WINDOW and doubles at each PAUSE exit up to HVX_PLE_WINDOW_MAX,
 * so a vCPU that keeps spinning exits less and less often; it drops back
 * when the vCPU's thread is scheduled in again (KVM's grow and shrink:
 * its start and gap values; KVM caps at UINT_MAX, hvx at 2^30 cycles).
 */
#define HVX_PLE_GAP		128
#define HVX_PLE_WINDOW		4096
#define HVX_PLE_WINDOW_MAX	BIT(30)

void hvx_vmx_ple_reset(struct hvx_vmx_vcpu *v);

/* hvx_vmx_vcpu.mce_exit: how the last exit involved a machine check. */
#define HVX_MCE_NONE	0
#define HVX_MCE_EXIT	1	/* #MC exit (exception bitmap bit 18) */
#define HVX_MCE_ENTRY	2	/* VM entry failed on a machine check (41) */

/*
 * Exceptions that always cause VM exits (SDM Vol. 3C 25.6.3): #MC, so the
 * host's machine-check handler runs; #AC and #DB, whose delivery can raise
 * the same exception again forever inside microcode, where no interrupt
 * is recognised (CVE-2015-5307, CVE-2015-8104).
 */
#define HVX_EXCEPTION_BITMAP	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_MC) | \
				 BIT(X86_TRAP_AC))

/* Bits of hvx_vmx_vcpu.requests: work for the vCPU's own thread. */
#define HVX_REQ_EVENT	0	/* an interrupt or NMI was queued */
#define HVX_REQ_INIT	1	/* INIT IPI */
#define HVX_REQ_SIPI	2	/* Startup IPI, vector in sipi_vector */
#define HVX_REQ_PV_CLOCK 3	/* rewrite the kvmclock page (pvmsr.c) */
#define HVX_REQ_PV_STEAL 4	/* update steal time, clear preempted */

/*
 * KVM paravirtual features (Linux's Documentation/virt/kvm/x86/cpuid.rst,
 * CPUID.0x40000101:EAX bits) whose MSRs vmx/pvmsr.c implements:
 * CLOCKSOURCE2, STEAL_TIME, PV_EOI, PV_TLB_FLUSH and
 * CLOCKSOURCE_STABLE_BIT. hvx_vmx_pv_features() ORs this mask into the
 * hypercall features; each MSR raises #GP unless the guest's CPUID offers
 * its feature (hvx_vmx_vcpu.pv_features).
 */
#define HVX_PV_MSR_FEATURES	(BIT(HVX_KVM_FEATURE_CLOCKSOURCE2) | \
				 BIT(HVX_KVM_FEATURE_STEAL_TIME) | \
				 BIT(HVX_KVM_FEATURE_PV_EOI) | \
				 BIT(HVX_KVM_FEATURE_PV_TLB_FLUSH) | \
				 BIT(HVX_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT))

/*
 * Guest state cached from the VMCS (struct hvx_vmx_vcpu.regs_avail and
 * .regs_dirty): one VMREAD on first use after an exit, one VMWRITE before
 * the next entry only if it changed.
 */
enum hvx_reg {
	HVX_REG_RIP,
	HVX_REG_RSP,
	HVX_REG_RFLAGS,
	HVX_REG_INTR,		/* GUEST_INTERRUPTIBILITY_INFO */
	HVX_NR_REGS
};

#define HVX_REGS_GPR	(BIT(HVX_REG_RIP) | BIT(HVX_REG_RSP) | \
			 BIT(HVX_REG_RFLAGS))
/*
 * In regs_dirty: a slow path may have changed v->rip, v->rsp or v->rflags
 * directly; hvx_vmx_regs_flush() compares them with regs_seen.
 */
#define HVX_REGS_CHECK	BIT(7)
/* What hvx_vmx_skip_instruction() reads. */
#define HVX_SKIP_REGS	(BIT(HVX_REG_RIP) | BIT(HVX_REG_RFLAGS) | \
			 BIT(HVX_REG_INTR))

/* Return values of hvx_vmx_run() besides negative errnos. */
#define HVX_RUN_RESUME	0	/* enter the guest again */
#define HVX_RUN_USER	1	/* return to userspace, run->exit_reason set */

/* vmx.c: capabilities and VMX root mode */
int hvx_vmx_module_init(void);
void hvx_vmx_module_exit(void);
bool hvx_vmx_usable(void);
int hvx_vmx_get(void);
void hvx_vmx_put(void);
void hvx_vmx_cpu_acquire(void);
void hvx_vmx_cpu_release(void);
void hvx_vmx_load(struct hvx_vmx_vcpu *v);
bool hvx_vmx_peek(struct hvx_vmx_vcpu *v, unsigned long field, u64 *val);

/**
 * hvx_vmx_unload - end a use of the VMCS that hvx_vmx_load() began
 *
 * Gives the CPU's current-VMCS pointer back where hvx shares VMX with KVM
 * (hvx_vmx_cpu_release()), then enables preemption.
 * Context: after preempt_disable() and hvx_vmx_load().
 */
static inline void hvx_vmx_unload(void)
{
	hvx_vmx_cpu_release();
	preempt_enable();
}

/**
 * hvx_vmx_irq_enable - interrupts on again inside a use of the VMCS
 *
 * Where hvx shares VMX with KVM, interrupts stay off until
 * hvx_vmx_unload() (see hvx_vmx_cpu_acquire()); elsewhere this is
 * local_irq_enable().
 */
static __always_inline void hvx_vmx_irq_enable(void)
{
	if (!HVX_VMX_IS_SHARED)
		local_irq_enable();
}

void hvx_vmx_clear(struct hvx_vmx_vcpu *v);
void *hvx_vmx_alloc_vmcs(void);

/* vm.c: the per-VM object */
int hvx_vmx_vm_init(struct hvx_vmx_vm *vm, struct hvx_mem *mem, u32 flags);
void hvx_vmx_vm_destroy(struct hvx_vmx_vm *vm);
void hvx_vmx_vm_set_tsc_offset(struct hvx_vmx_vm *vm, s64 offset);

/**
 * hvx_vmx_vm_tsc_offset - the VM's TSC offset
 * @vm: the VM's VMX state.
 *
 * Context: any; a lockless read.
 * Return: the offset last set by hvx_vmx_vm_set_tsc_offset(), TSC cycles.
 */
static inline s64 hvx_vmx_vm_tsc_offset(const struct hvx_vmx_vm *vm)
{
	return READ_ONCE(vm->tsc_offset);
}

/* vmcs.c: VMCS setup and register access */
int hvx_vmx_vcpu_create(struct hvx_vmx_vcpu *v, struct hvx_vmx_vm *vm, u32 id,
			struct hvx_run *run, void *io_data);
extern void *hvx_msr_bitmap;
extern void *hvx_msr_bitmap_long;
void hvx_vmx_vcpu_destroy(struct hvx_vmx_vcpu *v);
void hvx_vmx_get_regs(struct hvx_vmx_vcpu *v, struct hvx_regs *regs);
void hvx_vmx_set_regs(struct hvx_vmx_vcpu *v, const struct hvx_regs *regs);
void hvx_vmx_get_sregs(struct hvx_vmx_vcpu *v, struct hvx_sregs *sregs);
int hvx_vmx_set_sregs(struct hvx_vmx_vcpu *v, const struct hvx_sregs *sregs);
void hvx_vmx_set_cr0(struct hvx_vmx_vcpu *v, u64 cr0);
void hvx_vmx_set_cr4(struct hvx_vmx_vcpu *v, u64 cr4);
u8 hvx_vmx_get_cr8(struct hvx_vmx_vcpu *v);
void hvx_vmx_set_cr8(struct hvx_vmx_vcpu *v, u8 cr8);
u8 hvx_vmx_get_tpr(struct hvx_vmx_vcpu *v);
void hvx_vmx_set_tpr(struct hvx_vmx_vcpu *v, u8 tpr);
bool hvx_vmx_has_apic_access(void);
void hvx_vmx_enable_apic_access(struct hvx_vmx_vcpu *v, u64 hpa);
void hvx_vmx_set_efer(struct hvx_vmx_vcpu *v, u64 efer);

/* apicv.c: APIC-register virtualization, virtual-interrupt delivery */
u32 hvx_vmx_apicv_caps(void);
int hvx_vmx_enable_apicv(struct hvx_vmx_vcpu *v, u32 flags);
void hvx_vmx_msr_bitmap_update(struct hvx_vmx_vcpu *v);
void hvx_vmx_apicv_prepare(struct hvx_vmx_vcpu *v);

/**
 * hvx_vmx_msr_bitmap_key - what hvx_vmx_msr_bitmap_update() decides from
 * @v: the vCPU.
 *
 * IA32_APIC_BASE's EXTD and EN bits (10, 11) and the vCPU's flags and
 * assists, in one word; the module-wide inputs (the bitmaps, the CPU's
 * controls) do not change while a vCPU exists. Computed before every
 * entry, so that no writer of these has to say it changed one.
 * Return: the key.
 */
static __always_inline u32 hvx_vmx_msr_bitmap_key(struct hvx_vmx_vcpu *v)
{
	return (v->msr.apic_base & (X2APIC_ENABLE | MSR_IA32_APICBASE_ENABLE)) |
	       v->syscall_msrs | v->spec_ctrl_direct << 1 |
	       v->apic_access << 2 | !!v->msr_bitmap_x2 << 3 |
	       (v->apicv & (HVX_APICV_REG | HVX_APICV_VID)) << 4;
}

void hvx_vmx_apicv_quiet_entry(struct hvx_vmx_vcpu *v);
bool hvx_vmx_apicv_pending(struct hvx_vmx_vcpu *v);
void hvx_vmx_apicv_init(void);
bool hvx_vmx_vid_unreliable(void);
void hvx_vmx_apicv_vectoring(struct hvx_vmx_vcpu *v);
int hvx_vmx_handle_eoi_induced(struct hvx_vmx_vcpu *v);
int hvx_vmx_handle_apic_write(struct hvx_vmx_vcpu *v);
void hvx_vmx_apicv_destroy(struct hvx_vmx_vcpu *v);
u64 hvx_vmx_read(struct hvx_vmx_vcpu *v, unsigned long field);
u64 hvx_vmx_cr4_allowed(void);
void hvx_vmx_write(struct hvx_vmx_vcpu *v, unsigned long field, u64 val);
u64 hvx_vmx_reg_load(struct hvx_vmx_vcpu *v, enum hvx_reg reg);
u64 hvx_vmx_xfield_load(struct hvx_vmx_vcpu *v, enum hvx_xfield f);
void hvx_vmx_regs_cache(struct hvx_vmx_vcpu *v, bool dirty);
void hvx_vmx_regs_flush(struct hvx_vmx_vcpu *v);
void hvx_vmx_request_event(struct hvx_vmx_vcpu *v);

/* exit.c: one VM entry, and the exit fast path */
int hvx_vmx_run(struct hvx_vmx_vcpu *v);

/* handlers.c: the exit handler table */
#define EXIT_FAILED_ENTRY	BIT(31)	/* exit reason bit 31, SDM Vol. 3C 28.2.1 */
int hvx_vmx_dispatch_exit(struct hvx_vmx_vcpu *v, enum hvx_entry_check check);
int hvx_vmx_failed_entry(struct hvx_vmx_vcpu *v, u32 reason,
			 enum hvx_entry_check check, u32 hw_reason);

/* hypercall.c: VMCALL */
int hvx_vmx_handle_vmcall(struct hvx_vmx_vcpu *v);
bool hvx_vmx_hypercall_fastpath(struct hvx_vmx_vcpu *v);
void hvx_vmx_hypercall_complete(struct hvx_vmx_vcpu *v);
bool hvx_vmx_hypercall_exits_valid(const unsigned long *bitmap);
u32 hvx_vmx_pv_features(void);
void hvx_vmx_pv_kick(struct hvx_vmx_vcpu *v);

/* events.c: exceptions, interrupts and requests */
void hvx_vmx_inject_events(struct hvx_vmx_vcpu *v);
void hvx_vmx_cancel_injection(struct hvx_vmx_vcpu *v);
u32 hvx_vmx_inject_reinject(struct hvx_vmx_vcpu *v);

/* An interrupt or NMI from userspace waits for @v (any context). */
static inline bool hvx_vmx_event_queued(struct hvx_vmx_vcpu *v)
{
	return READ_ONCE(v->irq_vector) >= 0 || READ_ONCE(v->nmi_pending);
}

int hvx_vmx_queue_interrupt(struct hvx_vmx_vcpu *v, u32 vector);
int hvx_vmx_queue_nmi(struct hvx_vmx_vcpu *v);
void hvx_vmx_get_events(struct hvx_vmx_vcpu *v, struct hvx_vcpu_events *e);
int hvx_vmx_set_events(struct hvx_vmx_vcpu *v, const struct hvx_vcpu_events *e);
void hvx_vmx_update_run(struct hvx_vmx_vcpu *v);
void hvx_vmx_kick(struct hvx_vmx_vcpu *v);
void __hvx_vmx_kick_flush(struct hvx_vmx_vcpu *v);
void hvx_vmx_wake(struct hvx_vmx_vcpu *v);
void hvx_vmx_kick_sender(struct hvx_vmx_vcpu *v, struct hvx_vmx_vcpu *old);
void hvx_vmx_kick_event(struct hvx_vmx_vcpu *v);
void hvx_vmx_send_ipi(struct hvx_vmx_vcpu *v, u8 kind, u8 vector);
void hvx_vmx_handle_requests(struct hvx_vmx_vcpu *v);
bool hvx_vmx_runnable(struct hvx_vmx_vcpu *v);
bool hvx_vmx_yield_target(struct hvx_vmx_vcpu *v);
bool hvx_vmx_preempted_in_user(struct hvx_vmx_vcpu *v);
bool hvx_vmx_in_kernel(struct hvx_vmx_vcpu *v);
/* Provided by kmod/ (vcpu.c): directed yield on a PAUSE exit. */
void hvx_vcpu_on_spin(struct hvx_vmx_vcpu *v);
bool hvx_vmx_wakeup_pending(struct hvx_vmx_vcpu *v);
int hvx_vmx_set_mp_state(struct hvx_vmx_vcpu *v, u32 state);
void hvx_vmx_reset(struct hvx_vmx_vcpu *v);
void hvx_vmx_inject_exception(struct hvx_vmx_vcpu *v, u8 vector,
			      bool has_error, u32 error);
void hvx_vmx_skip_instruction_slow(struct hvx_vmx_vcpu *v, u32 len);

/* cpuid.c, msr.c, cr.c: exit handlers with files of their own */
int hvx_vmx_handle_cpuid(struct hvx_vmx_vcpu *v);
void hvx_vmx_cpuid_default(struct hvx_cpuid_entry *tbl, u32 *nent, u32 id);
const struct hvx_cpuid_entry *
hvx_vmx_cpuid_lookup(struct hvx_vmx_vcpu *v, u32 function, u32 index);
int hvx_vmx_cpuid_set(struct hvx_vmx_vcpu *v, const struct hvx_cpuid *c);
void hvx_vmx_cpuid_no_pv(struct hvx_vmx_vcpu *v);
void hvx_vmx_cpuid_pv_init(struct hvx_vmx_vcpu *v);
void hvx_vmx_cpuid_get(struct hvx_vmx_vcpu *v, struct hvx_cpuid *c);
int hvx_vmx_get_msrs(struct hvx_vmx_vcpu *v, struct hvx_msrs *m);
int hvx_vmx_set_msrs(struct hvx_vmx_vcpu *v, const struct hvx_msrs *m);
void hvx_vmx_complete_msr(struct hvx_vmx_vcpu *v);
void hvx_vmx_sync_tsc_offset(struct hvx_vmx_vcpu *v);
int hvx_vmx_handle_rdmsr(struct hvx_vmx_vcpu *v);
int hvx_vmx_handle_wrmsr(struct hvx_vmx_vcpu *v);
bool hvx_vmx_fast_wrmsr(struct hvx_vmx_vcpu *v);
void hvx_vmx_msr_bitmap_cmds(u8 *bitmap);
int hvx_vmx_handle_cr(struct hvx_vmx_vcpu *v);

/* run.c: the per-run level of the run loop */
int hvx_vmx_vcpu_load(struct hvx_vmx_vcpu *v);
void hvx_vmx_vcpu_put(struct hvx_vmx_vcpu *v);
void hvx_vmx_run_destroy(struct hvx_vmx_vcpu *v);
void hvx_vmx_run_prepare(struct hvx_vmx_vcpu *v);
void hvx_vmx_run_after_exit(struct hvx_vmx_vcpu *v);
void hvx_vmx_host_cr(struct hvx_vmx_vcpu *v);
void hvx_vmx_run_cpu_off(void);
bool hvx_vmx_tsc_aux_ok(void);
u64 hvx_vmx_kernel_gs_base(struct hvx_vmx_vcpu *v, bool write, u64 val);
void hvx_vmx_xmm_read(unsigned int reg, bool ymm, u64 *val);
void hvx_vmx_xmm_write(unsigned int reg, bool vex, const u64 *val);

/* pvmsr.c: the KVM paravirtual MSRs */
bool hvx_vmx_pv_msr(u32 index);
int hvx_vmx_pv_msr_read(struct hvx_vmx_vcpu *v, u32 index, u64 *val);
bool hvx_vmx_pv_msr_ok(struct hvx_vmx_vcpu *v, u32 index, u64 val);
void hvx_vmx_pv_msr_write(struct hvx_vmx_vcpu *v, u32 index, u64 val);
void hvx_vmx_pv_requests(struct hvx_vmx_vcpu *v);
void hvx_vmx_pv_tsc_changed(struct hvx_vmx_vcpu *v);
u64 hvx_vmx_vm_get_clock(struct hvx_vmx_vm *vm, u64 *realtime);
void hvx_vmx_vm_set_clock(struct hvx_vmx_vm *vm, u64 clock,
			  const u64 *saved_realtime);
void hvx_vmx_pv_load(struct hvx_vmx_vcpu *v, int cpu);
void hvx_vmx_pv_sched_out(struct hvx_vmx_vcpu *v);
void hvx_vmx_pv_reset(struct hvx_vmx_vcpu *v);
void hvx_vmx_pv_eoi_offer(struct hvx_vmx_vcpu *v, bool offer);
void hvx_vmx_pv_eoi_check(struct hvx_vmx_vcpu *v);
bool hvx_vmx_pv_eoi_check_irqoff(struct hvx_vmx_vcpu *v);

/* guard.c: machine checks */
void hvx_vmx_machine_check(struct hvx_vmx_vcpu *v, u32 reason, u32 intr_info);

/* Access types of hvx_vmx_dr_hits(). */
#define HVX_DR_READ	0	/* data read: matches R/W = 11 */
#define HVX_DR_WRITE	1	/* data write: matches R/W = 01 and 11 */
#define HVX_DR_IO	2	/* port I/O: matches R/W = 10 with CR4.DE */

u8 hvx_vmx_dr_hits(struct hvx_vmx_vcpu *v, u64 addr, unsigned int len,
		   unsigned int type);

/**
 * hvx_vmx_mce_irqoff - hand a machine check to the host right after an exit
 * @v: the vCPU that just exited.
 * @reason: the full exit reason (VM_EXIT_REASON, bit 31 for failed entry),
 *	0 after a VMfail.
 * @intr_info: VM-exit interruption information when @reason is 0
 *	(exception or NMI), else 0.
 *
 * Call with interrupts still off, on the CPU of the exit, once the host's
 * state is back (as KVM does), before anything else can run there: a
 * machine check that caused the exit (#MC exit, SDM Vol. 3C 28.1; or
 * basic reason 41, a machine check during VM entry, 27.8) is logged and
 * handled by the host's handler on this CPU, as if it had interrupted
 * user mode (the vCPU thread). The test is a few compares; everything
 * else is out of line.
 */
static __always_inline void hvx_vmx_mce_irqoff(struct hvx_vmx_vcpu *v,
					       u32 reason, u32 intr_info)
{
	if (unlikely((u16)reason == EXIT_REASON_MCE_DURING_VMENTRY ||
		     ((intr_info & INTR_INFO_VALID_MASK) &&
		      (intr_info & INTR_INFO_INTR_TYPE_MASK) != INTR_TYPE_NMI_INTR)))
		hvx_vmx_machine_check(v, reason, intr_info);
}

/* decode.c: instruction decoder for MMIO */
int hvx_decode(const u8 *bytes, unsigned int n, unsigned int code_size,
	       struct hvx_insn *insn);

/* emulate.c: guest memory by linear address, MMIO and string I/O */
int hvx_vmx_handle_mmio(struct hvx_vmx_vcpu *v, u64 gpa);
int hvx_vmx_handle_string_io(struct hvx_vmx_vcpu *v);
int hvx_vmx_io_in_kernel(struct hvx_vmx_vcpu *v);
int hvx_vmx_complete_pending(struct hvx_vmx_vcpu *v);
int hvx_vmx_load_pdptrs(struct hvx_vmx_vcpu *v, u64 cr3);

/* entry_check.c: software guest-state checks (SDM Vol. 3C 27.3.1) */
enum hvx_entry_check hvx_vmx_check_guest_state(void);

/* vmenter.S */
int hvx_vmx_enter(unsigned long *gprs, unsigned long flags, u64 *spec_ctrl,
		  unsigned long *host_rsp);
void hvx_vmx_exit(void);
void hvx_vmx_do_nmi(void);

/**
 * hvx_vmx_forward_nmi - hand an NMI that caused a VM exit to the host's
 * NMI handler
 *
 * Where the kernel exports x86_entry_from_kvm() to hvx (7.x with
 * kmod/patches/), through it: it takes the FRED entry when the kernel
 * runs with FRED and the IDT one otherwise. Elsewhere through the IDT
 * entry hvx_vmx_do_nmi() calls. NMIs stay blocked until that handler's
 * IRET or ERETS (SDM Vol. 3C 28.1).
 * Context: interrupts off, right after the exit, host state restored.
 */
static __always_inline void hvx_vmx_forward_nmi(void)
{
#ifdef HVX_HAVE_X86_ENTRY_FROM_KVM
	x86_entry_from_kvm(EVENT_TYPE_NMI, X86_TRAP_NMI);
#else
	hvx_vmx_do_nmi();
#endif
}

/* spec.c: speculation barriers at the entry/exit boundary */
int hvx_spec_init(void);
void hvx_spec_exit(void);
void hvx_spec_report_l1tf(void);
int hvx_spec_check(void);
unsigned long hvx_spec_enter_flags(struct hvx_vmx_vcpu *v);
void hvx_spec_vcpu_load(struct hvx_vmx_vcpu *v);
void hvx_spec_l1d_flush(struct hvx_vmx_vcpu *v);
void hvx_spec_after_exit(struct hvx_vmx_vcpu *v, unsigned long flags,
			 int reason);
void hvx_spec_user_exit(struct hvx_vmx_vcpu *v);

/* msr.c: IA32_SPEC_CTRL pass-through bitmaps */
const void *hvx_vmx_spec_bitmap(bool lng);
void hvx_vmx_spec_bitmaps_free(void);

/**
 * hvx_vmx_has_host_mmio - is device memory mapped into the VM's EPT?
 * @v: the vCPU.
 *
 * True while a passthrough BAR is mapped (ept/mmio.c), which is when the
 * guest can read host MMIO without exits (MMIO stale data). The
 * APIC-access page, on the same list, is RAM and does not count. Read
 * without the lock: a mapping made concurrently counts from the next
 * entry.
 *
 * Context: any.
 * Return: true if the VM has device memory in its EPT.
 */
static inline bool hvx_vmx_has_host_mmio(struct hvx_vmx_vcpu *v)
{
	return READ_ONCE(v->mem->nr_device_mmio) != 0;
}

/**
 * hvx_vmx_noncoherent_dma - may a device of the VM DMA around the caches?
 * @v: the vCPU.
 *
 * True while a device whose DMA is not known to snoop the CPU caches is
 * assigned (iommu/domain.c): the guest's WBINVD must then write its data
 * back to memory. Read without a lock: an assignment made concurrently
 * counts from the next WBINVD.
 *
 * Context: any.
 * Return: true if the VM has non-coherent DMA.
 */
static inline bool hvx_vmx_noncoherent_dma(struct hvx_vmx_vcpu *v)
{
	return atomic_read(&v->mem->nr_noncoherent);
}

extern bool hvx_vmx_rebooting;
void hvx_vmx_insn_fault(const char *insn);

/**
 * vmcs_read - VMREAD a field of the current VMCS (SDM Vol. 3C 31.3)
 * @field: field encoding (SDM Vol. 3D Appendix B).
 *
 * A VMREAD that faults (#UD: the CPU left VMX operation for a reboot
 * behind the caller's back, see hvx_vmx_insn_fault()) reads 0; the next
 * VMWRITE or VM entry of the same sequence reports the fault.
 *
 * Context: preemption disabled, the vCPU's VMCS current on this CPU.
 * Return: the field value (undefined if the field is unsupported).
 */
static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value;

	asm volatile("1: vmread %[field], %[value]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_ZERO_REG, %[value])
		     : [value] "=r"(value) : [field] "r"(field) : "cc");
	return value;
}

void hvx_vmwrite_error(unsigned long field, unsigned long value);

/**
 * vmcs_write - VMWRITE a field of the current VMCS (SDM Vol. 3C 31.3)
 * @field: field encoding.
 * @value: new value.
 *
 * Context: as vmcs_read(). A failure is a hvx bug and is logged once; a
 * fault goes to hvx_vmx_insn_fault().
 */
static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	asm goto("1: vmwrite %[value], %[field]\n\t"
		 "jbe %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [field] "r"(field), [value] "rm"(value)
		 : "cc" : fail, fault);
	return;
fail:
	hvx_vmwrite_error(field, value);
	return;
fault:
	hvx_vmx_insn_fault("VMWRITE");
}

/* The cached copy of @reg: a pointer into @v (HVX_REG_* order). */
static __always_inline u64 *hvx_vmx_reg_ptr(struct hvx_vmx_vcpu *v,
					    enum hvx_reg reg)
{
	switch (reg) {
	case HVX_REG_RIP:
		return &v->rip;
	case HVX_REG_RSP:
		return &v->rsp;
	case HVX_REG_RFLAGS:
		return &v->rflags;
	default:
		return &v->intr_state;
	}
}

/**
 * hvx_vmx_reg - a guest register through the VMCS cache
 * @v: the vCPU; its own thread.
 * @reg: which one.
 *
 * The first use after an exit costs one VMREAD; later ones none.
 * Context: process context, or interrupts off with the VMCS current.
 * Return: the register.
 */
static __always_inline u64 hvx_vmx_reg(struct hvx_vmx_vcpu *v,
				       enum hvx_reg reg)
{
	if (likely(v->regs_avail & BIT(reg)))
		return *hvx_vmx_reg_ptr(v, reg);
	return hvx_vmx_reg_load(v, reg);
}

/**
 * hvx_vmx_reg_set - change a cached guest register
 * @v: the vCPU; its own thread (or not running).
 * @reg: which one.
 * @val: the new value, written to the VMCS before the next entry.
 */
static __always_inline void hvx_vmx_reg_set(struct hvx_vmx_vcpu *v,
					    enum hvx_reg reg, u64 val)
{
	*hvx_vmx_reg_ptr(v, reg) = val;
	v->regs_avail |= BIT(reg);
	v->regs_dirty |= BIT(reg);
}

/**
 * hvx_vmx_xfield - a VMCS field the exit handlers only read, cached per exit
 * @v: the vCPU; its own thread.
 * @f: which one (enum hvx_xfield).
 *
 * One VMREAD on first use after an exit (hvx_vmx_run() reads some before
 * it lets the VMCS go), none after, until the exit is handled.
 * Context: process context, or interrupts off with the VMCS current.
 * Return: the field.
 */
static __always_inline u64 hvx_vmx_xfield(struct hvx_vmx_vcpu *v,
					  enum hvx_xfield f)
{
	if (likely(v->xf_avail & BIT(f)))
		return v->xf[f];
	return hvx_vmx_xfield_load(v, f);
}

/**
 * hvx_vmx_xfield_flush - forget the fields cached for this exit
 * @v: the vCPU; its own thread (or not running).
 *
 * For whoever writes one of them (segment registers, CR3) and at the end
 * of an exit's handling.
 */
static __always_inline void hvx_vmx_xfield_flush(struct hvx_vmx_vcpu *v)
{
	v->xf_avail = 0;
}

static __always_inline u64 hvx_vmx_rip(struct hvx_vmx_vcpu *v)
{
	return hvx_vmx_reg(v, HVX_REG_RIP);
}

static __always_inline u64 hvx_vmx_rsp(struct hvx_vmx_vcpu *v)
{
	return hvx_vmx_reg(v, HVX_REG_RSP);
}

static __always_inline u64 hvx_vmx_rflags(struct hvx_vmx_vcpu *v)
{
	return hvx_vmx_reg(v, HVX_REG_RFLAGS);
}

static __always_inline u32 hvx_vmx_intr_state(struct hvx_vmx_vcpu *v)
{
	return hvx_vmx_reg(v, HVX_REG_INTR);
}

/**
 * hvx_vmx_skip_instruction - advance RIP past an emulated instruction
 * @v: the vCPU.
 * @len: instruction length, bytes.
 *
 * Inline, the usual case of every exit's skip: RIP, RFLAGS and the
 * interruptibility state cached (hvx_vmx_run() reads them), no TF or RF,
 * no breakpoint hit, no blocking by STI or MOV SS, and a new RIP below
 * 4 GiB if the old one was (else it may have to wrap there: only the
 * mode knows). Anything else, with what the skip must then do, is
 * hvx_vmx_skip_instruction_slow().
 */
static __always_inline void hvx_vmx_skip_instruction(struct hvx_vmx_vcpu *v,
						     u32 len)
{
	u64 rip = v->rip + len;

	if (likely((v->regs_avail & HVX_SKIP_REGS) == HVX_SKIP_REGS &&
		   !(v->rflags & (X86_EFLAGS_TF | X86_EFLAGS_RF)) &&
		   !(v->intr_state & (GUEST_INTR_STATE_STI |
				      GUEST_INTR_STATE_MOV_SS)) &&
		   !v->db_hits && !((rip ^ v->rip) & BIT_ULL(32)))) {
		v->rip = rip;
		v->regs_dirty |= BIT(HVX_REG_RIP);
		return;
	}
	hvx_vmx_skip_instruction_slow(v, len);
}

/**
 * hvx_vmx_set_pending - leave an instruction to the next HVX_RUN
 * @v: the vCPU; its own thread, handling the exit.
 * @p: what the run must complete (not HVX_PENDING_NONE).
 *
 * Notes the RIP the exit leaves (at the instruction, or past the VMCALL
 * of HVX_PENDING_HYPERCALL): hvx_vmx_complete_pending() completes the
 * instruction only if userspace left RIP there.
 */
static inline void hvx_vmx_set_pending(struct hvx_vmx_vcpu *v,
				       enum hvx_pending p)
{
	v->pending = p;
	v->pending_rip = hvx_vmx_rip(v);
}

/* state.c: the state save and restore need (HVX_GET/SET_XSAVE ...) */
int hvx_vmx_get_xsave(struct hvx_vmx_vcpu *v, struct hvx_xsave *x);
int hvx_vmx_set_xsave(struct hvx_vmx_vcpu *v, const struct hvx_xsave *x);
void hvx_vmx_get_xcrs(struct hvx_vmx_vcpu *v, struct hvx_xcrs *x);
int hvx_vmx_set_xcrs(struct hvx_vmx_vcpu *v, const struct hvx_xcrs *x);
void hvx_vmx_get_debugregs(struct hvx_vmx_vcpu *v, struct hvx_debugregs *d);
int hvx_vmx_set_debugregs(struct hvx_vmx_vcpu *v,
			  const struct hvx_debugregs *d);

/**
 * hvx_vmx_kick_flush - wake the siblings this vCPU's thread has kicked
 * @v: the vCPU; called by its own thread (before an entry, a sleep, a
 *	directed yield, the end of the run).
 *
 * See hvx_vmx_kick(): wake-ups of sleeping siblings wait for the sender's
 * next entry, so that the host's wake-up preemption does not stop the
 * sender inside the guest's critical section.
 * Context: any in the vCPU's thread, interrupts on or off.
 */
static inline void hvx_vmx_kick_flush(struct hvx_vmx_vcpu *v)
{
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	if (unlikely(READ_ONCE(v->rs.kick_ids)))
		__hvx_vmx_kick_flush(v);
#endif
}

#endif /* HVX_VMX_H */
