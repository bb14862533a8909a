/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx.h - the userspace ABI of the hvx hypervisor: the /dev/hvx ioctls
 * and, in a section of its own at the end, the "hvx" generic netlink
 * family (VM list, per-vCPU statistics, events).
 *
 * This is the only header userspace includes. The ioctls follow KVM:
 *
 *   open("/dev/hvx")            system fd
 *     HVX_CREATE_VM             -> VM fd (anonymous inode)
 *       HVX_SET_MEMORY_REGION   guest RAM from userspace memory
 *       HVX_CREATE_VCPU         -> vCPU fd (anonymous inode)
 *         mmap(vCPU fd)         struct hvx_run + I/O data page
 *         HVX_GET/SET_REGS, HVX_GET/SET_SREGS
 *         HVX_RUN               run until an exit userspace must handle
 *
 * Rules for every ioctl: all structs have explicit padding and only
 * fixed-size types; every reserved field and every unknown flag bit must be
 * zero, else the ioctl fails with -EINVAL and changes nothing. An ioctl
 * number whose encoded size does not match fails with -ENOTTY.
 */
#ifndef _UAPI_HVX_H
#define _UAPI_HVX_H

#include <linux/types.h>
#include <linux/ioctl.h>

/** HVX_API_VERSION - value returned by HVX_GET_API_VERSION. */
#define HVX_API_VERSION		1

/** HVXIO - ioctl magic of hvx (unused by in-tree drivers on x86). */
#define HVXIO			0xB7

/* Limits (see the kernel-doc of the ioctls that use them). */
#define HVX_MAX_MEM_SLOTS	32	/* memory slots per VM */
#define HVX_MAX_VCPUS		64	/* vCPUs per VM */
#define HVX_RUN_IO_DATA_OFFSET	4096	/* I/O data page offset in the mmap, bytes */
#define HVX_RUN_IO_DATA_SIZE	4096	/* I/O data page size, bytes */
#define HVX_VCPU_MMAP_SIZE	8192	/* bytes: run page + I/O data page */
#define HVX_MAX_CPUID_ENTRIES	80	/* entries in struct hvx_cpuid */
#define HVX_MAX_MSR_ENTRIES	64	/* entries in struct hvx_msrs */

/**
 * struct hvx_memory_region - guest physical memory backed by user memory
 * @slot: slot number, 0 .. HVX_MAX_MEM_SLOTS - 1.
 * @flags: HVX_MEM_* flags; unknown bits must be zero.
 * @guest_phys_addr: first guest physical address (GPA) of the slot, bytes;
 *	page-aligned and below the host's physical-address width.
 * @memory_size: size in bytes, page-aligned, at most 512 GiB. Zero deletes
 *	the slot.
 * @userspace_addr: host virtual address (HVA) backing the slot, page-aligned,
 *	in the calling process, readable and (unless read-only) writable;
 *	anonymous, shmem (memfd, tmpfs) or hugetlbfs memory. Pages are
 *	pinned and charged to the process's RLIMIT_MEMLOCK (unless it has
 *	CAP_IPC_LOCK) as the guest touches them, and follow the process's
 *	mappings: after munmap(), mremap(), MADV_DONTNEED or a MAP_FIXED
 *	mapping there the guest sees what is mapped now (not while a device
 *	is assigned: the device and the guest keep the old pages).
 * @reserved: must be zero.
 *
 * Used with HVX_SET_MEMORY_REGION. A slot may not overlap another slot's
 * GPA range (-EEXIST). Setting a slot number that exists changes that slot:
 * a new GPA (move), size (resize), HVA or flags. The change is atomic for
 * the guest: a vCPU touching the slot meanwhile waits for it to finish and
 * then sees either the old slot or the new one, never host memory of
 * either. Size zero deletes the slot.
 */
struct hvx_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 reserved[4];
};

/* Guest writes to a read-only slot become HVX_EXIT_MMIO exits. */
#define HVX_MEM_READONLY	(1u << 0)
/* Record the pages the guest writes, for HVX_GET_DIRTY_LOG. */
#define HVX_MEM_LOG_DIRTY	(1u << 1)
#define HVX_MEM_VALID_FLAGS	(HVX_MEM_READONLY | HVX_MEM_LOG_DIRTY)

/**
 * struct hvx_regs - general-purpose registers of a vCPU
 * @rax: RAX.
 * @rbx: RBX.
 * @rcx: RCX.
 * @rdx: RDX.
 * @rsi: RSI.
 * @rdi: RDI.
 * @rsp: RSP.
 * @rbp: RBP.
 * @r8: R8.
 * @r9: R9.
 * @r10: R10.
 * @r11: R11.
 * @r12: R12.
 * @r13: R13.
 * @r14: R14.
 * @r15: R15.
 * @rip: instruction pointer.
 * @rflags: RFLAGS; bit 1 must be set for VM entry to succeed
 *	(SDM Vol. 3C 27.3.1.4), but this is checked at entry, not here.
 *
 * Used with HVX_GET_REGS and HVX_SET_REGS.
 */
struct hvx_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/**
 * struct hvx_segment - a segment register as the CPU caches it
 * @base: segment base address.
 * @limit: segment limit in bytes (byte granular, i.e. already scaled by G).
 * @selector: visible selector.
 * @type: 4-bit segment type (SDM Vol. 3A 3.4.5.1).
 * @present: P bit.
 * @dpl: descriptor privilege level, 0..3.
 * @db: D/B bit (default operation size).
 * @s: S bit (1 = code/data, 0 = system).
 * @l: L bit (64-bit code segment).
 * @g: G bit (granularity).
 * @avl: AVL bit.
 * @unusable: segment is unusable (a null selector was loaded),
 *	SDM Vol. 3C 24.4.1.
 * @padding: must be zero.
 *
 * Every bit-field is stored in its own byte and must hold a value that fits
 * the hardware field (type <= 15, dpl <= 3, flags 0 or 1), else -EINVAL.
 */
struct hvx_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 present, dpl, db, s, l, g, avl, unusable;
	__u8 padding[2];
};

/**
 * struct hvx_dtable - a descriptor-table register (GDTR or IDTR)
 * @base: linear base address.
 * @limit: limit in bytes, at most 0xffff.
 * @padding: must be zero.
 */
struct hvx_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

/**
 * struct hvx_sregs - special registers of a vCPU
 * @cs: CS.
 * @ds: DS.
 * @es: ES.
 * @fs: FS.
 * @gs: GS.
 * @ss: SS.
 * @tr: TR.
 * @ldt: LDTR.
 * @gdt: GDTR.
 * @idt: IDTR.
 * @cr0: CR0 as the guest sees it.
 * @cr2: CR2.
 * @cr3: CR3.
 * @cr4: CR4 as the guest sees it. VMXE and SMXE cannot be set (-EINVAL).
 * @cr8: CR8 (task priority, 0..15).
 * @efer: IA32_EFER; LMA must equal LME && CR0.PG, else -EINVAL.
 * @apic_base: IA32_APIC_BASE, as the guest's RDMSR of it returns.
 * @reserved: must be zero.
 *
 * Used with HVX_GET_SREGS and HVX_SET_SREGS. CR0 and CR4 bits the CPU
 * requires in VMX operation (CR0.NE, CR4.VMXE) are supplied by hvx and
 * hidden from the guest through read shadows (SDM Vol. 3C 25.6.6).
 */
struct hvx_sregs {
	struct hvx_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct hvx_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 reserved[8];
};

/**
 * struct hvx_cpuid_entry - one CPUID leaf as the guest sees it
 * @function: leaf (EAX input).
 * @index: subleaf (ECX input), used when @flags has
 *	HVX_CPUID_FLAG_SIGNIFICANT_INDEX.
 * @flags: HVX_CPUID_FLAG_*; unknown bits must be zero.
 * @eax: output EAX (and so on).
 * @ebx: output EBX.
 * @ecx: output ECX.
 * @edx: output EDX.
 * @padding: must be zero.
 */
struct hvx_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;
	__u32 eax, ebx, ecx, edx;
	__u32 padding;
};

#define HVX_CPUID_FLAG_SIGNIFICANT_INDEX	(1u << 0)

/**
 * struct hvx_cpuid - a vCPU's CPUID table
 * @nent: entries used, at most HVX_MAX_CPUID_ENTRIES.
 * @padding: must be zero.
 * @entries: the leaves; a (function, index) pair may appear only once.
 *
 * A leaf missing from the table reads as the highest basic leaf when its
 * function is above the basic maximum (entry 0's EAX) and below
 * 0x40000000, as on Intel CPUs (SDM Vol. 2A, CPUID), and as zeros
 * otherwise. hvx does not check that the table is truthful: features it
 * does not virtualize stay unusable (for example, CR4 bits hvx refuses)
 * whatever the table says.
 */
struct hvx_cpuid {
	__u32 nent;
	__u32 padding;
	struct hvx_cpuid_entry entries[HVX_MAX_CPUID_ENTRIES];
};

/**
 * struct hvx_msr_entry - one model-specific register
 * @index: MSR number (SDM Vol. 4).
 * @reserved: must be zero.
 * @data: value.
 */
struct hvx_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

/**
 * struct hvx_msrs - a list of MSRs for HVX_GET_MSRS / HVX_SET_MSRS
 * @nmsrs: entries used, at most HVX_MAX_MSR_ENTRIES.
 * @padding: must be zero.
 * @entries: the MSRs.
 *
 * Both ioctls handle the MSRs a guest can read or write with
 * RDMSR/WRMSR (vmx/msr.c, and the KVM paravirtual MSRs of vmx/pvmsr.c
 * when the vCPU's CPUID offers them). HVX_SET_MSRS checks every entry before
 * writing any: an unknown MSR or a value the CPU would refuse gives
 * -EINVAL and nothing changes.
 */
struct hvx_msrs {
	__u32 nmsrs;
	__u32 padding;
	struct hvx_msr_entry entries[HVX_MAX_MSR_ENTRIES];
};

/* Flags of struct hvx_clock. */
#define HVX_CLOCK_REALTIME	(1U << 0)	/* @realtime is valid */

/**
 * struct hvx_clock - the VM's kvmclock, for HVX_GET_CLOCK and HVX_SET_CLOCK
 * @clock: nanoseconds of the VM's kvmclock (what the guest's kvm-clock
 *	reads). By default it is the host's CLOCK_BOOTTIME.
 * @realtime: the host's CLOCK_REALTIME, nanoseconds, at the moment @clock
 *	was read (HVX_GET_CLOCK sets it and HVX_CLOCK_REALTIME). Given to
 *	HVX_SET_CLOCK with HVX_CLOCK_REALTIME, the host wall time elapsed since
 *	@realtime, if positive, is added to @clock: a guest restored from a
 *	snapshot, here or on another host, finds its clock moved on by the
 *	time it was stopped, as after a suspend.
 * @flags: HVX_CLOCK_* flags.
 * @pad: must be zero.
 * @reserved: must be zero.
 *
 * The VM keeps an offset to the host's clock, so that a restored guest's
 * kvmclock goes on from its saved value even where the host's clock is
 * behind it (a host rebooted since the save): without it the guest's clock
 * would run backwards.
 */
struct hvx_clock {
	__u64 clock;
	__u64 realtime;
	__u32 flags;
	__u32 pad;
	__u64 reserved[4];
};

/**
 * struct hvx_tsc_offset - the VM's TSC offset
 * @offset: TSC cycles added to the host TSC for every vCPU of the VM
 *	(two's complement; SDM Vol. 3C 26.6, "TSC offsetting").
 * @reserved: must be zero.
 *
 * Guest RDTSC then returns host TSC + @offset (+ the vCPU's own
 * adjustments from guest writes to IA32_TSC or IA32_TSC_ADJUST, which
 * this resets to zero) without a VM exit.
 */
struct hvx_tsc_offset {
	__s64 offset;
	__u64 reserved[3];
};

/**
 * struct hvx_ipi - an INIT or Startup IPI for HVX_SEND_IPI
 * @vcpu_id: the target vCPU.
 * @kind: HVX_IPI_INIT or HVX_IPI_SIPI.
 * @vector: SIPI vector: the AP starts in real mode at @vector * 4096
 *	(CS = @vector << 8, IP = 0; SDM Vol. 3A 9.4.4.1 and 11.6.1).
 * @pad: must be zero.
 * @reserved: must be zero.
 *
 * INIT resets the vCPU to its INIT state and, unless it is the bootstrap
 * processor (IA32_APIC_BASE.BSP), makes it wait for a SIPI; a SIPI to a
 * waiting vCPU starts it, and is ignored otherwise, as on hardware.
 */
struct hvx_ipi {
	__u32 vcpu_id;
	__u8 kind;
	__u8 vector;
	__u8 pad[2];
	__u64 reserved[2];
};

#define HVX_IPI_INIT		1
#define HVX_IPI_SIPI		2

/* hvx_mp_state.state */
#define HVX_MP_RUNNABLE		0	/* runs when HVX_RUN is called */
#define HVX_MP_WAIT_SIPI	1	/* HVX_RUN sleeps until a SIPI */
#define HVX_MP_HALTED		2	/* HLT: sleeps until an interrupt (or a PV kick) */

/**
 * struct hvx_mp_state - a vCPU's multiprocessor state
 * @state: HVX_MP_*. HVX_SET_MP_STATE accepts RUNNABLE, WAIT_SIPI (what
 *	firmware leaves application processors in) and HALTED (to restore
 *	a vCPU saved while halted).
 * @reserved: must be zero.
 */
struct hvx_mp_state {
	__u32 state;
	__u32 reserved[3];
};

/**
 * struct hvx_interrupt - an external interrupt for HVX_INTERRUPT
 * @vector: interrupt vector, 32..255.
 * @padding: must be zero.
 */
struct hvx_interrupt {
	__u32 vector;
	__u32 padding;
};

/**
 * struct hvx_vcpu_events - events waiting for delivery to the guest
 * @exception: a hardware exception to deliver at the next entry.
 *	@pending nonzero if one is queued; @vector 0..31 (not 2, NMI);
 *	@has_error_code; @error_code (ignored in real mode, where no error
 *	code is pushed, SDM Vol. 3C 27.2.1.3).
 * @interrupt: an external interrupt queued by HVX_INTERRUPT.
 *	@pending; @vector 32..255.
 * @nmi: @pending: an NMI is queued.
 * @flags: must be zero.
 * @reserved: must be zero.
 *
 * HVX_GET_VCPU_EVENTS reports what is queued, including an event whose
 * delivery a VM exit interrupted (re-injected at the next entry, SDM Vol.
 * 3C 28.2.4). HVX_SET_VCPU_EVENTS replaces the queue, so that state can
 * be saved and restored. At most one exception and one interrupt or NMI
 * are delivered per entry; an exception goes first.
 */
struct hvx_vcpu_events {
	struct {
		__u8 pending;
		__u8 vector;
		__u8 has_error_code;
		__u8 pad;
		__u32 error_code;
	} exception;
	struct {
		__u8 pending;
		__u8 vector;
		__u8 pad[2];
	} interrupt;
	struct {
		__u8 pending;
		__u8 pad[3];
	} nmi;
	__u32 flags;
	__u32 reserved[8];
};

/* Exit reasons reported in hvx_run.exit_reason. */
#define HVX_EXIT_UNKNOWN	0
#define HVX_EXIT_IO		1	/* port I/O: hvx_run.io */
#define HVX_EXIT_MMIO		2	/* GPA outside RAM slots: hvx_run.mmio */
#define HVX_EXIT_HLT		3	/* guest executed HLT */
#define HVX_EXIT_SHUTDOWN	4	/* triple fault */
#define HVX_EXIT_FAIL_ENTRY	5	/* VM entry failed: hvx_run.fail_entry */
#define HVX_EXIT_INTERNAL_ERROR	6	/* hvx_run.internal */
#define HVX_EXIT_INTR		7	/* run returned for a signal or immediate_exit */
#define HVX_EXIT_IRQ_WINDOW_OPEN 8	/* see hvx_run.request_interrupt_window */
#define HVX_EXIT_MSR		9	/* unknown MSR, HVX_VM_MSR_EXITS: hvx_run.msr */
#define HVX_EXIT_HYPERCALL	10	/* VMCALL userspace asked for: hvx_run.hypercall */

/*
 * The name of every HVX_EXIT_* reason, as { value, "NAME" } pairs in the
 * shape of <asm/vmx.h>'s VMX_EXIT_REASONS: the one list the tracepoints
 * (__print_symbolic()), hvxctl, hvx-run and the selftests print from. A
 * new reason is added here and nowhere else.
 */
#define HVX_EXIT_REASONS					\
	{ HVX_EXIT_UNKNOWN,		"UNKNOWN" },		\
	{ HVX_EXIT_IO,			"IO" },			\
	{ HVX_EXIT_MMIO,		"MMIO" },		\
	{ HVX_EXIT_HLT,			"HLT" },		\
	{ HVX_EXIT_SHUTDOWN,		"SHUTDOWN" },		\
	{ HVX_EXIT_FAIL_ENTRY,		"FAIL_ENTRY" },		\
	{ HVX_EXIT_INTERNAL_ERROR,	"INTERNAL_ERROR" },	\
	{ HVX_EXIT_INTR,		"INTR" },		\
	{ HVX_EXIT_IRQ_WINDOW_OPEN,	"IRQ_WINDOW_OPEN" },	\
	{ HVX_EXIT_MSR,			"MSR" },		\
	{ HVX_EXIT_HYPERCALL,		"HYPERCALL" }

/* Flags of HVX_CREATE_VM. */
#define HVX_VM_MSR_EXITS	(1u << 0)	/* unknown MSRs exit to userspace */
/*
 * HVX_VM_NO_VCPUS: a DMA-only VM (memory slots and assigned PCI devices,
 * see "PCI passthrough" below). It needs no VMX, so it can be created on
 * a CPU without VT-x; HVX_CREATE_VCPU on it fails with -EINVAL.
 */
#define HVX_VM_NO_VCPUS		(1u << 1)
/*
 * HVX_VM_NO_PV: the default CPUID table of the VM's vCPUs has no KVM
 * paravirtual leaves (0x40000100, 0x40000101): a pure hardware guest,
 * whose paravirtual hypercalls return -HVX_HC_ENOSYS and whose accesses
 * to the paravirtual MSRs (kvmclock, steal time, PV EOI) raise #GP. A
 * table set with HVX_SET_CPUID decides for itself.
 */
#define HVX_VM_NO_PV		(1u << 2)
#define HVX_VM_VALID_FLAGS	(HVX_VM_MSR_EXITS | HVX_VM_NO_VCPUS | \
				 HVX_VM_NO_PV)

#define HVX_EXIT_IO_IN		0
#define HVX_EXIT_IO_OUT		1

/* hvx_run.fail_entry.kind */
#define HVX_ENTRY_FAIL_GUEST_STATE	1	/* exit reason 33, see .check */
#define HVX_ENTRY_FAIL_MSR_LOADING	2	/* exit reason 34 */
/* VMLAUNCH/VMRESUME VMfail, see .vm_instruction_error */
#define HVX_ENTRY_FAIL_VMFAIL		3
/* exit reason 41: a machine check during VM entry */
#define HVX_ENTRY_FAIL_MACHINE_CHECK	4

/**
 * enum hvx_entry_check - which guest-state check of SDM Vol. 3C 27.3.1
 * failed. Reported in hvx_run.fail_entry.check after a VM entry fails with
 * "invalid guest state"; hvx re-runs the checks in software to name it.
 * @HVX_CHECK_UNKNOWN: hardware refused but no software check failed.
 * @HVX_CHECK_CR0_FIXED: CR0 violates IA32_VMX_CR0_FIXED0/1 (27.3.1.1).
 * @HVX_CHECK_CR4_FIXED: CR4 violates IA32_VMX_CR4_FIXED0/1 (27.3.1.1).
 * @HVX_CHECK_CR0_PG_PE: CR0.PG set without CR0.PE (27.3.1.1).
 * @HVX_CHECK_LONG_MODE_PAGING: IA-32e mode guest needs CR0.PG and CR4.PAE
 *	(27.3.1.1).
 * @HVX_CHECK_EFER: EFER reserved bits, or LMA != IA-32e mode guest, or
 *	LMA != LME with CR0.PG set (27.3.1.1).
 * @HVX_CHECK_RFLAGS: RFLAGS reserved bits, or bit 1 clear, or VM set in
 *	IA-32e mode (27.3.1.4).
 * @HVX_CHECK_RIP: RIP bits 63:32 set outside 64-bit code, or RIP not
 *	canonical (27.3.1.4).
 * @HVX_CHECK_SEG_CS: CS access rights or limit invalid (27.3.1.2).
 * @HVX_CHECK_SEG_SS: SS access rights invalid (27.3.1.2).
 * @HVX_CHECK_SEG_DATA: DS/ES/FS/GS access rights or limit invalid (27.3.1.2).
 * @HVX_CHECK_SEG_TR: TR invalid: unusable, not a busy TSS, or S set (27.3.1.2).
 * @HVX_CHECK_SEG_LDTR: LDTR usable but not an LDT descriptor (27.3.1.2).
 * @HVX_CHECK_SEG_BASE: a segment base not canonical or too large (27.3.1.2).
 * @HVX_CHECK_DTABLE: GDTR/IDTR base not canonical (27.3.1.3).
 * @HVX_CHECK_V86: virtual-8086 segment rules violated (27.3.1.2).
 */
enum hvx_entry_check {
	HVX_CHECK_UNKNOWN = 0,
	HVX_CHECK_CR0_FIXED,
	HVX_CHECK_CR4_FIXED,
	HVX_CHECK_CR0_PG_PE,
	HVX_CHECK_LONG_MODE_PAGING,
	HVX_CHECK_EFER,
	HVX_CHECK_RFLAGS,
	HVX_CHECK_RIP,
	HVX_CHECK_SEG_CS,
	HVX_CHECK_SEG_SS,
	HVX_CHECK_SEG_DATA,
	HVX_CHECK_SEG_TR,
	HVX_CHECK_SEG_LDTR,
	HVX_CHECK_SEG_BASE,
	HVX_CHECK_DTABLE,
	HVX_CHECK_V86,
};

/* hvx_run.internal.suberror */
#define HVX_INTERNAL_UNHANDLED_EXIT	1	/* an exit reason hvx does not handle */
#define HVX_INTERNAL_EMULATION		2	/* instruction or operand not readable */
#define HVX_INTERNAL_BAD_EVENT		3	/* event delivery caused an unhandled exit */

/**
 * struct hvx_run - per-vCPU shared page, mapped with mmap() on the vCPU fd
 * @immediate_exit: in: if nonzero, HVX_RUN returns -EINTR at once without
 *	entering the guest (like a pending signal), after completing a
 *	pending I/O or MMIO read (unless that read gives the write exit of a
 *	read-modify-write, see @mmio, which is returned instead).
 * @request_interrupt_window: in: if nonzero, HVX_RUN returns with
 *	HVX_EXIT_IRQ_WINDOW_OPEN as soon as the guest can take an external
 *	interrupt (RFLAGS.IF = 1, no STI/MOV SS blocking, nothing queued).
 * @ready_for_interrupt_injection: out: on every return, nonzero if
 *	HVX_INTERRUPT would be delivered at the next entry.
 * @if_flag: out: guest RFLAGS.IF on return.
 * @padding1: reserved.
 * @exit_reason: out: HVX_EXIT_*.
 * @padding2: reserved.
 * @io: HVX_EXIT_IO. @direction HVX_EXIT_IO_IN/OUT; @size 1, 2 or 4 bytes;
 *	@port; @count number of elements (more than one only for string I/O);
 *	@data_offset byte offset of the data within the mmap area
 *	(HVX_RUN_IO_DATA_OFFSET). For IN, userspace writes @count * @size bytes
 *	there and the next HVX_RUN completes the instruction.
 * @mmio: HVX_EXIT_MMIO. @phys_addr the GPA; @data the bytes written (for a
 *	write) or to be filled by userspace (for a read, used by the next
 *	HVX_RUN); @len 1, 2, 4 or 8 bytes; @is_write. The instruction is
 *	complete, with RIP past it, only after its last access: an
 *	instruction that reads and writes MMIO (ADD, OR, ADC, SBB, AND, SUB,
 *	XOR or XCHG with a memory operand there, or MOVS between two MMIO
 *	addresses) gives a read exit, then a write exit of the result,
 *	returned by the HVX_RUN that takes the read data without entering
 *	the guest. REP MOVS and REP STOS exit once per element.
 * @fail_entry: HVX_EXIT_FAIL_ENTRY. @hardware_entry_failure_reason the basic
 *	exit reason with bit 31 set (SDM Vol. 3C 27.8), or 0 for VMfail and
 *	when the check_entry module parameter found the problem before VM
 *	entry was attempted;
 *	@kind HVX_ENTRY_FAIL_*; @check enum hvx_entry_check;
 *	@vm_instruction_error VM-instruction error number (SDM Vol. 3C 31.4)
 *	for VMfail; @qualification the exit qualification; @cpu the host CPU.
 * @internal: HVX_EXIT_INTERNAL_ERROR. @suberror HVX_INTERNAL_*;
 *	@exit_reason raw basic exit reason; @qualification exit qualification;
 *	@data extra words (guest linear address, instruction bytes ...).
 * @msr: HVX_EXIT_MSR (VMs created with HVX_VM_MSR_EXITS). @index the MSR;
 *	@is_write; @data the value written, or to be filled by userspace for
 *	a read; @error set by userspace to nonzero to raise #GP(0) in the
 *	guest instead. The next HVX_RUN completes the RDMSR/WRMSR.
 * @hypercall: HVX_EXIT_HYPERCALL (numbers chosen with
 *	HVX_SET_HYPERCALL_EXITS). @nr the number (guest RAX); @args the
 *	arguments (guest RBX, RCX, RDX, RSI); @ret set by userspace: the
 *	next HVX_RUN puts it in the guest's RAX (truncated to 32 bits when
 *	@flags has no HVX_HYPERCALL_LONG_MODE) and enters the guest after
 *	the VMCALL; @flags HVX_HYPERCALL_* (out). @nr and @args are already
 *	truncated to 32 bits outside 64-bit mode.
 * @padding: fixes the union at 256 bytes.
 *
 * The run struct is in page 0 of the vCPU mmap; string and single I/O
 * data is in page 1 (HVX_RUN_IO_DATA_OFFSET).
 */
struct hvx_run {
	__u8 immediate_exit;
	__u8 request_interrupt_window;
	__u8 ready_for_interrupt_injection;
	__u8 if_flag;
	__u8 padding1[4];
	__u32 exit_reason;
	__u32 padding2;
	union {
		struct {
			__u8 direction;
			__u8 size;
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
			__u8 pad[3];
		} mmio;
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 kind;
			__u32 check;
			__u32 vm_instruction_error;
			__u32 cpu;
			__u64 qualification;
		} fail_entry;
		struct {
			__u32 index;
			__u8 is_write;
			__u8 error;
			__u8 pad[2];
			__u64 data;
		} msr;
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 exit_reason;
			__u64 qualification;
			__u64 data[8];
		} internal;
		struct {
			__u64 nr;
			__u64 args[4];
			__u64 ret;
			__u32 flags;
			__u32 pad;
		} hypercall;
		__u8 padding[256];
	};
};

/* System ioctls, on the /dev/hvx fd. */

/**
 * HVX_GET_API_VERSION - returns HVX_API_VERSION. Argument must be 0.
 */
#define HVX_GET_API_VERSION	_IO(HVXIO, 0x00)
/**
 * HVX_CREATE_VM - create a VM; returns a new VM fd (O_CLOEXEC).
 * Argument: HVX_VM_* flags; unknown bits give -EINVAL. Errors: -EOPNOTSUPP
 * without VMX, EPT or unrestricted guest (a HVX_VM_NO_VCPUS VM needs none
 * of them); -EBUSY when another hypervisor holds VMX root mode; -ENOSPC
 * when the module's max_vms VMs exist; -ENOMEM.
 */
#define HVX_CREATE_VM		_IO(HVXIO, 0x01)
/**
 * HVX_GET_VCPU_MMAP_SIZE - returns HVX_VCPU_MMAP_SIZE (bytes).
 */
#define HVX_GET_VCPU_MMAP_SIZE	_IO(HVXIO, 0x02)
/**
 * HVX_GET_SUPPORTED_CPUID - the CPUID table a new vCPU 0 starts with:
 * the host's CPUID with what hvx does not virtualize hidden, the
 * hypervisor bit, the "hvxhvxhvxhvx" leaf 0x40000000 and KVM's
 * paravirtual leaves 0x40000100-0x40000101 (see "Paravirtual
 * interface"). -EOPNOTSUPP without usable VMX.
 */
#define HVX_GET_SUPPORTED_CPUID	_IOR(HVXIO, 0x03, struct hvx_cpuid)

/* Devices of HVX_CREATE_PLATFORM (struct hvx_platform_config.devices). */
#define HVX_PLATFORM_PIC	(1u << 0)	/* 8259A pair: 0x20, 0xa0, ELCR 0x4d0 */
#define HVX_PLATFORM_PIT	(1u << 1)	/* 8254 PIT: 0x40-0x43, port 0x61 */
#define HVX_PLATFORM_UART	(1u << 2)	/* 16550A at COM1: 0x3f8, IRQ 4 */
#define HVX_PLATFORM_RTC	(1u << 3)	/* CMOS/RTC: 0x70-0x71, IRQ 8 */
#define HVX_PLATFORM_PCI	(1u << 4)	/* config mechanism #1: 0xcf8/0xcfc */
#define HVX_PLATFORM_LAPIC	(1u << 5)	/* a local APIC per vCPU */
#define HVX_PLATFORM_IOAPIC	(1u << 6)	/* I/O APIC at 0xfec00000 */
#define HVX_PLATFORM_ALL	0x7fu

/**
 * struct hvx_platform_config - argument of HVX_CREATE_PLATFORM
 * @devices: HVX_PLATFORM_* bits: the in-kernel devices to create. Must be
 *	nonzero and within HVX_PLATFORM_ALL.
 * @flags: none defined; must be 0.
 * @reserved: must be 0.
 *
 * The hypervisor-direct model: these devices are emulated inside hvx, so
 * their register accesses and interrupts cost no exit to userspace. Ports
 * and MMIO that no in-kernel device claims still exit to userspace.
 */
struct hvx_platform_config {
	__u32 devices;
	__u32 flags;
	__u64 reserved[3];
};

/* VM ioctls, on a VM fd. */

/**
 * HVX_SET_MEMORY_REGION - create, change or delete a memory slot (see
 * struct hvx_memory_region). Errors: -EINVAL (bad slot, flags, alignment,
 * reserved, range), -E2BIG (over 512 GiB), -EEXIST (overlaps another slot,
 * an assigned device's BAR or the APIC-access page), -EFAULT (HVA range
 * not accessible), -EOPNOTSUPP (HVA range not anonymous, shmem or
 * hugetlbfs memory), -ENOENT (deleting a slot that does not exist),
 * -ENOSPC (the VM's memory limit, HVX_SET_MEM_LIMIT, would be exceeded),
 * -EADDRINUSE (over a region the IOMMU reserves for an assigned device's
 * group, see "PCI passthrough"), -ENOMEM (also: pinning the whole slot for
 * an assigned device would pass RLIMIT_MEMLOCK). Nothing changes on error.
 */
#define HVX_SET_MEMORY_REGION	_IOW(HVXIO, 0x10, struct hvx_memory_region)
/**
 * HVX_CREATE_VCPU - create a vCPU with the given id (0 .. HVX_MAX_VCPUS-1);
 * returns a vCPU fd. Errors: -EINVAL (id out of range), -EEXIST (id used),
 * -ENOSPC (the module's max_vcpus vCPUs exist, counting all VMs).
 * returns a vCPU fd. Errors: -EINVAL (id out of range, or a DMA-only VM
 * created with HVX_VM_NO_VCPUS), -EEXIST (id used).
 */
#define HVX_CREATE_VCPU		_IO(HVXIO, 0x11)
/**
 * HVX_SET_TSC_OFFSET - set the VM's TSC offset. A vCPU applies a new
 * offset at its next HVX_RUN (and at creation). -EINVAL for nonzero
 * reserved fields.
 */
#define HVX_SET_TSC_OFFSET	_IOW(HVXIO, 0x12, struct hvx_tsc_offset)
/** HVX_GET_TSC_OFFSET - read the VM's TSC offset. */
#define HVX_GET_TSC_OFFSET	_IOR(HVXIO, 0x13, struct hvx_tsc_offset)
/**
 * HVX_GET_CLOCK - (VM fd) read the VM's kvmclock and, at the same moment,
 * the host's wall time (struct hvx_clock, every field written).
 */
#define HVX_GET_CLOCK		_IOR(HVXIO, 0x1a, struct hvx_clock)
/**
 * HVX_SET_CLOCK - (VM fd) set the VM's kvmclock (struct hvx_clock); every
 * vCPU rewrites its kvmclock page before its next entry. Set it before the
 * vCPUs run (a restore): a guest that reads its clock meanwhile may see it
 * jump. -EINVAL for unknown @flags or nonzero @pad or reserved fields,
 * with nothing changed.
 */
#define HVX_SET_CLOCK		_IOW(HVXIO, 0x1b, struct hvx_clock)
/**
 * HVX_SEND_IPI - deliver INIT or SIPI to a vCPU, from any thread. A vCPU
 * running guest code is kicked out of it with a host IPI and handles the
 * signal at once. Errors: -EINVAL (unknown kind, nonzero pad/reserved),
 * -ENOENT (no such vCPU).
 */
#define HVX_SEND_IPI		_IOW(HVXIO, 0x14, struct hvx_ipi)
/**
 * HVX_CREATE_PLATFORM - create the VM's in-kernel devices, once, before
 * any vCPU. Errors: -EINVAL (unknown device bits, nonzero flags or
 * reserved), -EEXIST (already created), -EBUSY (vCPUs exist), -ENOMEM.
 */
#define HVX_CREATE_PLATFORM	_IOW(HVXIO, 0x15, struct hvx_platform_config)

/*
 * Platform devices (numbers 0x40-0x47), VM ioctls.
 */

/**
 * HVX_GET_CONSOLE_FD - an fd on the line of the in-kernel UART at COM1
 * (HVX_PLATFORM_UART). Argument must be 0. read() returns what the guest
 * transmitted (from a 64 KiB ring; blocks until there is output, or
 * -EAGAIN with O_NONBLOCK); write() is received by the guest, as fast as
 * its 16-byte receive FIFO drains (blocks, or a short count / -EAGAIN
 * with O_NONBLOCK); poll() gives EPOLLIN when output waits and EPOLLOUT
 * when the guest can take input. When the ring is full the UART stops
 * transmitting (THRE stays clear, the guest waits, nothing is dropped)
 * until the fd is read. The fd (O_RDWR | O_CLOEXEC) keeps the VM alive;
 * several may be open. Errors: -EINVAL (nonzero argument), -ENODEV (no
 * UART, or HVX_CREATE_PLATFORM not done).
 */
#define HVX_GET_CONSOLE_FD	_IO(HVXIO, 0x40)

/*
 * CMOS RAM of the in-kernel RTC: indices HVX_CMOS_RAM_FIRST .. 127; below
 * it the clock registers (MC146818: time, alarm, A-D), read-only here.
 */
#define HVX_CMOS_SIZE		128
#define HVX_CMOS_RAM_FIRST	0x0e

/**
 * struct hvx_cmos - CMOS bytes for HVX_SET_CMOS and HVX_GET_CMOS
 * @first: first CMOS index of the range: HVX_CMOS_RAM_FIRST .. 127 for
 *	HVX_SET_CMOS (the clock registers 0x00-0x0d follow the host's clock
 *	and the guest), 0 .. 127 for HVX_GET_CMOS, which reads the clock
 *	registers as the guest would except that register C (0x0c: IRQF,
 *	PF, AF, UF) is not cleared by the read and shows only the flags
 *	the RTC's timers have set.
 * @count: bytes in the range, at least 1, @first + @count <= 128.
 * @reserved: must be zero.
 * @data: CMOS contents by index: @data[i] is CMOS byte i; only
 *	@data[@first .. @first + @count - 1] is used.
 *
 * The RAM is plain storage that the guest reads and writes through ports
 * 0x70/0x71; hvx gives no byte a meaning. A launcher booting without
 * firmware puts the PC's conventional values there, e.g. base memory in
 * KiB at 0x15-0x16, extended memory in KiB at 0x17-0x18 and 0x30-0x31,
 * memory above 16 MiB in 64 KiB units at 0x34-0x35 (little-endian). The
 * century byte 0x32 starts as the host's century in BCD.
 */
struct hvx_cmos {
	__u32 first;
	__u32 count;
	__u64 reserved[2];
	__u8 data[HVX_CMOS_SIZE];
};

/**
 * HVX_SET_CMOS - write CMOS RAM bytes (HVX_PLATFORM_RTC), from any thread.
 * Errors: -EINVAL (range outside the RAM or empty, nonzero reserved),
 * -ENODEV (no RTC, or HVX_CREATE_PLATFORM not done). Nothing changes on
 * error.
 */
#define HVX_SET_CMOS		_IOW(HVXIO, 0x41, struct hvx_cmos)
/**
 * HVX_GET_CMOS - read CMOS bytes, the clock registers included (see
 * struct hvx_cmos); the errors of HVX_SET_CMOS, but -EINVAL only for an
 * empty range or one past index 127.
 */
#define HVX_GET_CMOS		_IOWR(HVXIO, 0x42, struct hvx_cmos)

/*
 * Ioctl numbers by area, so that work in parallel does not collide:
 * 0x30-0x37 memory, 0x40-0x47 platform devices (UART console, RTC, PCI),
 * 0x48-0x4f interrupt controllers and routing, 0x50-0x5f passthrough,
 * 0x60-0x67 the paravirtual interface, 0x68 in-kernel virtio devices,
 * 0x70-0x7f saving and restoring state.
 */

/* vCPU ioctls, on a vCPU fd. */

/**
 * HVX_RUN - run the vCPU until an exit for userspace. Argument must be 0.
 * Returns 0 with hvx_run.exit_reason set, or -EINTR on a pending signal or
 * immediate_exit (exit_reason HVX_EXIT_INTR). -EIO if called from a process
 * other than the VM's creator. -EBUSY if another thread is running it.
 * -EFAULT if the guest touched slot memory with nothing pinnable mapped at
 * its HVA (unmapped, PROT_NONE), -ENOMEM if pinning it would pass
 * RLIMIT_MEMLOCK: the access is retried by the next HVX_RUN.
 *
 * The instruction of an exit to userspace (I/O, MMIO, MSR, hypercall) is
 * completed by the next HVX_RUN (the data read, the skip past it, the
 * hypercall's RAX) only if RIP is where the exit left it: HVX_SET_REGS
 * with another RIP abandons it, and the guest starts at the new RIP, in
 * every mode (KVM drops a port I/O completion the same way). Registers
 * set with RIP unchanged are kept, and the completion then applies.
 */
#define HVX_RUN			_IO(HVXIO, 0x20)
#define HVX_GET_REGS		_IOR(HVXIO, 0x21, struct hvx_regs)
#define HVX_SET_REGS		_IOW(HVXIO, 0x22, struct hvx_regs)
#define HVX_GET_SREGS		_IOR(HVXIO, 0x23, struct hvx_sregs)
#define HVX_SET_SREGS		_IOW(HVXIO, 0x24, struct hvx_sregs)
/** HVX_GET_CPUID - read the vCPU's CPUID table. */
#define HVX_GET_CPUID		_IOR(HVXIO, 0x25, struct hvx_cpuid)
/**
 * HVX_SET_CPUID - replace the vCPU's CPUID table. -EINVAL (nent too
 * large, unknown flags, nonzero padding, duplicate leaf); nothing changes
 * on error.
 */
#define HVX_SET_CPUID		_IOW(HVXIO, 0x26, struct hvx_cpuid)
/**
 * HVX_GET_MSRS - read a list of MSRs; returns the number of entries (all
 * of them), or -EINVAL (nmsrs too large, nonzero reserved field, an MSR
 * hvx does not handle).
 */
#define HVX_GET_MSRS		_IOWR(HVXIO, 0x27, struct hvx_msrs)
/**
 * HVX_SET_MSRS - write a list of MSRs; returns the number of entries, or
 * -EINVAL (as HVX_GET_MSRS, or a value the CPU would refuse) with nothing
 * changed.
 */
#define HVX_SET_MSRS		_IOW(HVXIO, 0x28, struct hvx_msrs)
/**
 * HVX_INTERRUPT - queue external interrupt @vector; it is delivered at the
 * first entry where the guest can take it (an interrupt window is
 * requested meanwhile). It may be called from any thread, also while
 * another runs the vCPU: a running vCPU is kicked, a halted one woken.
 * -EINVAL for a vector below 32, -EBUSY if an interrupt is already queued.
 */
#define HVX_INTERRUPT		_IOW(HVXIO, 0x29, struct hvx_interrupt)
/**
 * HVX_NMI - queue an NMI (argument must be 0), from any thread like
 * HVX_INTERRUPT. -EBUSY if one is queued.
 */
#define HVX_NMI			_IO(HVXIO, 0x2a)
#define HVX_GET_VCPU_EVENTS	_IOR(HVXIO, 0x2b, struct hvx_vcpu_events)
/**
 * HVX_SET_VCPU_EVENTS - replace the queued events; -EINVAL for vectors out
 * of range, an exception vector 2, nonzero flags/reserved/padding.
 */
#define HVX_SET_VCPU_EVENTS	_IOW(HVXIO, 0x2c, struct hvx_vcpu_events)
/** HVX_GET_MP_STATE - read the vCPU's struct hvx_mp_state. */
#define HVX_GET_MP_STATE	_IOR(HVXIO, 0x2d, struct hvx_mp_state)
/** HVX_SET_MP_STATE - set it; -EINVAL for an unknown state. */
#define HVX_SET_MP_STATE	_IOW(HVXIO, 0x2e, struct hvx_mp_state)

/**
 * struct hvx_lapic_state - a snapshot of a vCPU's local APIC
 * @regs: the first 1 KiB of the xAPIC register page (SDM Vol. 3A 11.4.1,
 *	Table 11-1): the 32-bit register at offset R (a multiple of 16) in
 *	bytes R..R+3, little-endian, as the guest would read it at that
 *	moment (in x2APIC mode the ID holds the whole id, SDM Vol. 3A
 *	11.12.5); the rest of each 16-byte slot and offsets that are no
 *	register read 0. IRR and ISR include what the CPU holds with
 *	virtual-interrupt delivery (VIRR, VISR); PPR and the current count
 *	are computed at the call.
 */
struct hvx_lapic_state {
	__u8 regs[1024];
};

/**
 * HVX_GET_LAPIC - read the vCPU's struct hvx_lapic_state, to inspect a
 * stuck guest (hvx-run --summary prints a line per vCPU when stopped by a
 * signal) or to save it (HVX_SET_LAPIC). -ENXIO if the VM has no
 * in-kernel local APICs (HVX_PLATFORM_LAPIC).
 */
#define HVX_GET_LAPIC		_IOR(HVXIO, 0x2f, struct hvx_lapic_state)

/*
 * ===========================================================================
 * Interrupt controllers and routing (ioctl numbers 0x48-0x4f)
 * ===========================================================================
 *
 * With HVX_PLATFORM_LAPIC every vCPU has a local APIC (xAPIC page at
 * 0xfee00000, x2APIC MSRs 0x800-0x8ff, timer, IPIs); with
 * HVX_PLATFORM_IOAPIC the VM has an I/O APIC at 0xfec00000 with
 * HVX_NR_GSIS inputs. GSIs 0-15 also drive the PIC's inputs when the VM
 * has one. The LAPIC timer counts at HVX_APIC_BUS_KHZ; CPUID leaf
 * 0x40000010 reports the TSC frequency (EAX, kHz) and that bus frequency
 * (EBX, kHz) to the guest.
 */

/** HVX_NR_GSIS - global system interrupts: I/O APIC inputs 0-23. */
#define HVX_NR_GSIS		24
/** HVX_APIC_BUS_KHZ - LAPIC timer input clock (1 GHz, as KVM's), kHz. */
#define HVX_APIC_BUS_KHZ	1000000
/** HVX_MAX_IRQFDS - eventfds a VM may bind with HVX_IRQFD. */
#define HVX_MAX_IRQFDS		64

/**
 * struct hvx_irq_level - argument of HVX_IRQ_LINE
 * @gsi: the global system interrupt, 0 .. HVX_NR_GSIS - 1.
 * @level: 1 asserts the line, 0 deasserts it. An edge-triggered source
 *	gives an edge with 1 then 0; a level-triggered source keeps the line
 *	at 1 until the device stops asking (then the I/O APIC re-delivers
 *	after each EOI while it stays at 1).
 * @reserved: must be zero.
 */
struct hvx_irq_level {
	__u32 gsi;
	__u32 level;
	__u64 reserved[2];
};

/**
 * struct hvx_msi - an MSI message (PCI Local Bus Spec 3.0 6.8; the x86
 * format of SDM Vol. 3A 11.11)
 * @address_lo: 0xFEEx_xxxx: bits 19:12 destination APIC id, bit 3
 *	redirection hint, bit 2 destination mode (1 logical); bits 11:4 and
 *	1:0 must be zero.
 * @address_hi: must be zero (8-bit destinations only).
 * @data: bits 7:0 vector, 10:8 delivery mode (fixed, lowest priority,
 *	SMI, NMI, INIT, ExtINT; 3 and 6 are reserved), 14 level, 15 trigger
 *	mode; bits 31:16 and 13:11 must be zero.
 * @flags: none defined; must be zero.
 * @reserved: must be zero.
 */
struct hvx_msi {
	__u32 address_lo;
	__u32 address_hi;
	__u32 data;
	__u32 flags;
	__u64 reserved[2];
};

/* Flags of struct hvx_irqfd. */
#define HVX_IRQFD_DEASSIGN	(1u << 0)	/* unbind @fd */
#define HVX_IRQFD_MSI		(1u << 1)	/* inject @msi, not @gsi */
#define HVX_IRQFD_RESAMPLE	(1u << 2)	/* level-triggered INTx, see below */
#define HVX_IRQFD_VALID_FLAGS	0x7u

/**
 * struct hvx_irqfd - argument of HVX_IRQFD
 * @fd: an eventfd (eventfd(2)) of the calling process.
 * @flags: HVX_IRQFD_*.
 * @gsi: without HVX_IRQFD_MSI: the GSI that each write to @fd pulses
 *	(1 then 0), 0 .. HVX_NR_GSIS - 1; must be 0 with HVX_IRQFD_MSI.
 * @resamplefd: with HVX_IRQFD_RESAMPLE: an eventfd hvx signals when the
 *	guest EOIs the level-triggered interrupt; a write to @fd then asserts
 *	@gsi and keeps it asserted until that EOI (the device is expected to
 *	write @fd again if it still needs service). Must be 0 otherwise.
 * @msi: with HVX_IRQFD_MSI: the message each write to @fd sends, checked
 *	as for HVX_SIGNAL_MSI; must be all zero otherwise.
 * @reserved: must be zero.
 *
 * A write to @fd injects from the writer's context, without a VM exit
 * or a return to userspace of any vCPU thread (a running target vCPU is
 * kicked out of guest mode and takes the interrupt at once). Closing @fd
 * stops it; the binding is dropped at the next HVX_IRQFD, or with the VM.
 * With HVX_IRQFD_DEASSIGN only @fd and @flags are looked at.
 */
struct hvx_irqfd {
	__s32 fd;
	__u32 flags;
	__u32 gsi;
	__s32 resamplefd;
	struct hvx_msi msi;
	__u64 reserved[2];
};

/**
 * HVX_IRQ_LINE - drive a GSI of the VM's PIC and I/O APIC (VM ioctl).
 * Errors: -EINVAL (gsi out of range, level above 1, nonzero reserved),
 * -ENXIO (the VM has neither a PIC nor an I/O APIC).
 */
#define HVX_IRQ_LINE		_IOW(HVXIO, 0x48, struct hvx_irq_level)
/**
 * HVX_SIGNAL_MSI - send an MSI to the VM's local APICs (VM ioctl).
 * Returns the number of local APICs that accepted it (0: no vCPU matched
 * the destination, or their APICs are disabled). Errors: -EINVAL (a
 * field as described in struct hvx_msi), -ENXIO (no HVX_PLATFORM_LAPIC).
 */
#define HVX_SIGNAL_MSI		_IOW(HVXIO, 0x49, struct hvx_msi)
/**
 * HVX_IRQFD - bind an eventfd to a GSI or an MSI, or unbind it (VM
 * ioctl). Errors: -EBADF (@fd or @resamplefd not open), -EINVAL (not an
 * eventfd, bad flags, GSI, MSI or nonzero reserved), -EBUSY (@fd already
 * bound), -ENOENT (deassign of an fd not bound), -ENOSPC (HVX_MAX_IRQFDS
 * bound), -ENXIO (no interrupt controller for it: a GSI needs a PIC or
 * an I/O APIC, an MSI or HVX_IRQFD_RESAMPLE needs the local APICs and an
 * I/O APIC).
 */
#define HVX_IRQFD		_IOW(HVXIO, 0x4a, struct hvx_irqfd)

/*
 * ===========================================================================
 * Memory: dirty logging, limits, EPT information (VM fd, 0x30 - 0x37)
 * ===========================================================================
 *
 * Guest RAM is ordinary memory of the VM's creator (anonymous, memfd,
 * hugetlbfs, THP). hvx pins a page when the guest first touches it (and
 * unpins it when its slot or the VM goes), and maps it in the EPT with
 * the write-back memory type. Where the host page is a 2 MiB or 1 GiB
 * huge page (THP or hugetlbfs), the GPA and HVA are congruent modulo that
 * size and the whole aligned range lies in one slot without
 * HVX_MEM_LOG_DIRTY, one EPT leaf of that size maps it.
 */

/**
 * struct hvx_dirty_log - argument of HVX_GET_DIRTY_LOG
 * @slot: a slot created with HVX_MEM_LOG_DIRTY.
 * @padding: must be zero.
 * @dirty_bitmap: user address of a bitmap of (slot pages + 63) / 64
 *	__u64 words; bit i (bit i % 64 of word i / 64) is page i of the
 *	slot, the page at guest_phys_addr + i * 4096.
 * @reserved: must be zero.
 */
struct hvx_dirty_log {
	__u32 slot;
	__u32 padding;
	__u64 dirty_bitmap;
	__u64 reserved[2];
};

/**
 * struct hvx_mem_limit - argument of HVX_SET_MEM_LIMIT
 * @max_bytes: most bytes of guest memory the VM's slots may hold, a
 *	multiple of 4096; 0 means no limit (the default).
 * @reserved: must be zero.
 */
struct hvx_mem_limit {
	__u64 max_bytes;
	__u64 reserved[3];
};

/* hvx_mem_info.flags */
/* dirty log from EPT A/D flags (else from write protection) */
#define HVX_MEM_INFO_AD		(1u << 0)
#define HVX_MEM_INFO_2M		(1u << 1)	/* 2 MiB EPT leaves may be used */
#define HVX_MEM_INFO_1G		(1u << 2)	/* 1 GiB EPT leaves may be used */
#define HVX_MEM_INFO_NX_HUGE	(1u << 3)	/* large leaves non-executable (iTLB multihit) */

/**
 * struct hvx_mem_info - the VM's guest memory, from HVX_GET_MEM_INFO
 * @flags: HVX_MEM_INFO_*: how this VM's EPT works (fixed at VM creation
 *	from the CPU's features and the ept_ad/ept_large module parameters).
 * @nr_slots: memory slots that exist.
 * @bytes: bytes of guest memory in the slots.
 * @limit: the VM's memory limit in bytes (0: none).
 * @pinned_pages: 4 KiB host pages pinned for the VM now.
 * @table_pages: 4 KiB pages of EPT tables.
 * @leaves_4k: EPT leaves present now that map 4 KiB.
 * @leaves_2m: EPT leaves present now that map 2 MiB.
 * @leaves_1g: EPT leaves present now that map 1 GiB.
 * @ept_flushes: VM-wide INVEPT rounds (single-context, on every CPU where
 *	the VM has run) done so far: one per slot change or deletion, per
 *	HVX_GET_DIRTY_LOG that found dirty pages, per huge leaf split for
 *	execution, per recovery batch, and at VM destruction.
 * @nx_huge_recovered: with HVX_MEM_INFO_NX_HUGE, large leaves split for
 *	execution whose small leaves the periodic recovery dropped so far,
 *	so that the range could be mapped large again (module parameters
 *	nx_huge_pages_recovery_ratio and nx_huge_pages_recovery_period_ms).
 * @reserved: zero.
 */
struct hvx_mem_info {
	__u32 flags;
	__u32 nr_slots;
	__u64 bytes;
	__u64 limit;
	__u64 pinned_pages;
	__u64 table_pages;
	__u64 leaves_4k;
	__u64 leaves_2m;
	__u64 leaves_1g;
	__u64 ept_flushes;
	__u64 nx_huge_recovered;
	__u64 reserved[6];
};

/**
 * HVX_GET_DIRTY_LOG - get and clear the dirty bitmap of a slot: the pages
 * the guest (or hvx emulating a guest instruction) wrote since the slot
 * was created or since the last HVX_GET_DIRTY_LOG of it. Pages written
 * while it runs are reported by this call or the next one. The bits come
 * from the EPT dirty flags when the CPU has them, else from write faults
 * on pages hvx write-protects again at each call (HVX_MEM_INFO_AD tells
 * which). Errors: -EINVAL (nonzero padding/reserved, slot number out of
 * range, slot without HVX_MEM_LOG_DIRTY), -ENOENT (no such slot), -EFAULT
 * (bitmap not writable: the bits stay recorded for the next call).
 */
#define HVX_GET_DIRTY_LOG	_IOW(HVXIO, 0x30, struct hvx_dirty_log)
/**
 * HVX_SET_MEM_LIMIT - set the most bytes of guest memory the VM's slots may
 * hold; slot changes beyond it fail with -ENOSPC. Errors: -EINVAL (not a
 * multiple of 4096, nonzero reserved), -EBUSY (the slots already hold
 * more). Anyone holding the VM fd may change it: it guards a VMM against
 * its own mistakes and is no security control (pinned memory is bounded
 * by RLIMIT_MEMLOCK, and all of it by the memory cgroup).
 */
#define HVX_SET_MEM_LIMIT	_IOW(HVXIO, 0x31, struct hvx_mem_limit)
/** HVX_GET_MEM_INFO - read struct hvx_mem_info of the VM. */
#define HVX_GET_MEM_INFO	_IOR(HVXIO, 0x32, struct hvx_mem_info)

/*
 * ===========================================================================
 * PCI passthrough (VFIO-style)
 * ===========================================================================
 *
 * A VM can own real PCI devices. HVX_ASSIGN_DEVICE on the VM fd takes a
 * device by its PCI address and returns a device fd; the device then
 * belongs to that VM alone until HVX_UNASSIGN_DEVICE, the VM's end (its
 * last fd closed, also by process exit or kill -9) or module unload, when
 * it is reset and given back to the host.
 *
 * Conditions (each refusal changes nothing and logs why):
 *  - the device exists (-ENODEV) and is an endpoint (header type 0,
 *    -EINVAL for bridges);
 *  - an administrator bound it to hvx's stub driver "hvx-pci" (a
 *    driverless device: -EACCES; one with a host driver: -EBUSY), as
 *    VFIO takes only vfio-pci's devices; the sysfs steps:
 *      echo hvx-pci > /sys/bus/pci/devices/ADDR/driver_override
 *      echo ADDR > /sys/bus/pci/devices/ADDR/driver/unbind
 *      echo ADDR > /sys/bus/pci/drivers_probe
 *  - every device of its IOMMU group is driverless or bound to hvx-pci,
 *    pci-stub or pcieport (VFIO's viability rule; -EPERM otherwise), and
 *    the group is not used by another VM (-EBUSY);
 *  - it is not assigned yet, to this VM or another (-EEXIST);
 *  - it is behind an IOMMU; a device without one is refused
 *    (-EOPNOTSUPP) unless the module parameter allow_unsafe_noiommu=1 is
 *    set, which taints the kernel (TAINT_USER): its DMA then reaches all
 *    of host memory, as with VFIO's no-IOMMU mode, so the caller also
 *    needs CAP_SYS_RAWIO (-EPERM);
 *  - the IOMMU isolates the MSIs of its group (interrupt remapping); else
 *    -EOPNOTSUPP unless the module parameter allow_unsafe_interrupts=1
 *    is set, which taints the kernel (TAINT_USER);
 *  - no RAM slot overlaps a region the IOMMU reserves for its group (the
 *    MSI window 0xfee00000-0xfeefffff, RMRRs; -EADDRINUSE). While it is
 *    assigned, a RAM slot over such a region fails with -EADDRINUSE.
 *
 * At release the device stays bound to "hvx-pci" (its driver_override as
 * it was before the assignment) until the administrator unbinds it.
 *
 * DMA: the VM has one IOMMU domain for all its devices, in which every
 * RAM slot is mapped at IOVA = GPA onto the pages EPT maps (all pinned
 * while a device is assigned). A slot added or removed later is mapped
 * before the guest can use it and unmapped before its pages are
 * unpinned. DMA anywhere else faults in the IOMMU and is dropped.
 *
 * The device fd (like a VFIO device fd) gives access to the device's
 * regions through pread/pwrite at HVX_PCI_REGION_OFFSET(index) and mmap
 * of memory BARs, and to its interrupts through eventfds
 * (HVX_DEVICE_SET_IRQS). The config space seen there is the virtualized
 * one the guest sees: BARs, the expansion ROM BAR, the interrupt line
 * and the MSI/MSI-X capabilities are emulated; vendor, class and the
 * other capabilities are read from the device; command register bits
 * I/O, memory, bus master, SERR, parity and INTx disable, the status
 * error bits and the cache line/latency registers are written through;
 * other writes are dropped. After release every call on the fd fails
 * with -ENODEV and its mappings are gone (access gives SIGBUS).
 */

/**
 * struct hvx_pci_device - a PCI device address, for HVX_ASSIGN_DEVICE
 *	and HVX_UNASSIGN_DEVICE
 * @segment: PCI segment (domain), 0 .. 0xffff.
 * @bus: bus number.
 * @devfn: device << 3 | function (PCI Local Bus Spec 3.0, 3.2.2.3.1).
 * @pad: must be zero.
 * @flags: must be zero.
 * @reserved: must be zero.
 */
struct hvx_pci_device {
	__u32 segment;
	__u8 bus;
	__u8 devfn;
	__u16 pad;
	__u32 flags;
	__u32 reserved[5];
};

/* Regions of a device fd, for HVX_DEVICE_GET_REGION_INFO. */
#define HVX_PCI_REGION_BAR0	0	/* .. BAR5 = 5 */
#define HVX_PCI_REGION_ROM	6	/* expansion ROM (read-only) */
#define HVX_PCI_REGION_CONFIG	7	/* virtualized config space */
#define HVX_PCI_NUM_REGIONS	8
/** HVX_PCI_REGION_OFFSET - file offset of a region on the device fd. */
#define HVX_PCI_REGION_OFFSET(index)	((__u64)(index) << 40)

/* hvx_pci_region_info.flags */
#define HVX_PCI_REGION_READ	(1u << 0)	/* pread works */
#define HVX_PCI_REGION_WRITE	(1u << 1)	/* pwrite works */
#define HVX_PCI_REGION_MMAP	(1u << 2)	/* mmap works (memory BARs) */
#define HVX_PCI_REGION_IO	(1u << 3)	/* an I/O port BAR */
#define HVX_PCI_REGION_MEM64	(1u << 4)	/* a 64-bit memory BAR */
#define HVX_PCI_REGION_PREFETCH	(1u << 5)	/* prefetchable memory BAR */
#define HVX_PCI_REGION_MSIX	(1u << 6)	/* holds the MSI-X table or PBA */

/**
 * struct hvx_pci_region_info - one region of an assigned device
 * @index: in: HVX_PCI_REGION_*; -EINVAL if HVX_PCI_NUM_REGIONS or more.
 * @flags: out: HVX_PCI_REGION_* flags; 0 if the region does not exist.
 * @size: out: bytes (0 if absent; 4096 for the config space).
 * @offset: out: file offset of the region (HVX_PCI_REGION_OFFSET(@index)).
 * @host_addr: out: host physical address or port of a BAR (information).
 * @msix_offset: out: for a BAR holding the MSI-X table or PBA: the first
 *	byte, page-aligned down, that mmap refuses (-EACCES) and pread/
 *	pwrite emulate; @msix_size bytes from there.
 * @msix_size: out: see @msix_offset, page-aligned up; 0 if none.
 * @reserved: out: zero.
 *
 * pread/pwrite of a BAR take 1, 2, 4 or 8 bytes at a naturally aligned
 * offset (-EINVAL otherwise); the config space any size and offset.
 * A memory BAR may be mmap()ed with MAP_SHARED at @offset, outside the
 * MSI-X pages; the mapping is uncached.
 */
struct hvx_pci_region_info {
	__u32 index;
	__u32 flags;
	__u64 size;
	__u64 offset;
	__u64 host_addr;
	__u64 msix_offset;
	__u64 msix_size;
	__u64 reserved[2];
};

/* hvx_pci_irqs.type */
#define HVX_PCI_IRQ_NONE	0	/* disable the device's interrupts */
#define HVX_PCI_IRQ_INTX	1	/* the INTx pin, level-triggered */
#define HVX_PCI_IRQ_MSI		2	/* MSI, 1 .. 32 vectors */
#define HVX_PCI_IRQ_MSIX	3	/* MSI-X */
/** HVX_PCI_MAX_IRQ_FDS - eventfds in struct hvx_pci_irqs. */
#define HVX_PCI_MAX_IRQ_FDS	32

/**
 * struct hvx_pci_irqs - route the device's interrupts to eventfds
 * @type: HVX_PCI_IRQ_*.
 * @count: vectors to enable: 1 for INTx, 1 .. the device's MSI vector
 *	count (a power of two) for MSI, 1 .. min(table size,
 *	HVX_PCI_MAX_IRQ_FDS) for MSI-X; 0 for NONE.
 * @flags: must be zero.
 * @pad: must be zero.
 * @eventfds: eventfd for vector i (i < @count), or -1 for none: each
 *	interrupt of the vector adds 1 to its eventfd counter.
 * @reserved: must be zero.
 *
 * Used by HVX_DEVICE_SET_IRQS. Replaces the previous setting (the host
 * interrupts are freed and allocated again). INTx is level-triggered:
 * after each interrupt hvx masks the line (PCI Local Bus Spec 3.0, 6.2.2,
 * Interrupt Disable, or the host IRQ) until HVX_DEVICE_UNMASK_INTX, which
 * userspace calls after it has made the device deassert it.
 */
struct hvx_pci_irqs {
	__u32 type;
	__u32 count;
	__u32 flags;
	__u32 pad;
	__s32 eventfds[HVX_PCI_MAX_IRQ_FDS];
	__u64 reserved[2];
};

/* hvx_pci_device_info.flags */
#define HVX_PCI_DEV_NOIOMMU	(1u << 0)	/* no IOMMU: unsafe mode */
#define HVX_PCI_DEV_RESET	(1u << 1)	/* the device has a reset method */
#define HVX_PCI_DEV_INTX_MASK	(1u << 2)	/* INTx disable works: line may be shared */

/**
 * struct hvx_pci_device_info - what an assigned device is
 * @segment: PCI segment.
 * @bus: bus number.
 * @devfn: device and function.
 * @pad: zero.
 * @vendor: vendor ID.
 * @device: device ID.
 * @flags: HVX_PCI_DEV_* flags.
 * @iommu_group: the IOMMU group id, or -1 without an IOMMU.
 * @msi_vectors: MSI vectors the device supports (0: no MSI capability).
 * @msix_vectors: MSI-X table size (0: no MSI-X capability).
 * @irq_pin: interrupt pin, 1 (INTA#) .. 4, or 0 for none.
 * @reserved: zero.
 */
struct hvx_pci_device_info {
	__u32 segment;
	__u8 bus;
	__u8 devfn;
	__u16 pad;
	__u16 vendor;
	__u16 device;
	__u32 flags;
	__s32 iommu_group;
	__u32 msi_vectors;
	__u32 msix_vectors;
	__u32 irq_pin;
	__u32 reserved[6];
};

/**
 * HVX_ASSIGN_DEVICE - (VM fd) give a PCI device to the VM; returns a
 * device fd (O_CLOEXEC). Only the VM's creator may call it (-EIO).
 * Errors: -EINVAL (flags, pad, reserved, segment out of range, not an
 * endpoint), -ENODEV (no such device), -EACCES (not bound to hvx-pci),
 * -EBUSY (bound to a host driver, or its IOMMU group is used by another
 * VM), -EPERM (IOMMU group not viable), -EEXIST (already assigned),
 * -EOPNOTSUPP (no IOMMU and allow_unsafe_noiommu=0, or no interrupt
 * remapping and allow_unsafe_interrupts=0), -EADDRINUSE (guest RAM over
 * an IOMMU reserved region), -ENOMEM, or an IOMMU error. The device is
 * reset (FLR, PM or bus reset, as it supports) before the VM gets it.
 */
#define HVX_ASSIGN_DEVICE	_IOW(HVXIO, 0x50, struct hvx_pci_device)
/**
 * HVX_UNASSIGN_DEVICE - (VM fd) give an assigned device back to the
 * host: its interrupts are freed, bus mastering stopped, the device reset
 * and its config space restored, then it leaves the VM's IOMMU domain.
 * Errors: -EINVAL (as HVX_ASSIGN_DEVICE), -ENOENT (not assigned to this
 * VM).
 */
#define HVX_UNASSIGN_DEVICE	_IOW(HVXIO, 0x51, struct hvx_pci_device)
/** HVX_DEVICE_GET_INFO - (device fd) struct hvx_pci_device_info. */
#define HVX_DEVICE_GET_INFO	_IOR(HVXIO, 0x52, struct hvx_pci_device_info)
/**
 * HVX_DEVICE_GET_REGION_INFO - (device fd) describe one region; -EINVAL
 * for a bad index.
 */
#define HVX_DEVICE_GET_REGION_INFO _IOWR(HVXIO, 0x53, struct hvx_pci_region_info)
/**
 * HVX_DEVICE_SET_IRQS - (device fd) route interrupts to eventfds.
 * Errors: -EINVAL (type, count, flags, pad, reserved), -EBADF (not an
 * eventfd), -ENODEV (the device has no such interrupt, or was released),
 * -EBUSY (the guest has enabled MSI/MSI-X itself), or the error of the
 * host's interrupt allocation; on error interrupts are off.
 */
#define HVX_DEVICE_SET_IRQS	_IOW(HVXIO, 0x54, struct hvx_pci_irqs)
/**
 * HVX_DEVICE_UNMASK_INTX - (device fd) unmask INTx after an interrupt
 * (argument 0). -EINVAL unless INTx is routed to an eventfd.
 */
#define HVX_DEVICE_UNMASK_INTX	_IO(HVXIO, 0x55)
/**
 * HVX_DEVICE_RESET - (device fd) reset the device (argument 0); its
 * interrupts are turned off. -ENOTTY if it has no reset method, -EAGAIN
 * if the device is busy (being bound or unbound) at the time.
 */
#define HVX_DEVICE_RESET	_IO(HVXIO, 0x56)

/*
 * ===========================================================================
 * Paravirtual interface: hypercalls and the KVM leaves (ioctl numbers
 * 0x60-0x67)
 * ===========================================================================
 *
 * Hypercalls. A guest at CPL 0 executes VMCALL (0F 01 C1, 3 bytes) with
 * RAX = the number and RBX, RCX, RDX, RSI = up to four arguments; the
 * result comes back in RAX, RIP is past the VMCALL (by the length the VM
 * exit reports) and no other register changes. Outside 64-bit mode the
 * number, the arguments and the result are 32 bits wide. The numbers and
 * the error values are KVM's (Linux's include/uapi/linux/kvm_para.h and
 * Documentation/virt/kvm/x86/hypercalls.rst), so a stock Linux guest uses
 * them unchanged:
 *
 * - VMCALL at CPL 1-3: RAX = -HVX_HC_EPERM, no fault;
 * - a number hvx does not know, or one whose feature the vCPU's CPUID
 *   leaf 0x40000101 does not show: RAX = -HVX_HC_ENOSYS, no fault;
 * - a number chosen with HVX_SET_HYPERCALL_EXITS: HVX_EXIT_HYPERCALL,
 *   userspace gives the result (struct hvx_run, @hypercall).
 *
 * A VMCALL the CPU cannot fetch (e.g. its bytes cross the end of the
 * canonical address space) faults in the guest before any VM exit.
 * Calls are counted by number in struct hvx_stats (@hypercalls).
 */

/* Hypercall numbers (RAX), as KVM's KVM_HC_*. */
#define HVX_HC_VAPIC_POLL_IRQ	1	/* no operation, returns 0 */
#define HVX_HC_KICK_CPU		5	/* RBX flags (0), RCX APIC id: unhalt */
#define HVX_HC_SEND_IPI		10	/* RBX, RCX bitmap, RDX min id, RSI ICR */
#define HVX_HC_SCHED_YIELD	11	/* RBX APIC id: yield to its vCPU */

/* Hypercall results other than 0 (RAX holds the negated value), as KVM's. */
#define HVX_HC_EPERM		1	/* VMCALL below CPL 0 */
#define HVX_HC_EINVAL		22	/* bad argument (SEND_IPI ICR) */
#define HVX_HC_ENOSYS		1000	/* unknown or switched-off number */

/*
 * The KVM-compatible paravirtual CPUID leaves, beside hvx's own at
 * 0x40000000: HVX_CPUID_KVM_SIGNATURE returns EAX = HVX_CPUID_KVM_FEATURES
 * (the highest leaf) and "KVMKVMKVM\0\0\0" in EBX, ECX, EDX;
 * HVX_CPUID_KVM_FEATURES returns the HVX_KVM_FEATURE_* bits in EAX and
 * no hints in EDX (the vCPUs may be preempted). HVX_GET_SUPPORTED_CPUID
 * and the default table of a vCPU (unless its VM has HVX_VM_NO_PV) carry
 * every feature hvx implements, hypercalls and paravirtual MSRs alike; a
 * table set with HVX_SET_CPUID shows what the VMM wrote, and a feature it
 * leaves out is off for the guest (its hypercall returns -HVX_HC_ENOSYS,
 * its MSR raises #GP). The features count only when
 * HVX_CPUID_KVM_SIGNATURE carries the signature.
 */
#define HVX_CPUID_KVM_SIGNATURE	0x40000100
#define HVX_CPUID_KVM_FEATURES	0x40000101

/* Bits of CPUID 0x40000101 EAX, as KVM's KVM_FEATURE_* (bit numbers). */
#define HVX_KVM_FEATURE_CLOCKSOURCE2	3	/* kvmclock MSRs 0x4b564d00-01 */
#define HVX_KVM_FEATURE_STEAL_TIME	5	/* MSR 0x4b564d03 */
#define HVX_KVM_FEATURE_PV_EOI		6	/* MSR 0x4b564d04 */
#define HVX_KVM_FEATURE_PV_UNHALT	7	/* HVX_HC_KICK_CPU */
#define HVX_KVM_FEATURE_PV_TLB_FLUSH	9	/* steal time's flush request */
#define HVX_KVM_FEATURE_PV_SEND_IPI	11	/* HVX_HC_SEND_IPI */
#define HVX_KVM_FEATURE_PV_SCHED_YIELD	13	/* HVX_HC_SCHED_YIELD */
#define HVX_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24 /* kvmclock's stable flag */

/* Largest hypercall number HVX_SET_HYPERCALL_EXITS can name, plus one. */
#define HVX_HYPERCALL_EXIT_NRS	1024

/* hvx_run.hypercall.flags */
#define HVX_HYPERCALL_LONG_MODE	(1u << 0)	/* the guest was in 64-bit mode */

/**
 * struct hvx_hypercall_exits - argument of HVX_SET_HYPERCALL_EXITS
 * @flags: none defined; must be 0.
 * @pad: must be 0.
 * @bitmap: bit n (of @bitmap[n / 64], bit n % 64) set: hypercall number n
 *	exits to userspace as HVX_EXIT_HYPERCALL. Numbers hvx handles itself
 *	(HVX_HC_VAPIC_POLL_IRQ, KICK_CPU, SEND_IPI, SCHED_YIELD) cannot be
 *	set. Numbers from HVX_HYPERCALL_EXIT_NRS up never exit.
 * @reserved: must be 0.
 */
struct hvx_hypercall_exits {
	__u32 flags;
	__u32 pad;
	__u64 bitmap[HVX_HYPERCALL_EXIT_NRS / 64];
	__u64 reserved[4];
};

/**
 * HVX_SET_HYPERCALL_EXITS - (VM fd) replace the set of hypercall numbers
 * that exit to userspace, for every vCPU of the VM; vCPUs running guest
 * code see the new set at their next VMCALL. The VMCALL at CPL 0 checks
 * come first: a call from user mode still gets -HVX_HC_EPERM. Errors:
 * -EINVAL (nonzero flags, pad or reserved; a number hvx handles itself),
 * with nothing changed.
 */
#define HVX_SET_HYPERCALL_EXITS	_IOW(HVXIO, 0x60, struct hvx_hypercall_exits)

/*
 * ===========================================================================
 * Paravirtual devices: virtio 1.x over PCI, in the kernel
 * ===========================================================================
 */

/* Device types of struct hvx_virtio_device (the virtio device ids). */
#define HVX_VIRTIO_NET		1	/* VIRTIO_ID_NET */
#define HVX_VIRTIO_BLK		2	/* VIRTIO_ID_BLOCK */

/* Flags of struct hvx_virtio_device. */
#define HVX_VIRTIO_RO		(1U << 0)	/* blk: read-only disk */
#define HVX_VIRTIO_RANDOM_MAC	(1U << 1)	/* net: hvx picks the MAC */
#define HVX_VIRTIO_FLAGS	(HVX_VIRTIO_RO | HVX_VIRTIO_RANDOM_MAC)

/* Length of struct hvx_virtio_device.serial (VIRTIO_BLK_ID_BYTES). */
#define HVX_VIRTIO_SERIAL_LEN	20

/**
 * struct hvx_virtio_device - argument of HVX_CREATE_VIRTIO
 * @type: HVX_VIRTIO_BLK or HVX_VIRTIO_NET.
 * @flags: HVX_VIRTIO_* flags; HVX_VIRTIO_RO for a disk only,
 *	HVX_VIRTIO_RANDOM_MAC for a network device only.
 * @fd: the backing: for a disk, a regular file or a block device opened
 *	for reading, and also for writing unless @flags has HVX_VIRTIO_RO;
 *	for a network device, an fd of /dev/net/tun attached to a tap
 *	(TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) whose virtio
 *	header is the device's: 10 bytes (the default of
 *	TUNSETVNETHDRSZ) and little-endian (TUNSETVNETBE off). hvx reads
 *	these back (TUNGETIFF, TUNGETVNETHDRSZ, TUNGETVNETBE) and refuses a
 *	tap that differs with -EPROTO; it cannot check IFF_NO_PI (TUNGETIFF
 *	reports IFF_NOFILTER in the same bit). Changing the header size
 *	after creation garbles the VM's frames. The kernel moves frames
 *	between the tap and the guest both ways and sets the tap's offloads
 *	(TUNSETOFFLOAD) from the features the guest driver accepts.
 *	hvx takes its own reference; the caller may close @fd afterwards.
 * @devfn: PCI device and function on bus 0, PCI_DEVFN(slot, 0) with
 *	slot 1-31 (00:00.0 is the host bridge).
 * @gsi: GSI of the INTx fallback (INTA#; also the Interrupt Line
 *	register's reset value), below HVX_NR_GSIS.
 * @pad: zero.
 * @bar: the guest-physical address BAR 0 (16 KiB of registers, MSI-X
 *	table and PBA) starts at, as firmware would have assigned it:
 *	16 KiB aligned, below 4 GiB, outside RAM; memory decoding starts
 *	enabled. 0 leaves the BAR unassigned and decoding off (the guest
 *	assigns it).
 * @serial: the disk's serial (VIRTIO_BLK_T_GET_ID), NUL-padded; no NUL
 *	is needed when all bytes are used. Zero for a network device.
 * @mac: the network device's MAC address: unicast and nonzero, or zero
 *	with HVX_VIRTIO_RANDOM_MAC (hvx picks a random locally administered
 *	one). Zero for a disk.
 * @pad2: zero.
 * @reserved: zero.
 *
 * The VM needs HVX_PLATFORM_PCI; @devfn must be free. The device lives
 * until the VM is destroyed.
 */
struct hvx_virtio_device {
	__u32 type;
	__u32 flags;
	__s32 fd;
	__u8 devfn;
	__u8 gsi;
	__u16 pad;
	__u64 bar;
	char serial[HVX_VIRTIO_SERIAL_LEN];
	__u8 mac[6];
	__u16 pad2;
	__u32 reserved[5];
};

/**
 * HVX_CREATE_VIRTIO - (VM fd) create an in-kernel virtio device
 * (struct hvx_virtio_device) on the VM's PCI bus. Its registers, queue
 * notifications and interrupts are handled in the kernel, with no exit
 * to userspace; a kernel thread per device processes its virtqueues.
 * Only the VM's creator may call it (-EIO). Errors: -EINVAL (unknown
 * type or flags, a flag or field of the other type, nonzero pad or
 * reserved, @devfn, @gsi or @bar out of range, a disk backing that is
 * neither a regular file nor a block device, or whose file has no
 * read_iter (or write_iter, for a writable disk), a network backing that
 * is not a tap, a multicast or zero @mac without HVX_VIRTIO_RANDOM_MAC, a
 * nonzero one with it, a kernel without CONFIG_TUN), -EPROTO (a tap
 * without IFF_VNET_HDR, or with another virtio header size or byte order),
 * -EBADF (@fd is not open, or not open for reading), -EPERM (a writable
 * disk on an fd not open for writing), -ENODEV (no HVX_PLATFORM_PCI),
 * -EEXIST (@devfn taken, or @bar overlaps another device), -ENOMEM. A
 * failed call changes nothing.
 */
#define HVX_CREATE_VIRTIO	_IOW(HVXIO, 0x68, struct hvx_virtio_device)

/**
 * struct hvx_virtio_stats - counters of one in-kernel virtio device, in
 *	the netlink attribute HVX_A_VIRTIO_STATS (HVX_CMD_GET_VM)
 * @type: HVX_VIRTIO_* device type.
 * @devfn: its PCI device and function on bus 0.
 * @requests: descriptor chains served (virtio-net: transmitted chains,
 *	received frames and control commands).
 * @bytes: data bytes moved between guest memory and the backing
 *	(virtio-net: frame bytes both ways, without the virtio header).
 * @notifications: queue notifications the guest wrote (each a write to
 *	the notification region, whether or not the worker was idle).
 * @interrupts: interrupts sent to the guest (MSI-X messages or INTx
 *	assertions, including pending ones).
 * @errors: requests that failed (an error status to the guest; for
 *	virtio-net also frames dropped), and queues stopped for breaking
 *	the rules.
 * @reserved: zero; later counters go here.
 */
struct hvx_virtio_stats {
	__u32 type;
	__u32 devfn;
	__u64 requests;
	__u64 bytes;
	__u64 notifications;
	__u64 interrupts;
	__u64 errors;
	__u64 reserved[3];
};

/*
 * ===========================================================================
 * Saving and restoring state (ioctl numbers 0x70-0x7f)
 * ===========================================================================
 *
 * A snapshot of a VM is: its RAM (userspace memory), per vCPU HVX_GET_REGS,
 * HVX_GET_SREGS, HVX_GET_MSRS (including IA32_TSC, see below),
 * HVX_GET_VCPU_EVENTS, HVX_GET_MP_STATE, HVX_GET_LAPIC, HVX_GET_XSAVE,
 * HVX_GET_XCRS, HVX_GET_DEBUGREGS, and per VM HVX_GET_VM_STATE (the
 * in-kernel devices) and HVX_GET_TSC_OFFSET. The LAPIC timer runs while the
 * vCPU is stopped: when its TSC deadline expires, IA32_TSC_DEADLINE reads 0
 * and the vector is in IRR; read IA32_TSC_DEADLINE before HVX_GET_LAPIC, or
 * an expiry between the two is in neither. Restore into a new VM with the
 * same HVX_CREATE_PLATFORM flags and vCPUs: HVX_SET_VM_STATE first, then
 * per vCPU HVX_SET_SREGS (it carries IA32_APIC_BASE), HVX_SET_REGS,
 * HVX_SET_XCRS, HVX_SET_XSAVE, HVX_SET_LAPIC, HVX_SET_MSRS (IA32_TSC before
 * IA32_TSC_DEADLINE), HVX_SET_DEBUGREGS, HVX_SET_VCPU_EVENTS,
 * HVX_SET_MP_STATE. Guest RAM must be restored before HVX_SET_MSRS: a PV
 * EOI word (MSR_KVM_PV_EOI_EN) found with its flag set is taken as the
 * offer that was out when the vCPU was saved. A vCPU stopped at an exit to
 * userspace is completed before it is saved: HVX_RUN with immediate_exit
 * set finishes the exit's instruction and returns -EINTR without
 * entering the guest. Device timers count host
 * CLOCK_MONOTONIC time; their phase is saved as time relative to the GET
 * and continues from there at the SET (the pause does not count).
 *
 * TSC: the guest TSC of a vCPU is IA32_TSC in HVX_GET_MSRS (host TSC plus
 * the VM's offset plus the vCPU's adjustment), counting at the frequency
 * the guest's CPUID leaf 15H gives (ECX * EBX / EAX Hz).
 * HVX_SET_MSRS of IA32_TSC sets the offset so that the guest reads that
 * value at that moment, whatever the new host's TSC, and moves
 * IA32_TSC_ADJUST by the same amount (SDM Vol. 3B 18.17.3), so that MSR
 * is not restored with it. Restoring the saved value freezes the guest's TSC for the pause;
 * to let it jump by the paused time (as a suspend), add the paused time
 * times that frequency to it. The offset alone
 * (HVX_GET/SET_TSC_OFFSET) is meaningful on the same host only.
 */

/**
 * struct hvx_xsave - a vCPU's x87/SSE/AVX state for HVX_GET/SET_XSAVE
 * @region: the XSAVE area in the standard (non-compacted) format of SDM
 *	Vol. 1 13.4, little-endian: the legacy region (bytes 0-511, FXSAVE
 *	layout), the XSAVE header at byte 512 (XSTATE_BV at 512, XCOMP_BV at
 *	520, which must be 0, bytes 528-575 reserved, must be zero), and each
 *	component at the offset CPUID.(0DH, i).EBX gives. A component whose
 *	XSTATE_BV bit is clear is in its initial state. Bytes beyond the
 *	components read as zero.
 *
 * HVX_SET_XSAVE refuses (-EINVAL, nothing changed) XSTATE_BV bits outside
 * what the guest's CPUID allows in XCR0 (leaf 0DH sub-leaf 0, within what
 * hvx offers), a nonzero XCOMP_BV or reserved header bytes, and MXCSR
 * bits the CPU does not have (a #GP of XRSTOR).
 */
struct hvx_xsave {
	__u32 region[1024];
};

/** HVX_MAX_XCRS - entries in struct hvx_xcrs. */
#define HVX_MAX_XCRS	16

/**
 * struct hvx_xcr - one extended control register
 * @xcr: its number (ECX of XSETBV); only 0 (XCR0) exists.
 * @reserved: must be zero.
 * @value: its value.
 */
struct hvx_xcr {
	__u32 xcr;
	__u32 reserved;
	__u64 value;
};

/**
 * struct hvx_xcrs - the vCPU's XCRs for HVX_GET_XCRS / HVX_SET_XCRS
 * @nr_xcrs: entries used, at most HVX_MAX_XCRS. HVX_GET_XCRS gives XCR0
 *	(1 entry) when the guest may have XSAVE, else 0 entries.
 * @flags: must be zero.
 * @xcrs: the registers.
 * @reserved: must be zero.
 *
 * HVX_SET_XCRS checks XCR0 as XSETBV does (SDM Vol. 1 13.3): x87 (bit 0)
 * set, AVX only with SSE, and no bit outside what the guest's CPUID
 * allows; -EINVAL and nothing changed otherwise (also for an unknown XCR
 * number or one given twice).
 */
struct hvx_xcrs {
	__u32 nr_xcrs;
	__u32 flags;
	struct hvx_xcr xcrs[HVX_MAX_XCRS];
	__u64 reserved[16];
};

/**
 * struct hvx_debugregs - the vCPU's debug registers
 * @db: DR0-DR3, breakpoint linear addresses; canonical (a MOV to them
 *	with a non-canonical address faults in 64-bit mode).
 * @dr6: DR6 (SDM Vol. 3B 18.2.3). Bits 63:32 and bit 12 must be zero;
 *	the bits that read as 1 (4-11, 16-31) are set by hvx.
 * @dr7: DR7 (SDM Vol. 3B 18.2.4). Bits 63:32 and the reserved bits 11,
 *	12, 14 and 15 must be zero; bit 10 reads as 1 and is set by hvx.
 * @flags: must be zero.
 * @reserved: must be zero.
 *
 * HVX_SET_DEBUGREGS fails with -EINVAL and changes nothing when a rule
 * above is broken.
 */
struct hvx_debugregs {
	__u64 db[4];
	__u64 dr6;
	__u64 dr7;
	__u64 flags;
	__u64 reserved[9];
};

/**
 * struct hvx_vm_state - a buffer of device state records
 * @addr: user address of the buffer.
 * @size: its size in bytes, at most HVX_VM_STATE_MAX_SIZE.
 * @flags: must be zero.
 * @reserved: must be zero.
 *
 * The buffer is a sequence of records, each a struct hvx_state_header
 * followed by its payload; see HVX_GET_VM_STATE and HVX_SET_VM_STATE.
 */
struct hvx_vm_state {
	__u64 addr;
	__u32 size;
	__u32 flags;
	__u64 reserved[2];
};

/** HVX_VM_STATE_MAX_SIZE - the largest HVX_GET_VM_STATE result, bytes. */
#define HVX_VM_STATE_MAX_SIZE	(128 * 1024)

/*
 * Record types (struct hvx_state_header.type): one record per in-kernel
 * device. A type's payload is fixed for a version; any change to it is a
 * new version of that type (the old one stays accepted as long as it can
 * be converted exactly). New devices get new types.
 */
#define HVX_STATE_PIC		1	/* struct hvx_state_pic, version 1 */
#define HVX_STATE_PIT		2	/* struct hvx_state_pit, version 1 */
#define HVX_STATE_IOAPIC	3	/* struct hvx_state_ioapic, version 1 */
#define HVX_STATE_RTC		4	/* struct hvx_state_rtc, version 1 */
#define HVX_STATE_UART		5	/* struct hvx_state_uart, version 1 */
#define HVX_STATE_PCI		6	/* struct hvx_state_pci, version 1 */
#define HVX_STATE_VIRTIO	7	/* struct hvx_state_virtio, version 1 */
#define HVX_STATE_VIRTIO_NET	8	/* struct hvx_state_virtio_net, version 1 */

/**
 * struct hvx_state_header - the header of every device state record
 * @type: HVX_STATE_*.
 * @version: layout version of the payload, 1 for every type so far.
 * @size: bytes of the record, header included, a multiple of 8; the next
 *	record starts there. Exactly the payload's size for fixed-size
 *	payloads (padding bytes at the end must be zero).
 * @instance: which device of the type: 0 for the platform devices (each
 *	exists once per VM); for HVX_STATE_VIRTIO and HVX_STATE_VIRTIO_NET
 *	the device's devfn.
 * @reserved: must be zero.
 */
struct hvx_state_header {
	__u16 type;
	__u16 version;
	__u32 size;
	__u32 instance;
	__u32 reserved;
};

/* Bits of struct hvx_state_pic_chip.flags: the chip's operating modes. */
#define HVX_PIC_NEED_ICW4	(1u << 0)	/* ICW1 IC4 */
#define HVX_PIC_SINGLE		(1u << 1)	/* ICW1 SNGL */
#define HVX_PIC_AUTO_EOI	(1u << 2)	/* ICW4 AEOI */
#define HVX_PIC_ROTATE_AEOI	(1u << 3)	/* OCW2 rotate in AEOI mode */
#define HVX_PIC_SFNM		(1u << 4)	/* ICW4 special fully nested */
#define HVX_PIC_SPECIAL_MASK	(1u << 5)	/* OCW3 special mask mode */
#define HVX_PIC_READ_ISR	(1u << 6)	/* OCW3 RIS: reads give the ISR */
#define HVX_PIC_POLL		(1u << 7)	/* OCW3 P: next read polls */

/**
 * struct hvx_state_pic_chip - one 8259A (bit n of a mask is input IRn)
 * @irr: interrupt request register.
 * @isr: in-service register.
 * @imr: interrupt mask register.
 * @lines: input levels as the devices drive them.
 * @elcr: edge/level control: 1 is level-triggered; only bits the chip
 *	lets change (not IRQ 0, 1, 2, 8, 13).
 * @vector_base: ICW2, a multiple of 8.
 * @lowest: the input with the lowest priority (rotation), 0-7.
 * @init_step: 0 when operating, 2-4 while ICW2-ICW4 are expected.
 * @flags: HVX_PIC_*.
 * @reserved: must be zero.
 */
struct hvx_state_pic_chip {
	__u8 irr, isr, imr, lines, elcr, vector_base, lowest, init_step;
	__u8 flags;
	__u8 reserved[7];
};

/**
 * struct hvx_state_pic - record HVX_STATE_PIC: the 8259A pair
 * @hdr: the header.
 * @chip: master (IRQ 0-7), then slave (IRQ 8-15).
 */
struct hvx_state_pic {
	struct hvx_state_header hdr;
	struct hvx_state_pic_chip chip[2];
};

/* Bits of struct hvx_state_pit_channel.flags. */
#define HVX_PIT_BCD		(1u << 0)	/* BCD counting */
#define HVX_PIT_LOADED		(1u << 1)	/* a count was written */
#define HVX_PIT_ARMED		(1u << 2)	/* counting (1, 5: triggered) */
#define HVX_PIT_NULL_COUNT	(1u << 3)	/* status bit 6 */
#define HVX_PIT_GATE		(1u << 4)	/* the gate input is high */
#define HVX_PIT_PAUSED		(1u << 5)	/* gate low stopped the count */
#define HVX_PIT_WRITE_MSB	(1u << 6)	/* next count write is the MSB */
#define HVX_PIT_READ_MSB	(1u << 7)	/* next count read is the MSB */
#define HVX_PIT_STATUS_LATCHED	(1u << 8)	/* @status waits to be read */

/**
 * struct hvx_state_pit_channel - one 8254 counter
 * @count: the reload value in input clocks (1.193182 MHz), 1-65536
 *	(1-10000 in BCD).
 * @reserved0: must be zero.
 * @elapsed_ns: nanoseconds counted since the counter last (re)started
 *	when it was saved (up to the pause, if the gate stopped it): the
 *	counter's phase. What remains of the count is @count minus the
 *	input clocks in @elapsed_ns (modulo @count in modes 2 and 3).
 * @flags: HVX_PIT_*.
 * @latched: the latched count (valid while @latch_bytes > 0).
 * @mode: the operating mode, 0-5.
 * @mode_bits: M2-M0 as written (6 and 7 mean modes 2 and 3).
 * @rw: access mode: 1 LSB, 2 MSB, 3 LSB then MSB.
 * @write_lsb: the LSB written while @flags has HVX_PIT_WRITE_MSB.
 * @latch_bytes: latched count bytes still to read, 0-2.
 * @status: the latched status byte (HVX_PIT_STATUS_LATCHED).
 * @reserved: must be zero.
 */
struct hvx_state_pit_channel {
	__u32 count;
	__u32 reserved0;
	__u64 elapsed_ns;
	__u16 flags;
	__u16 latched;
	__u8 mode, mode_bits, rw, write_lsb;
	__u8 latch_bytes, status;
	__u8 reserved[6];
};

/**
 * struct hvx_state_pit - record HVX_STATE_PIT: the 8254 and port 0x61
 * @hdr: the header.
 * @ch: counters 0-2. Gates 0 and 1 are high; gate 2 is port 0x61 bit 0.
 * @port61: port 0x61 bits 3:0 as written.
 * @reserved: must be zero.
 */
struct hvx_state_pit {
	struct hvx_state_header hdr;
	struct hvx_state_pit_channel ch[3];
	__u8 port61;
	__u8 reserved[7];
};

/**
 * struct hvx_state_ioapic - record HVX_STATE_IOAPIC: the I/O APIC
 * @hdr: the header.
 * @id: the I/O APIC id, 0-15.
 * @ioregsel: the register IOWIN reaches, 0-255.
 * @irr: the input lines, one bit per GSI (asserted: 1); a level input
 *	asserted with Remote IRR set is an interrupt delivered and not yet
 *	acknowledged.
 * @reserved: must be zero.
 * @redir: the redirection table (82093AA datasheet 3.2.4): bits 0-16
 *	(vector, delivery and destination mode, Remote IRR, trigger mode,
 *	mask; delivery status bit 12 must be zero, polarity is stored) and
 *	the destination in bits 63:56; bits 55:17 must be zero, and Remote
 *	IRR is only allowed with level triggering.
 */
struct hvx_state_ioapic {
	struct hvx_state_header hdr;
	__u32 id;
	__u32 ioregsel;
	__u32 irr;
	__u32 reserved;
	__u64 redir[HVX_NR_GSIS];
};

/* Bits of struct hvx_state_rtc.flags. */
#define HVX_RTC_NMI_MASKED	(1u << 0)	/* port 0x70 bit 7 */
#define HVX_RTC_IRQ		(1u << 1)	/* IRQ 8 is asserted */

/**
 * struct hvx_state_rtc - record HVX_STATE_RTC: MC146818 RTC and CMOS
 * @hdr: the header.
 * @cmos: the 128 bytes. The clock bytes 0x00, 0x02, 0x04 and 0x06-0x09
 *	hold the time as read at HVX_GET_VM_STATE, for information, and
 *	are ignored by HVX_SET_VM_STATE (the clock is @offset or @frozen);
 *	alarm bytes 0x01, 0x03, 0x05, registers A-D 0x0a-0x0d (UIP, bit 7
 *	of A, reads 0 here; C's bits 3:0 must be zero) and the RAM
 *	0x0e-0x7f are restored.
 * @offset: guest seconds minus host CLOCK_REALTIME seconds: the guest's
 *	wall clock follows the host's real time across a pause or a move.
 * @frozen: the guest time in seconds since 1970 while register B's SET
 *	bit stops the clock.
 * @last_update: the guest second when register C was last read (an
 *	update-ended flag is due once the clock passes it).
 * @period_age_ns: nanoseconds since register C was last read (a
 *	periodic flag is due once a period has passed).
 * @periodic_left_ns: time to the next periodic interrupt when register B
 *	enables them, else 0.
 * @index: the index register (port 0x70 bits 6:0), 0-127.
 * @flags: HVX_RTC_*.
 * @reserved: must be zero.
 */
struct hvx_state_rtc {
	struct hvx_state_header hdr;
	__u8 cmos[HVX_CMOS_SIZE];
	__s64 offset;
	__s64 frozen;
	__s64 last_update;
	__u64 period_age_ns;
	__u64 periodic_left_ns;
	__u8 index;
	__u8 flags;
	__u8 reserved[6];
};

/* Bits of struct hvx_state_uart.flags. */
#define HVX_UART_THRE_PENDING	(1u << 0)	/* THRE interrupt latched */
#define HVX_UART_IRQ		(1u << 1)	/* IRQ 4 is asserted */

/** HVX_UART_FIFO_SIZE - bytes of each 16550A FIFO. */
#define HVX_UART_FIFO_SIZE	16
/** HVX_UART_RING_SIZE - console output bytes hvx holds for the reader. */
#define HVX_UART_RING_SIZE	(64 * 1024)

/**
 * struct hvx_state_uart - record HVX_STATE_UART: the 16550A at COM1
 * @hdr: the header; @hdr.size is sizeof(struct hvx_state_uart) +
 *	@ring_count rounded up to 8.
 * @ier: interrupt enable register.
 * @lcr: line control register.
 * @mcr: modem control register.
 * @fcr: FIFO control register as written (enable and trigger bits).
 * @scr: scratch register.
 * @dll: divisor latch, low byte.
 * @dlm: divisor latch, high byte.
 * @lsr_err: line status error bits (OE, PE, FE, BI) until LSR is read.
 * @msr: modem status register with its delta bits.
 * @flags: HVX_UART_*.
 * @rx_count: bytes in @rx, 0-16 (at most 1 with the FIFOs off).
 * @tx_count: bytes in @tx, likewise.
 * @reserved: must be zero.
 * @rx: the receive FIFO, oldest byte first.
 * @tx: the transmit FIFO (bytes the full console ring holds back).
 * @ring_count: console output bytes not yet read, at most
 *	HVX_UART_RING_SIZE.
 * @reserved2: must be zero.
 * @ring: those bytes, oldest first; the record's padding is zero.
 */
struct hvx_state_uart {
	struct hvx_state_header hdr;
	__u8 ier, lcr, mcr, fcr, scr, dll, dlm, lsr_err;
	__u8 msr, flags, rx_count, tx_count;
	__u8 reserved[4];
	__u8 rx[HVX_UART_FIFO_SIZE];
	__u8 tx[HVX_UART_FIFO_SIZE];
	__u32 ring_count;
	__u32 reserved2;
	__u8 ring[];
};

/**
 * struct hvx_state_pci - record HVX_STATE_PCI: the first PCI configuration
 *	mechanism (ports 0xcf8/0xcfc) and the host bridge at 00:00.0
 * @hdr: the header.
 * @config_address: CONFIG_ADDRESS (port 0xcf8).
 * @reserved: must be zero.
 * @host_config: the host bridge's 256 configuration bytes; bytes the
 *	guest cannot write must equal the bridge's own (its identity).
 *
 * Passthrough devices have no record: a VM with one cannot be saved.
 * Interrupt routing is fixed (GSI n is IOAPIC input n and, below 16, PIC
 * input n); irqfds are eventfds of the process and are bound again by
 * the restoring process with HVX_IRQFD.
 */
struct hvx_state_pci {
	struct hvx_state_header hdr;
	__u32 config_address;
	__u32 reserved;
	__u8 host_config[256];
};

/* Sizes of struct hvx_state_virtio's arrays. */
#define HVX_STATE_VIRTIO_QUEUES		4	/* queues per device */
#define HVX_STATE_VIRTIO_VECS		5	/* MSI-X vectors per device */
#define HVX_STATE_VIRTIO_CONFIG		128	/* device configuration bytes */

/* Bits of struct hvx_state_virtio_queue.flags. */
#define HVX_VQ_ENABLED		(1 << 0)	/* queue_enable was written 1 */
#define HVX_VQ_SIGNALLED	(1 << 1)	/* @signalled_used is valid */
#define HVX_VQ_BROKEN		(1 << 2)	/* stopped until a device reset */
#define HVX_VQ_FLAGS		(HVX_VQ_ENABLED | HVX_VQ_SIGNALLED | HVX_VQ_BROKEN)

/**
 * struct hvx_state_virtio_queue - one virtqueue of a virtio device, split
 *	or packed (VIRTIO_F_RING_PACKED in the record's @driver_features)
 * @desc: GPA of the descriptor table or ring (queue_desc).
 * @avail: GPA of the driver ring, or packed, of the driver event
 *	suppression structure (queue_driver).
 * @used: GPA of the device ring, or packed, of the device event
 *	suppression structure (queue_device).
 * @size: queue_size, from 1 to 256; a power of two for a split ring.
 * @msix_vector: queue_msix_vector: below HVX_STATE_VIRTIO_VECS, or 0xffff
 *	(VIRTIO_MSI_NO_VECTOR).
 * @last_avail_idx: the next driver-ring entry the device takes. Packed:
 *	the next descriptor the device takes, its index in bits 0-14
 *	(below @size) and the device's available wrap counter in bit 15.
 * @avail_idx: the driver ring's idx as the device last read it (what it
 *	wrote as avail_event with VIRTIO_RING_F_EVENT_IDX); at most @size
 *	ahead of @last_avail_idx. Packed: 0.
 * @used_idx: the device ring's idx as the device last wrote it. Packed:
 *	where the device writes its next used descriptor, index and used
 *	wrap counter as in @last_avail_idx.
 * @signalled_used: the used index at the last interrupt
 *	(VIRTIO_RING_F_EVENT_IDX), valid with HVX_VQ_SIGNALLED; packed, a
 *	position as @used_idx.
 * @flags: HVX_VQ_*.
 *
 * The rings themselves are guest memory. Unused queues (at or above the
 * device's queue count) are all zero. A packed ring's wrap counters
 * start at 1: a fresh enabled queue has 0x8000 in @last_avail_idx and
 * @used_idx.
 */
struct hvx_state_virtio_queue {
	__u64 desc;
	__u64 avail;
	__u64 used;
	__u16 size;
	__u16 msix_vector;
	__u16 last_avail_idx;
	__u16 avail_idx;
	__u16 used_idx;
	__u16 signalled_used;
	__u32 flags;
};

/**
 * struct hvx_state_virtio - record HVX_STATE_VIRTIO: one in-kernel virtio
 *	device (HVX_CREATE_VIRTIO), its PCI transport and queues
 * @hdr: the header; @hdr.instance is the device's devfn.
 * @device_id: the virtio device id (HVX_VIRTIO_BLK, HVX_VIRTIO_NET).
 * @num_queues: its queue count.
 * @config_len: bytes of its device configuration.
 * @device_features: the feature bits it offers. On load, a subset of
 *	the restoring device's offer with VIRTIO_F_VERSION_1 (a record saved
 *	by an hvx that offered fewer features, e.g. no packed rings), which
 *	the device then offers until it is destroyed.
 * @driver_features: the bits the driver accepted (a subset).
 * @device_feature_select: device_feature_select.
 * @driver_feature_select: driver_feature_select.
 * @msix_config: the configuration-change vector (as @msix_vector).
 * @queue_select: queue_select.
 * @status: device_status (VIRTIO_CONFIG_S_* bits; DRIVER_OK only with
 *	FEATURES_OK, FEATURES_OK only with VIRTIO_F_VERSION_1 accepted).
 * @isr: the ISR status, bits 0 (queue) and 1 (configuration).
 * @config_generation: config_generation; 0 (the configuration of hvx's
 *	devices never changes).
 * @reserved: must be zero.
 * @msix_pba: the MSI-X pending bits, one per vector.
 * @msix_table: the MSI-X table: per vector message address low and high,
 *	data, vector control.
 * @pci_config: the function's 256 configuration bytes (BAR 0, command,
 *	MSI-X enable and mask); bytes the guest cannot write must equal the
 *	device's own (its identity), except the Interrupt Status bit, which
 *	follows @isr.
 * @device_config: the device configuration (@config_len bytes, the rest
 *	zero), which must equal the device's: the same backing (a disk's
 *	capacity, read-only and discard support) at the restore.
 * @queue: the queues.
 *
 * In-flight requests are completed before HVX_GET_VM_STATE reads the
 * record: a virtio-blk device has no state beyond this (its serial and
 * read-only flag are configuration, given again to HVX_CREATE_VIRTIO).
 * For a virtio-net device the MAC in @device_config (its first 6 bytes)
 * is state, not identity: it need not equal the device's but must be a
 * valid unicast address, and it replaces the device's; the rest must
 * match. Its other state is in the HVX_STATE_VIRTIO_NET record.
 */
struct hvx_state_virtio {
	struct hvx_state_header hdr;
	__u32 device_id;
	__u16 num_queues;
	__u16 config_len;
	__u64 device_features;
	__u64 driver_features;
	__u32 device_feature_select;
	__u32 driver_feature_select;
	__u16 msix_config;
	__u16 queue_select;
	__u8 status;
	__u8 isr;
	__u8 config_generation;
	__u8 reserved;
	__u64 msix_pba;
	__u32 msix_table[HVX_STATE_VIRTIO_VECS][4];
	__u8 pci_config[256];
	__u8 device_config[HVX_STATE_VIRTIO_CONFIG];
	struct hvx_state_virtio_queue queue[HVX_STATE_VIRTIO_QUEUES];
};

/* Size of struct hvx_state_virtio_net's MAC filter table. */
#define HVX_STATE_NET_MACS	64

/* Bits of struct hvx_state_virtio_net.flags: the receive filter. */
#define HVX_NET_PROMISC		(1 << 0)	/* VIRTIO_NET_CTRL_RX_PROMISC on */
#define HVX_NET_ALLMULTI	(1 << 1)	/* VIRTIO_NET_CTRL_RX_ALLMULTI on */
#define HVX_NET_UC_OVERFLOW	(1 << 2)	/* unicast table too big: all pass */
#define HVX_NET_MC_OVERFLOW	(1 << 3)	/* the same for multicast */
#define HVX_NET_FLAGS		(HVX_NET_PROMISC | HVX_NET_ALLMULTI | \
				 HVX_NET_UC_OVERFLOW | HVX_NET_MC_OVERFLOW)

/**
 * struct hvx_state_virtio_net - record HVX_STATE_VIRTIO_NET: a virtio-net
 *	device's state beyond its HVX_STATE_VIRTIO record
 * @hdr: the header; @hdr.instance is the device's devfn, which must have
 *	an HVX_STATE_VIRTIO record in the same buffer.
 * @mac: the MAC address the device was created with (or drew at
 *	random), which a device reset puts back into the configuration; a
 *	valid unicast address. It replaces the restoring device's, so that
 *	a VM created with a random MAC keeps the saved one.
 * @reserved: must be zero.
 * @flags: HVX_NET_* (the receive filter, VIRTIO_NET_CTRL_RX and
 *	VIRTIO_NET_CTRL_MAC_TABLE_SET).
 * @nr_uc: unicast entries at the start of @macs; 0 with
 *	HVX_NET_UC_OVERFLOW.
 * @nr_mc: multicast entries after them; 0 with HVX_NET_MC_OVERFLOW.
 *	@nr_uc + @nr_mc is at most HVX_STATE_NET_MACS.
 * @macs: the MAC filter table; entries past @nr_uc + @nr_mc are zero.
 *
 * The current MAC (VIRTIO_NET_CTRL_MAC_ADDR_SET) is in the
 * HVX_STATE_VIRTIO record's device configuration; the tap's offloads
 * (TUNSETOFFLOAD) follow the accepted features and are set on the
 * restoring device's tap. Frames the tap holds are not state: a frame
 * waits in the tap until the driver has receive buffers for it, so the
 * save neither loses nor repeats a frame the device took.
 */
struct hvx_state_virtio_net {
	struct hvx_state_header hdr;
	__u8 mac[6];
	__u16 reserved;
	__u32 flags;
	__u16 nr_uc;
	__u16 nr_mc;
	__u8 macs[HVX_STATE_NET_MACS][6];
};

/**
 * HVX_SET_LAPIC - (vCPU fd) replace the local APIC's state with a struct
 * hvx_lapic_state from HVX_GET_LAPIC. Read-only registers (ID, version,
 * APR, PPR, RRD) and EOI are ignored; TPR, LDR, DFR, SVR, ESR, ICR, the
 * LVT, TMICT, TDCR, IRR, ISR and TMR are taken (into the virtual-APIC
 * page where the CPU's assists keep them), and the current count (TMCCT)
 * is the time left of the running one-shot or periodic timer period (0:
 * not running). In TSC-deadline mode the deadline is IA32_TSC_DEADLINE:
 * set it with HVX_SET_MSRS after this. IA32_APIC_BASE (HVX_SET_SREGS)
 * must be set before. Errors: -ENXIO (no in-kernel local APIC), -EINVAL
 * (a reserved bit set in SVR, an LVT entry, TDCR, or timer mode 3), with
 * nothing changed.
 */
#define HVX_SET_LAPIC		_IOW(HVXIO, 0x70, struct hvx_lapic_state)
/** HVX_GET_XSAVE - (vCPU fd) read the struct hvx_xsave. */
#define HVX_GET_XSAVE		_IOR(HVXIO, 0x71, struct hvx_xsave)
/** HVX_SET_XSAVE - (vCPU fd) write it; errors in struct hvx_xsave. */
#define HVX_SET_XSAVE		_IOW(HVXIO, 0x72, struct hvx_xsave)
/** HVX_GET_XCRS - (vCPU fd) read the struct hvx_xcrs. */
#define HVX_GET_XCRS		_IOR(HVXIO, 0x73, struct hvx_xcrs)
/** HVX_SET_XCRS - (vCPU fd) write them; errors in struct hvx_xcrs. */
#define HVX_SET_XCRS		_IOW(HVXIO, 0x74, struct hvx_xcrs)
/** HVX_GET_DEBUGREGS - (vCPU fd) read the struct hvx_debugregs. */
#define HVX_GET_DEBUGREGS	_IOR(HVXIO, 0x75, struct hvx_debugregs)
/** HVX_SET_DEBUGREGS - (vCPU fd) write them; see struct hvx_debugregs. */
#define HVX_SET_DEBUGREGS	_IOW(HVXIO, 0x76, struct hvx_debugregs)
/**
 * HVX_GET_VM_STATE - (VM fd) write a record for every in-kernel device
 * the VM has (HVX_CREATE_PLATFORM) to the buffer: the platform devices in
 * HVX_STATE_* order, then one HVX_STATE_VIRTIO per virtio device in
 * creation order, a virtio-net device's followed by its
 * HVX_STATE_VIRTIO_NET. Returns the bytes written. With @size 0 it writes
 * nothing and returns the bytes needed. With virtio devices, every vCPU
 * must be stopped: the call completes the requests in flight (and those
 * notified and not yet taken) before it reads the queues. Errors:
 * -ENOSPC (the buffer is too small: nothing useful was written),
 * -EOPNOTSUPP (a device is passed through: its state lives in hardware
 * hvx cannot save), -EBUSY (a vCPU is running and the VM has virtio
 * devices),
 * -EINTR (a fatal signal while requests completed), -ENODEV (no
 * HVX_CREATE_PLATFORM), -EFAULT, -EINVAL (nonzero @flags or @reserved,
 * @size above HVX_VM_STATE_MAX_SIZE).
 */
#define HVX_GET_VM_STATE	_IOW(HVXIO, 0x77, struct hvx_vm_state)
/**
 * HVX_SET_VM_STATE - (VM fd) load the records in the buffer (@size bytes,
 * every byte a record) into the devices; records may come in any order,
 * each type at most once, and a device without a record keeps its state.
 * Every record is checked before any is applied. A virtio record must
 * match the VM's device at its devfn (created with the same
 * HVX_CREATE_VIRTIO arguments and backing): its type, queue count,
 * offered features, configuration and read-only PCI bytes; the device's
 * requests in flight are completed first. A virtio-net device's record
 * comes with its HVX_STATE_VIRTIO_NET record (one without the other is
 * refused). Errors, with nothing
 * changed: -EINVAL (an unknown type or version, a bad size or instance,
 * a record for a device the VM lacks or that does not match it, a type
 * or instance given twice, a field out of range or a nonzero reserved
 * field, a truncated buffer), -EBUSY (a vCPU is running: stop them all
 * first), -EINTR, -ENODEV, -EFAULT, -ENOMEM.
 */
#define HVX_SET_VM_STATE	_IOW(HVXIO, 0x78, struct hvx_vm_state)

/*
 * ===========================================================================
 * Requests to a VM's owner (HVX_CMD_REQUEST)
 * ===========================================================================
 *
 * hvx cannot save or migrate a VM by itself: the VMM owns the RAM, the
 * files and the sockets. A tool asks the VM's owner through the generic
 * netlink command HVX_CMD_REQUEST (below); hvx checks the request and
 * hands it to the process holding the VM fd, which acts on it and answers
 * with HVX_REQUEST_DONE; hvx passes the answer back to the requester as
 * an HVX_CMD_REQUEST_DONE message.
 *
 * The owner opts in with its first HVX_GET_REQUEST (which fails with
 * -EAGAIN when nothing is pending); until then HVX_CMD_REQUEST fails with
 * -EOPNOTSUPP. From then on the VM fd polls readable (EPOLLIN) while a
 * request waits. One request at a time: HVX_CMD_REQUEST fails with -EBUSY
 * from the moment one is posted until its HVX_REQUEST_DONE. When the VM
 * fd is closed with a request posted or taken, hvx answers it with
 * ESRCH.
 */

/** HVX_REQUEST_ARG_MAX - bytes of a request's argument, with its NUL. */
#define HVX_REQUEST_ARG_MAX	1024
/** HVX_REQUEST_MSG_MAX - bytes of an answer's message, with its NUL. */
#define HVX_REQUEST_MSG_MAX	256

/**
 * enum hvx_request_action - what HVX_CMD_REQUEST asks of a VM's owner
 * @HVX_REQUEST_UNSPEC: not an action.
 * @HVX_REQUEST_SAVE: pause the VM, save it to the file named by the
 *	argument (an absolute path, opened by the owner) and stop it.
 * @HVX_REQUEST_MIGRATE: send the running VM live to the address in the
 *	argument ("tcp:HOST:PORT"), and stop once it runs there.
 * @__HVX_REQUEST_MAX: one past the last action.
 */
enum hvx_request_action {
	HVX_REQUEST_UNSPEC,
	HVX_REQUEST_SAVE,
	HVX_REQUEST_MIGRATE,
	__HVX_REQUEST_MAX,
};

/**
 * struct hvx_request - a request handed to the VM's owner (HVX_GET_REQUEST)
 * @id: nonzero; HVX_REQUEST_DONE names it.
 * @action: enum hvx_request_action.
 * @reserved: zero.
 * @arg: the argument, NUL-terminated (checked by hvx: an absolute path
 *	for HVX_REQUEST_SAVE, "tcp:" and more for HVX_REQUEST_MIGRATE).
 */
struct hvx_request {
	__u32 id;
	__u32 action;
	__u32 reserved[2];
	char arg[HVX_REQUEST_ARG_MAX];
};

/**
 * struct hvx_request_done - the owner's answer (HVX_REQUEST_DONE)
 * @id: the id of the request it took.
 * @error: 0 when done, else a positive errno (e.g. EOPNOTSUPP when the
 *	VM cannot be saved, EBUSY when a migration already runs).
 * @reserved: zero.
 * @msg: one line for the requester, NUL-terminated; may be empty.
 */
struct hvx_request_done {
	__u32 id;
	__s32 error;
	__u32 reserved[2];
	char msg[HVX_REQUEST_MSG_MAX];
};

/**
 * HVX_GET_REQUEST - (VM fd, its owner's process) take the pending
 * request. The first call also makes the VM take requests. Errors:
 * -EAGAIN (none pending), -EIO (not the owner's process), -EFAULT.
 */
#define HVX_GET_REQUEST		_IOR(HVXIO, 0x80, struct hvx_request)
/**
 * HVX_REQUEST_DONE - (VM fd, its owner's process) answer the request
 * taken with HVX_GET_REQUEST; hvx sends the answer to the requester (if
 * its socket is still there) and takes the next request. Errors: -EINVAL
 * (not the id of the taken request, @error not 0 .. 4095, @msg without a
 * NUL, nonzero @reserved), -EIO, -EFAULT.
 */
#define HVX_REQUEST_DONE	_IOW(HVXIO, 0x81, struct hvx_request_done)

/*
 * ===========================================================================
 * Generic netlink: statistics and events
 * ===========================================================================
 *
 * hvx registers the generic netlink family HVX_GENL_NAME ("hvx"). Resolve
 * its id through the generic netlink controller (libnl-genl-3:
 * genl_ctrl_resolve()) and send requests with genlmsghdr.version =
 * HVX_GENL_VERSION. The family lives in the initial network namespace.
 *
 * Requests are checked against strict netlink policies before hvx sees
 * them: an attribute the command does not take, a wrong payload length, or
 * NLA_F_NESTED on a scalar fails with -EINVAL; a value out of range with
 * -ERANGE; a missing required attribute with -EINVAL; a command the family
 * lacks, or a dump of a do-only command, with -EOPNOTSUPP.
 *
 * Visibility: a caller with CAP_SYS_ADMIN sees every VM; any other caller
 * sees only the VMs whose owner had the caller's effective uid when it
 * created them. A VM the caller may not see is reported exactly like one
 * that does not exist (-ENOENT), so its existence does not leak.
 *
 * Commands (replies carry the same command number):
 *
 * HVX_CMD_GET_VM
 *	do:   HVX_A_VM_ID (required) -> one VM message.
 *	dump: no attributes -> one message per visible VM, by increasing id.
 *	A VM message has HVX_A_VM_ID, HVX_A_OWNER_PID, HVX_A_OWNER_UID,
 *	HVX_A_OWNER_COMM, HVX_A_NR_VCPUS, HVX_A_MEM_BYTES,
 *	HVX_A_PINNED_BYTES, HVX_A_EPT_FLUSHES and HVX_A_NR_DEVICES, and
 *	HVX_A_VIRTIO_STATS when the VM has in-kernel virtio devices.
 *	Errors: -ENOENT (no such VM, or not visible).
 *
 * HVX_CMD_GET_STATS
 *	dump: HVX_A_VM_ID (required), HVX_A_VCPU_ID (optional: only that
 *	vCPU) -> one message per vCPU, by increasing vCPU id, each with
 *	HVX_A_VM_ID, HVX_A_VCPU_ID and HVX_A_STATS (struct hvx_stats).
 *	Errors: -ENOENT (no such VM or vCPU, or the VM is not visible).
 *
 * HVX_CMD_REQUEST
 *	do:   HVX_A_VM_ID, HVX_A_REQUEST_ACTION (enum hvx_request_action)
 *	and HVX_A_REQUEST_ARG (a string of at most HVX_REQUEST_ARG_MAX
 *	bytes with its NUL), all required -> an ACK once the VM's owner
 *	has the request (see "Requests to a VM's owner" above); its answer
 *	comes later to the requesting socket as an HVX_CMD_REQUEST_DONE
 *	message with the request's sequence number, HVX_A_VM_ID,
 *	HVX_A_REQUEST_ACTION, HVX_A_REQUEST_ERROR and HVX_A_REQUEST_MSG.
 *	It may come before the ACK: read until both are in.
 *	Permission: the caller must see the VM (CAP_SYS_ADMIN, or the
 *	owner's effective uid, as for HVX_CMD_GET_VM).
 *	Errors, with an extended ACK message and nothing posted: -ENOENT
 *	(no such VM, or not visible), -ERANGE (an unknown action), -EINVAL
 *	(a missing attribute, an argument that is not an absolute path for
 *	HVX_REQUEST_SAVE or does not start with "tcp:" for
 *	HVX_REQUEST_MIGRATE), -EOPNOTSUPP (the owner takes no requests),
 *	-EBUSY (a request is in progress).
 *
 * HVX_CMD_REQUEST_DONE
 *	Never a request (-EOPNOTSUPP): the answer to HVX_CMD_REQUEST.
 *
 * HVX_CMD_EVENT
 *	Never a request (-EOPNOTSUPP). Sent to the multicast group
 *	HVX_GENL_MCGRP_EVENTS, which only CAP_SYS_ADMIN may join (events
 *	name other users' VMs). Every event has HVX_A_EVENT (enum
 *	hvx_event), HVX_A_VM_ID, HVX_A_OWNER_PID and HVX_A_OWNER_UID (as seen
 *	from the initial namespaces); see enum hvx_event for the rest.
 */

/** HVX_GENL_NAME - name of the generic netlink family. */
#define HVX_GENL_NAME		"hvx"
/** HVX_GENL_VERSION - version of the family's protocol (genlmsghdr.version). */
#define HVX_GENL_VERSION	1
/** HVX_GENL_MCGRP_EVENTS - name of the multicast group carrying events. */
#define HVX_GENL_MCGRP_EVENTS	"events"

/**
 * enum hvx_genl_cmd - commands of the "hvx" generic netlink family
 * @HVX_CMD_UNSPEC: not a command.
 * @HVX_CMD_GET_VM: list VMs (dump) or describe one (do); see above.
 * @HVX_CMD_GET_STATS: per-vCPU statistics of one VM (dump only).
 * @HVX_CMD_EVENT: an event on the HVX_GENL_MCGRP_EVENTS group.
 * @HVX_CMD_REQUEST: ask a VM's owner to save or migrate it (do only).
 * @HVX_CMD_REQUEST_DONE: the owner's answer to HVX_CMD_REQUEST.
 * @__HVX_CMD_MAX: one past the last command.
 */
enum hvx_genl_cmd {
	HVX_CMD_UNSPEC,
	HVX_CMD_GET_VM,
	HVX_CMD_GET_STATS,
	HVX_CMD_EVENT,
	HVX_CMD_REQUEST,
	HVX_CMD_REQUEST_DONE,
	__HVX_CMD_MAX,
};

#define HVX_CMD_MAX		(__HVX_CMD_MAX - 1)

/**
 * enum hvx_genl_attr - attributes of the "hvx" family
 * @HVX_A_UNSPEC: not an attribute.
 * @HVX_A_PAD: padding that aligns 64-bit attributes; ignore it.
 * @HVX_A_VM_ID: u32, VM id, 1 or more. Ids are allocated cyclically, so an
 *	id is not reused soon after its VM is destroyed.
 * @HVX_A_VCPU_ID: u32, vCPU id, 0 .. HVX_MAX_VCPUS - 1.
 * @HVX_A_OWNER_PID: u32, process (thread-group) id of the VM's creator, in
 *	the reader's pid namespace (0 if not visible there).
 * @HVX_A_OWNER_UID: u32, effective uid of the VM's creator when it created
 *	the VM, in the reader's user namespace.
 * @HVX_A_OWNER_COMM: NUL-terminated string, the creator's command name.
 * @HVX_A_NR_VCPUS: u32, vCPUs the VM has now.
 * @HVX_A_MEM_BYTES: u64, bytes of guest memory in the VM's memory slots.
 * @HVX_A_PINNED_BYTES: u64, bytes of guest memory pinned so far (pages are
 *	pinned on first guest touch).
 * @HVX_A_EPT_FLUSHES: u64, VM-wide EPT flushes (INVEPT on every CPU, e.g.
 *	after a slot is deleted); per-vCPU flushes are in struct hvx_stats.
 * @HVX_A_NR_DEVICES: u32, PCI devices assigned to the VM (0 until PCI
 *	passthrough lands).
 * @HVX_A_STATS: binary, struct hvx_stats of one vCPU. Read min(payload
 *	length, sizeof(struct hvx_stats)) bytes: later versions only append
 *	fields. The payload is not guaranteed to be 8-byte aligned: copy it.
 * @HVX_A_EVENT: u32, enum hvx_event.
 * @HVX_A_EXIT_REASON: u32, a VM-exit reason: for HVX_EVENT_ENTRY_FAILURE
 *	the hardware's (basic reason with bit 31 set, 0 for VMfail); for
 *	HVX_EVENT_INTERNAL_ERROR the raw reason of the exit hvx could not
 *	handle.
 * @HVX_A_EXIT_QUAL: u64, the exit qualification that goes with it.
 * @HVX_A_SUBERROR: u32, HVX_ENTRY_FAIL_* for HVX_EVENT_ENTRY_FAILURE,
 *	HVX_INTERNAL_* for HVX_EVENT_INTERNAL_ERROR.
 * @HVX_A_ENTRY_CHECK: u32, enum hvx_entry_check (entry failures due to
 *	invalid guest state).
 * @HVX_A_INSN_ERROR: u32, VM-instruction error number of a VMfail (SDM
 *	Vol. 3C 31.4).
 * @HVX_A_DEVICE: u32, a PCI device: segment << 16 | bus << 8 | devfn.
 * @HVX_A_FAULT_ADDR: u64, the I/O virtual address of an IOMMU fault.
 * @HVX_A_FAULT_REASON: u32, the IOMMU's fault reason code.
 * @HVX_A_RELEASE_REASON: u32, enum hvx_release_reason: why a device went
 *	back to the host (HVX_EVENT_DEVICE_RELEASED).
 * @HVX_A_VIRTIO_STATS: binary, an array of struct hvx_virtio_stats, one
 *	per in-kernel virtio device of the VM (HVX_CREATE_VIRTIO), in
 *	creation order: payload length / sizeof(struct hvx_virtio_stats)
 *	entries (the struct keeps its size; new counters take its reserved
 *	words). Not guaranteed to be 8-byte aligned: copy it.
 * @HVX_A_REQUEST_ACTION: u32, enum hvx_request_action.
 * @HVX_A_REQUEST_ARG: NUL-terminated string, a request's argument (at
 *	most HVX_REQUEST_ARG_MAX bytes with the NUL).
 * @HVX_A_REQUEST_ERROR: u32, 0 if the owner did what was asked, else a
 *	positive errno.
 * @HVX_A_REQUEST_MSG: NUL-terminated string, the owner's one line.
 * @__HVX_A_MAX: one past the last attribute.
 */
enum hvx_genl_attr {
	HVX_A_UNSPEC,
	HVX_A_PAD,
	HVX_A_VM_ID,
	HVX_A_VCPU_ID,
	HVX_A_OWNER_PID,
	HVX_A_OWNER_UID,
	HVX_A_OWNER_COMM,
	HVX_A_NR_VCPUS,
	HVX_A_MEM_BYTES,
	HVX_A_PINNED_BYTES,
	HVX_A_EPT_FLUSHES,
	HVX_A_NR_DEVICES,
	HVX_A_STATS,
	HVX_A_EVENT,
	HVX_A_EXIT_REASON,
	HVX_A_EXIT_QUAL,
	HVX_A_SUBERROR,
	HVX_A_ENTRY_CHECK,
	HVX_A_INSN_ERROR,
	HVX_A_DEVICE,
	HVX_A_FAULT_ADDR,
	HVX_A_FAULT_REASON,
	HVX_A_RELEASE_REASON,
	HVX_A_VIRTIO_STATS,
	HVX_A_REQUEST_ACTION,
	HVX_A_REQUEST_ARG,
	HVX_A_REQUEST_ERROR,
	HVX_A_REQUEST_MSG,
	__HVX_A_MAX,
};

#define HVX_A_MAX		(__HVX_A_MAX - 1)

/**
 * enum hvx_event - events on the HVX_GENL_MCGRP_EVENTS multicast group
 * @HVX_EVENT_UNSPEC: not an event.
 * @HVX_EVENT_VM_CREATED: HVX_CREATE_VM made a VM.
 * @HVX_EVENT_VM_DESTROYED: the last fd of a VM was closed.
 * @HVX_EVENT_VCPU_SHUTDOWN: a vCPU triple-faulted (HVX_EXIT_SHUTDOWN);
 *	adds HVX_A_VCPU_ID.
 * @HVX_EVENT_ENTRY_FAILURE: a VM entry failed (HVX_EXIT_FAIL_ENTRY); adds
 *	HVX_A_VCPU_ID, HVX_A_SUBERROR, HVX_A_EXIT_REASON, HVX_A_EXIT_QUAL,
 *	HVX_A_ENTRY_CHECK and HVX_A_INSN_ERROR.
 * @HVX_EVENT_INTERNAL_ERROR: hvx could not handle an exit
 *	(HVX_EXIT_INTERNAL_ERROR); adds HVX_A_VCPU_ID, HVX_A_SUBERROR,
 *	HVX_A_EXIT_REASON and HVX_A_EXIT_QUAL.
 * @HVX_EVENT_DEVICE_ASSIGNED: HVX_ASSIGN_DEVICE gave a PCI device to the
 *	VM; adds HVX_A_DEVICE. Sent once the device fd exists.
 * @HVX_EVENT_DEVICE_RELEASED: a PCI device of the VM went back to the
 *	host (reset, config space restored); adds HVX_A_DEVICE and
 *	HVX_A_RELEASE_REASON. For a VM that goes away it follows
 *	HVX_EVENT_VM_DESTROYED.
 * @HVX_EVENT_IOMMU_FAULT: an assigned device's DMA faulted in the VM's
 *	IOMMU domain; adds HVX_A_DEVICE, HVX_A_FAULT_ADDR and
 *	HVX_A_FAULT_REASON. Not sent yet.
 *
 * Events are sent from process context right after the fact, so a
 * listener that joined before it acted sees the events of its own actions
 * when the ioctl or close() returns. Delivery is best effort: a listener
 * whose socket buffer is full loses events (recv() fails with ENOBUFS).
 */
enum hvx_event {
	HVX_EVENT_UNSPEC,
	HVX_EVENT_VM_CREATED,
	HVX_EVENT_VM_DESTROYED,
	HVX_EVENT_VCPU_SHUTDOWN,
	HVX_EVENT_ENTRY_FAILURE,
	HVX_EVENT_INTERNAL_ERROR,
	HVX_EVENT_DEVICE_ASSIGNED,
	HVX_EVENT_DEVICE_RELEASED,
	HVX_EVENT_IOMMU_FAULT,
};

/**
 * enum hvx_release_reason - why an assigned device was released
 * @HVX_RELEASE_UNSPEC: not a reason.
 * @HVX_RELEASE_UNASSIGN: HVX_UNASSIGN_DEVICE.
 * @HVX_RELEASE_VM_DESTROYED: the VM's last fd was closed.
 * @HVX_RELEASE_OWNER_EXITED: the VM's last fd was closed by the exit of
 *	the process holding it (exit(), a fatal signal such as SIGKILL).
 * @HVX_RELEASE_MODULE_UNLOAD: hvx.ko was unloaded with the device still
 *	assigned. VM and device fds hold a reference to the module, so
 *	every device is released before unload can start: this value is
 *	reserved for completeness and not sent today.
 */
enum hvx_release_reason {
	HVX_RELEASE_UNSPEC,
	HVX_RELEASE_UNASSIGN,
	HVX_RELEASE_VM_DESTROYED,
	HVX_RELEASE_OWNER_EXITED,
	HVX_RELEASE_MODULE_UNLOAD,
};

/*
 * Statistics layout (HVX_A_STATS): sizes of the arrays of struct
 * hvx_stats. Basic exit reasons and HVX_EXIT_* values are counted one by
 * one below HVX_STATS_EXIT_REASONS and HVX_STATS_USER_EXITS; a by-key
 * table has HVX_STATS_TOP entries; a histogram HVX_STATS_HIST_BUCKETS.
 */
#define HVX_STATS_EXIT_REASONS	80
#define HVX_STATS_USER_EXITS	16
#define HVX_STATS_IRQ_SOURCES	8
#define HVX_STATS_TOP		16
#define HVX_STATS_HIST_BUCKETS	64
#define HVX_STATS_HYPERCALLS	16

/*
 * Key bits of the by-key tables, besides the port or MSR index:
 * HVX_STATS_IO_IN in io_ports for IN/INS (else OUT/OUTS),
 * HVX_STATS_MSR_WRITE in msrs for WRMSR (else RDMSR).
 */
#define HVX_STATS_IO_IN		(1ULL << 16)
#define HVX_STATS_MSR_WRITE	(1ULL << 32)

/**
 * enum hvx_irq_source - where an interrupt injected into a guest came from
 * @HVX_IRQ_SRC_PIC: the emulated 8259 PIC.
 * @HVX_IRQ_SRC_IOAPIC: the emulated I/O APIC.
 * @HVX_IRQ_SRC_LAPIC: the emulated local APIC (timer, IPI, LINT).
 * @HVX_IRQ_SRC_MSI: an MSI written by an emulated device.
 * @HVX_IRQ_SRC_PASSTHROUGH: an assigned device's INTx or MSI.
 * @HVX_IRQ_SRC_NMI: an NMI (HVX_NMI, or later the emulated devices).
 * @HVX_IRQ_SRC_USER: an external interrupt queued with HVX_INTERRUPT.
 *
 * Indexes hvx_stats.irqs_injected, counted when the event enters the
 * guest.
 */
enum hvx_irq_source {
	HVX_IRQ_SRC_PIC,
	HVX_IRQ_SRC_IOAPIC,
	HVX_IRQ_SRC_LAPIC,
	HVX_IRQ_SRC_MSI,
	HVX_IRQ_SRC_PASSTHROUGH,
	HVX_IRQ_SRC_NMI,
	HVX_IRQ_SRC_USER,
};

/**
 * struct hvx_stats_top - one entry of a by-key table (e.g. exits by port)
 * @key: the port, MSR index or guest page, with the table's HVX_STATS_*
 *	key bits.
 * @count: exits counted for @key; 0 marks an unused entry (entries fill
 *	in order and are never emptied).
 * @overcount: how much of @count was inherited from the entry's previous
 *	key; the true count of @key is between @count - @overcount and @count.
 *
 * A table holds HVX_STATS_TOP keys. A key not in the table takes over the
 * first unused entry, or else the entry with the smallest count, adding
 * one to that count ("space saving": every key seen more than 1/16 of the
 * time is in the table). While at most HVX_STATS_TOP keys have been seen,
 * every count is exact and every @overcount is 0.
 */
struct hvx_stats_top {
	__u64 key;
	__u64 count;
	__u64 overcount;
};

/**
 * struct hvx_stats - statistics of one vCPU since it was created
 * @exits: VM exits, including VM entries that failed with an exit.
 * @exits_by_reason: @exits by basic exit reason (SDM Vol. 3D Appendix C).
 * @exits_other: exits whose basic reason is HVX_STATS_EXIT_REASONS or more.
 * @entry_failures: VM entries that failed: VMfail, or an exit with bit 31
 *	set (also counted in @exits_by_reason).
 * @user_exits: returns of HVX_RUN, by the hvx_run.exit_reason they report
 *	(HVX_EXIT_*; HVX_EXIT_INTR for -EINTR); other values are not counted.
 * @halts: HLT exits.
 * @wakeups: halted vCPUs (HLT with interrupts on sleeps in the kernel)
 *	woken by an interrupt.
 * @exceptions_injected: exceptions hvx injected (e.g. #GP, #UD).
 * @irqs_injected: interrupts injected, by enum hvx_irq_source.
 * @passthrough_irqs: unused, always 0: assigned devices' interrupts are
 *	counted in @irqs_injected[HVX_IRQ_SRC_PASSTHROUGH].
 * @ept_violations: EPT-violation exits (first touch of a RAM page, MMIO).
 * @ept_mmio: EPT violations that were MMIO accesses (not RAM).
 * @flushes: EPT TLB flushes done for this vCPU (when it moves to a CPU).
 * @hist_handler: time from a VM exit until hvx has handled it (host state
 *	restored, exit handler run), in TSC cycles, as a log2 histogram:
 *	bucket 0 counts 0 and 1 cycles, bucket i (i >= 1) counts
 *	[2^i, 2^(i+1)). Every exit is counted once; VMfails are not. Only
 *	while the hvx module parameter stats_timing is on (off by default:
 *	it costs two RDTSCs per exit); else no exit is counted.
 * @hist_user: time from a return of HVX_RUN to the next HVX_RUN on the
 *	vCPU (the round trip through userspace), TSC cycles, log2 buckets as
 *	@hist_handler; only round trips that began with stats_timing on.
 * @io_ports: I/O exits by port (| HVX_STATS_IO_IN for IN/INS).
 * @msrs: RDMSR/WRMSR exits by MSR index (| HVX_STATS_MSR_WRITE for WRMSR).
 * @gpa_pages: EPT violations by guest-physical 4 KiB page (GPA & ~0xfff).
 * @ept_maps_4k: EPT leaves of 4 KiB installed by this vCPU's EPT
 *	violations (its first touches of RAM pages).
 * @ept_maps_2m: EPT leaves of 2 MiB installed by them.
 * @ept_maps_1g: EPT leaves of 1 GiB installed by them.
 * @ept_dirty_faults: writes to pages write-protected for dirty logging
 *	(without EPT A/D flags) that made them writable again.
 * @ept_slot_waits: EPT violations that waited for a change of their slot
 *	to finish.
 * @invvpid: INVVPID single-context executions for this vCPU's VPID (when
 *	hvx emulates a guest TLB flush). INVEPT executions for it are
 *	@flushes; VM-wide ones are HVX_A_EPT_FLUSHES.
 * @apic_assists: HVX_STATS_APIC_* bits: the hardware assists the vCPU's
 *	local APIC has used (see the LAPIC's module parameters apic_access,
 *	apic_reg_virt and apic_vid); 0 without an in-kernel local APIC or on
 *	a CPU without them.
 * @rsb_fills: return-stack-buffer fills after a VM exit, before the host's
 *	first RET (the host kernel has X86_FEATURE_RSB_VMEXIT or _LITE).
 * @verw: CPU-buffer clears (VERW) immediately before a VM entry (MDS, TAA,
 *	MMIO stale data, RFDS).
 * @l1d_flushes_hw: L1D flushes before a VM entry by a write of
 *	IA32_FLUSH_CMD (L1TF).
 * @l1d_flushes_sw: L1D flushes before a VM entry by the software fill, on
 *	a CPU without IA32_FLUSH_CMD.
 * @ibpb_switch: indirect-branch prediction barriers issued because this
 *	vCPU was loaded on a CPU that last ran another vCPU.
 * @ibpb_exit_to_user: HVX_RUN calls after which the CPU was marked to
 *	issue an IBPB before returning to the VMM in userspace (VMSCAPE).
 * @bhi_clears: branch-history clears after a VM exit (BHI).
 * @nx_huge_splits: huge EPT leaves, mapped non-executable against iTLB
 *	multihit, that an instruction fetch split into executable 4 KiB
 *	leaves.
 * @machine_checks: machine checks (#MC exits, and VM entries that failed
 *	on one) handed to the host's machine-check handler.
 * @mmio_unknown_insns: instructions that accessed MMIO but that hvx does
 *	not emulate; each got #UD (also counted in @exceptions_injected).
 * @wbinvd_flushes: guest WBINVDs carried out (caches written back on the
 *	CPUs the vCPU ran on) because a device whose DMA may bypass the CPU
 *	caches is assigned; other WBINVDs are skipped.
 * @fastpath_exits: exits handled on the fast path, with interrupts off,
 *	the guest entered again without a return to the run loop (also
 *	counted in @exits and @exits_by_reason).
 * @pause_yields: PAUSE exits (a spinning guest) after which the vCPU's
 *	thread yielded its CPU to a sibling vCPU of the VM that was
 *	preempted, or woken and not run yet (directed yield, yield_to()).
 * @hypercalls: VMCALLs by hypercall number (guest RAX), numbers below
 *	HVX_STATS_HYPERCALLS (HVX_HC_*), whatever the result: refused ones
 *	(user mode, switched off) and those handed to userspace included.
 * @hypercalls_other: VMCALLs with a number of HVX_STATS_HYPERCALLS or more.
 * @pause_yield_attempts: directed yields tried by PAUSE exits: yield_to()
 *	calls for a sibling vCPU that was a candidate (@pause_yields of
 *	them succeeded). A PAUSE exit tries up to three.
 * @pause_yield_user_skips: candidates a PAUSE exit at CPL 0 passed over
 *	because they were preempted above CPL 0 with no interrupt pending
 *	(KVM's rule: a guest kernel that spins waits for its own kernel).
 * @ept_maps_around: EPT leaves of 4 KiB installed beside a faulting page
 *	by fault-around: pages of its aligned 64 KiB block that the VMM's
 *	address space held already (not in @ept_maps_4k, and no EPT
 *	violation of their own).
 *
 * Counted by the vCPU's own thread without locks; a reader may see a
 * snapshot taken while the vCPU runs, each __u64 read whole.
 */
struct hvx_stats {
	__u64 exits;
	__u64 exits_by_reason[HVX_STATS_EXIT_REASONS];
	__u64 exits_other;
	__u64 entry_failures;
	__u64 user_exits[HVX_STATS_USER_EXITS];
	__u64 halts;
	__u64 wakeups;
	__u64 exceptions_injected;
	__u64 irqs_injected[HVX_STATS_IRQ_SOURCES];
	__u64 passthrough_irqs;
	__u64 ept_violations;
	__u64 ept_mmio;
	__u64 flushes;
	__u64 hist_handler[HVX_STATS_HIST_BUCKETS];
	__u64 hist_user[HVX_STATS_HIST_BUCKETS];
	struct hvx_stats_top io_ports[HVX_STATS_TOP];
	struct hvx_stats_top msrs[HVX_STATS_TOP];
	struct hvx_stats_top gpa_pages[HVX_STATS_TOP];
	__u64 ept_maps_4k;
	__u64 ept_maps_2m;
	__u64 ept_maps_1g;
	__u64 ept_dirty_faults;
	__u64 ept_slot_waits;
	__u64 invvpid;
	__u64 apic_assists;
	__u64 rsb_fills;
	__u64 verw;
	__u64 l1d_flushes_hw;
	__u64 l1d_flushes_sw;
	__u64 ibpb_switch;
	__u64 ibpb_exit_to_user;
	__u64 bhi_clears;
	__u64 nx_huge_splits;
	__u64 machine_checks;
	__u64 mmio_unknown_insns;
	__u64 wbinvd_flushes;
	__u64 fastpath_exits;
	__u64 pause_yields;
	__u64 hypercalls[HVX_STATS_HYPERCALLS];
	__u64 hypercalls_other;
	__u64 pause_yield_attempts;
	__u64 pause_yield_user_skips;
	__u64 ept_maps_around;
};

/* Bits of hvx_stats.apic_assists (SDM Vol. 3C chapter 30). */
#define HVX_STATS_APIC_ACCESS		(1ULL << 0)	/* APIC-access page */
#define HVX_STATS_APIC_REG_VIRT		(1ULL << 1)	/* APIC-register virtualization */
#define HVX_STATS_APIC_VID		(1ULL << 2)	/* virtual-interrupt delivery */
#define HVX_STATS_APIC_X2APIC_VIRT	(1ULL << 3)	/* virtualize x2APIC mode was used */

#endif /* _UAPI_HVX_H */
