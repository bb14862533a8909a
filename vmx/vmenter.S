/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmenter.S - VM entry and the VM-exit landing point.
 *
 * int hvx_vmx_enter(unsigned long *gprs, bool launched)
 *
 * Loads the guest GPRs from @gprs (RSP, RIP and RFLAGS come from the
 * VMCS), executes VMLAUNCH (first entry after VMCLEAR) or VMRESUME, and on
 * VM exit stores the guest GPRs back. Returns 0 after a VM exit (including
 * a failed VM entry, which is reported as an exit with bit 31 of the exit
 * reason set, SDM Vol. 3C 27.8), or 1 if the instruction failed with
 * VMfail (SDM Vol. 3C 31.2; the VM-instruction error field says why).
 *
 * Context: interrupts disabled, the vCPU's VMCS current on this CPU.
 * A VM exit loads RSP from HOST_RSP, which is written here just before
 * entry, and RIP from HOST_RIP = hvx_vmx_exit (SDM Vol. 3C 28.5.3).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>

#define VMCS_HOST_RSP	0x6c14
#define GPR(n)		(n * 8)

.text

SYM_FUNC_START(hvx_vmx_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* The GPR array pointer stays at 0(%rsp) while the guest runs. */
	push	%rdi

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax

	/* Flags from here to the branch must survive the MOVs below. */
	test	%sil, %sil

	mov	GPR(0)(%rdi), %rax
	mov	GPR(1)(%rdi), %rcx
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
	mov	GPR(7)(%rdi), %rdi

	UNWIND_HINT_SAVE
	jnz	.Lresume
	vmlaunch
	jmp	.Lvmfail
.Lresume:
	vmresume
	jmp	.Lvmfail

SYM_INNER_LABEL(hvx_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ANNOTATE_NOENDBR
	push	%rdi
	mov	8(%rsp), %rdi
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
	xor	%eax, %eax
	jmp	.Lout

.Lvmfail:
	mov	$1, %eax

.Lout:
	add	$8, %rsp
	/* Do not leave guest values in caller-saved registers. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hvx_vmx_enter)
