/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmenter.S - VM entry, the VM-exit landing point, host NMI delivery.
 *
 * int hvx_vmx_enter(unsigned long *gprs, unsigned long flags,
 *		     u64 *spec_ctrl, unsigned long *host_rsp)
 *
 * Loads the guest GPRs from @gprs (RSP, RIP and RFLAGS come from the
 * VMCS), executes VMLAUNCH or VMRESUME (HVX_ENTER_RESUME in @flags), and
 * on VM exit stores the guest GPRs back. Returns HVX_ENTER_EXITED after a
 * VM exit (including a failed VM entry, which is reported as an exit with
 * bit 31 of the exit reason set, SDM Vol. 3C 27.8), HVX_ENTER_VMFAIL if
 * the instruction failed with VMfail (SDM Vol. 3C 31.2; the VM-instruction
 * error field says why), or HVX_ENTER_FAULTED if it faulted because the
 * CPU is outside VMX operation (a reboot took it out).
 *
 * The speculation barriers of the boundary live here, because no RET or
 * indirect branch may run between them and the entry or exit
 * (HVX_ENTER_* in @flags, chosen by spec.c):
 *  - before entry: the guest's IA32_SPEC_CTRL (*@spec_ctrl) is written
 *    only if it differs from the host's current value; then, after the
 *    last host-memory access, VERW clears the CPU buffers;
 *  - after exit, before the first RET: every GPR is zeroed, the RSB is
 *    filled (or one CALL retired, for PBRSB), the branch history is
 *    cleared, the guest's IA32_SPEC_CTRL is read back when it owns the
 *    MSR, and the host's value (x86_spec_ctrl_current) is restored, so
 *    IBRS, eIBRS and BHI_DIS_S are never lost.
 *
 * Context: interrupts disabled, the vCPU's VMCS current on this CPU.
 * A VM exit loads RSP from HOST_RSP, which is written here just before
 * entry when it differs from *@host_rsp, the value the VMCS holds (the
 * stack depth is the same on almost every entry, and a VMWRITE costs
 * tens of cycles), and RIP from HOST_RIP = hvx_vmx_exit (SDM Vol. 3C
 * 28.5.3).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/cpufeatures.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

#include "vmenter.h"

#define VMCS_HOST_RSP	0x6c14
#define GPR(n)		((n) * 8)

/* Stack slots below the callee-saved registers while the guest runs. */
#define SLOT_GPRS	0
#define SLOT_FLAGS	8
#define SLOT_SPEC	16
#define SLOTS		24

.section .noinstr.text, "ax"

SYM_FUNC_START(hvx_vmx_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdx		/* SLOT_SPEC */
	push	%rsi		/* SLOT_FLAGS */
	push	%rdi		/* SLOT_GPRS */

	/* HOST_RSP only when it differs from the last one written. */
	cmp	%rsp, (%rcx)
	je	.Lhost_rsp_done
	mov	%rsp, (%rcx)
	mov	$VMCS_HOST_RSP, %eax
.Lhost_rsp:
	vmwrite	%rsp, %rax
	_ASM_EXTABLE(.Lhost_rsp, .Lentry_fault)
.Lhost_rsp_done:

	/*
	 * The guest's SPEC_CTRL, if it differs from the host's. From here
	 * to VMLAUNCH/VMRESUME there is no RET and no indirect branch.
	 */
	test	$HVX_ENTER_SPEC_CTRL, %esi
	jz	.Lspec_in_done
	mov	(%rdx), %rax
	cmp	PER_CPU_VAR(x86_spec_ctrl_current), %rax
	je	.Lspec_in_done
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lspec_in_done:

	/*
	 * RCX: non-zero if VERW is wanted (tested with JRCXZ, which leaves
	 * the flags alone). CF: VMRESUME. VERW clobbers ZF, so the
	 * launch/resume choice is carried in CF, which MOV and VERW keep.
	 */
	mov	%esi, %ecx
	and	$HVX_ENTER_VERW, %ecx
	bt	$HVX_ENTER_RESUME_BIT, %esi

	mov	GPR(0)(%rdi), %rax
	mov	GPR(2)(%rdi), %rdx
	mov	GPR(3)(%rdi), %rbx
	mov	GPR(5)(%rdi), %rbp
	mov	GPR(6)(%rdi), %rsi
	mov	GPR(8)(%rdi), %r8
	mov	GPR(9)(%rdi), %r9
	mov	GPR(10)(%rdi), %r10
	mov	GPR(11)(%rdi), %r11
	mov	GPR(12)(%rdi), %r12
	mov	GPR(13)(%rdi), %r13
	mov	GPR(14)(%rdi), %r14
	mov	GPR(15)(%rdi), %r15

	/* The memory operand form is the one that clears the buffers. */
	jrcxz	.Lverw_done
	verw	hvx_verw_sel(%rip)
.Lverw_done:
	mov	GPR(1)(%rdi), %rcx
	mov	GPR(7)(%rdi), %rdi

	UNWIND_HINT_SAVE
	jc	.Lresume
.Llaunch:
	vmlaunch
	jmp	.Lvmfail
.Lresume:
	vmresume
	jmp	.Lvmfail
	_ASM_EXTABLE(.Llaunch, .Lentry_fault)
	_ASM_EXTABLE(.Lresume, .Lentry_fault)

SYM_INNER_LABEL(hvx_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ANNOTATE_NOENDBR
	push	%rdi
	mov	SLOT_GPRS+8(%rsp), %rdi
	mov	%rax, GPR(0)(%rdi)
	mov	%rcx, GPR(1)(%rdi)
	mov	%rdx, GPR(2)(%rdi)
	mov	%rbx, GPR(3)(%rdi)
	mov	%rbp, GPR(5)(%rdi)
	mov	%rsi, GPR(6)(%rdi)
	mov	%r8, GPR(8)(%rdi)
	mov	%r9, GPR(9)(%rdi)
	mov	%r10, GPR(10)(%rdi)
	mov	%r11, GPR(11)(%rdi)
	mov	%r12, GPR(12)(%rdi)
	mov	%r13, GPR(13)(%rdi)
	mov	%r14, GPR(14)(%rdi)
	mov	%r15, GPR(15)(%rdi)
	popq	GPR(7)(%rdi)
	xor	%ebx, %ebx
	jmp	.Lscrub

	/*
	 * VMWRITE, VMLAUNCH or VMRESUME faulted: the CPU is outside VMX
	 * operation (a reboot took it out, hvx_vmx_insn_fault() in vmx.c).
	 */
.Lentry_fault:
	mov	$HVX_ENTER_FAULTED, %ebx
	jmp	.Lscrub

.Lvmfail:
	mov	$HVX_ENTER_VMFAIL, %ebx

.Lscrub:
	/*
	 * No guest value may stay in a register, not even one that the
	 * pops below reload, since a speculative use could run first.
	 * RBX holds the return value, RSP the host stack.
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/*
	 * Before the first RET: overwrite the return predictions the guest
	 * left (SpectreRSB), or, with eIBRS, make one CALL retire before
	 * any RET (PBRSB). The LFENCE on the skip path keeps a mispredicted
	 * skip from reaching a RET speculatively.
	 */
	testl	$HVX_ENTER_RSB, SLOT_FLAGS(%rsp)
	jz	.Lrsb_lite
	__FILL_RETURN_BUFFER(%rcx, RSB_CLEAR_LOOPS)
	jmp	.Lrsb_done
.Lrsb_lite:
	testl	$HVX_ENTER_RSB_LITE, SLOT_FLAGS(%rsp)
	jz	.Lrsb_none
	__FILL_ONE_RETURN
	jmp	.Lrsb_done
.Lrsb_none:
	lfence
.Lrsb_done:

	/* Branch History Injection: the kernel's clearing sequence. */
#ifdef HVX_FEATURE_BHB_VMEXIT	/* else no clear_bhb_loop: never set */
	testl	$HVX_ENTER_BHB, SLOT_FLAGS(%rsp)
	jz	.Lbhb_done
	call	clear_bhb_loop
.Lbhb_done:
#endif

	/*
	 * The guest's SPEC_CTRL back (when it owns the MSR) and the host's
	 * in. Legacy IBRS must be written after every exit to act as a
	 * barrier, equal or not.
	 */
	testl	$HVX_ENTER_SPEC_CTRL, SLOT_FLAGS(%rsp)
	jz	.Lspec_out_done
	mov	SLOT_SPEC(%rsp), %rsi
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	testl	$HVX_ENTER_SAVE_SPEC_CTRL, SLOT_FLAGS(%rsp)
	jz	.Lspec_out_cmp
	rdmsr
	shl	$32, %rdx
	or	%rdx, %rax
	mov	%rax, (%rsi)
.Lspec_out_cmp:
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %rax
	testl	$HVX_ENTER_IBRS_ALWAYS, SLOT_FLAGS(%rsp)
	jnz	.Lspec_out_write
	cmp	(%rsi), %rax
	je	.Lspec_out_fence
.Lspec_out_write:
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
.Lspec_out_fence:
	/* No speculation past a skipped write with the guest's value. */
	lfence
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
.Lspec_out_done:

	add	$SLOTS, %rsp
	mov	%ebx, %eax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hvx_vmx_enter)

/*
 * The kernel's NMI entry for an NMI that caused a VM exit: the entry
 * point is reached by CALL through a synthesized interrupt frame (SS,
 * RSP, RFLAGS, CS; the CALL pushes RIP), and its IRET comes back here
 * and unblocks NMIs (SDM Vol. 3C 28.1: blocking by NMI is in force
 * after such an exit). It runs on the current stack: the entry is the
 * non-IST variant meant for this.
 */
SYM_FUNC_START(hvx_vmx_do_nmi)
#ifdef HVX_NMI_ENTRY
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	call	HVX_NMI_ENTRY
	leave
#endif
	RET
SYM_FUNC_END(hvx_vmx_do_nmi)

/*
 * The selector VERW checks: any valid one works, the instruction only
 * needs a memory operand to clear the buffers. Module-local because
 * newer kernels export the kernel's own only to KVM.
 */
.pushsection .rodata
	.balign 2
SYM_DATA_LOCAL(hvx_verw_sel, .word __KERNEL_DS)
.popsection
