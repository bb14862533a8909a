// SPDX-License-Identifier: GPL-2.0
/*
 * debug_test - the guest's debug facilities after instructions hvx
 * emulates: single-step traps with DR6.BS right after CPUID, IN/OUT,
 * REP OUTS, MMIO loads, stores, read-modify-writes and string moves;
 * data breakpoints on emulated MMIO accesses and on the memory side of
 * INS/OUTS; I/O breakpoints (CR4.DE) on emulated port I/O; MOV SS
 * blocking of the single-step trap; IA32_DEBUGCTL.BTF read and written;
 * instruction breakpoints on a native and an emulated instruction (RF
 * cleared by the emulation) and a data breakpoint on a native store.
 * Each at CPL 0 and CPL 3. The guest checks each #DB (SDM Vol. 3B
 * 18.2.3, 18.3.1; MOV SS blocking, Vol. 3A 6.8.3): its own handler
 * records the RIP the CPU pushed and DR6, so each case checks that
 * exactly one #DB came, where the CPU would report it, with the DR6 bits
 * the CPU would report. The host answers the guest's port and MMIO
 * accesses.
 */
#include "hvx_test.h"
#include "hvx_guest.h"

/* Ports the host answers (reads return 0): one watched, one not. */
#define DBG_PORT_WATCHED	0xea
#define DBG_PORT_OTHER		0xec

/* Guest code. */

#define DR6_RESET	0xffff0ff0ull
#define DR6_BS		0x4000ull
#define DR6_BITS	(DR6_BS | 0xfull)
#define DR7_FIXED	0x400ull
#define DR7_L(n)	(1ull << (2 * (n)))
#define DR7_RW(n, rw)	((uint64_t)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, l)	((uint64_t)(l) << (18 + 4 * (n)))
#define RW_WRITE	1
#define RW_IO		2
#define RW_RDWR		3
#define LEN_1		0
#define LEN_4		3
#define X86_CR4_DE	(1ull << 3)
#define X86_CR4_SMEP	(1ull << 20)
#define X86_CR4_SMAP	(1ull << 21)

/* The breakpoints, all armed for the whole test (set at CPL 0). */
#define BP_MMIO_W	0x40000000		/* DR0: writes, 4 bytes */
#define BP_MMIO_RW	0x40000010		/* DR2: reads and writes */
#define MMIO_FREE	0x40000020		/* watched by nobody */

volatile uint64_t db_count, db_rip, db_dr6, db_rcx;
static volatile uint8_t movs_src;		/* DR3: reads and writes */
static uint8_t out_buf[4] = { 1, 2, 3, 4 };
static uint8_t ram_buf[4];

/*
 * #DB handler (interrupt gate, CPL 0): count, record the pushed RIP, RCX
 * and DR6, reset DR6 and clear TF in the pushed RFLAGS, so that a
 * single-step trap comes once; set RF there, as a debugger does, so that
 * the instruction an instruction breakpoint stopped runs on return
 * (SDM Vol. 3B 18.3.1.1).
 */
void db_entry(void);
asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".globl db_entry\n"
    "db_entry:\n\t"
    "push %rax\n\t"
    "incq db_count(%rip)\n\t"
    "mov 8(%rsp), %rax\n\t"
    "mov %rax, db_rip(%rip)\n\t"
    "mov %rcx, db_rcx(%rip)\n\t"
    "mov %dr6, %rax\n\t"
    "mov %rax, db_dr6(%rip)\n\t"
    "mov $0xffff0ff0, %eax\n\t"
    "mov %rax, %dr6\n\t"
    "andq $~0x100, 24(%rsp)\n\t"
    "orq $0x10000, 24(%rsp)\n\t"
    "pop %rax\n\t"
    "iretq\n"
    ".popsection");

GUEST_CODE
static void set_gate_db(void)
{
	volatile uint64_t *idt = (volatile uint64_t *)GPA_IDT;
	uint64_t h = (uint64_t)db_entry;

	/* 64-bit interrupt gate, present, DPL 0 (SDM Vol. 3A 6.14.1). */
	idt[2] = (h & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
		 ((h >> 16) & 0xffff) << 48;
	idt[3] = h >> 32;
}

GUEST_CODE
static void db_reset(void)
{
	db_count = 0;
	db_rip = 0;
	db_dr6 = 0;
	db_rcx = ~0ull;
}

#define SET_TF	"pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
#define CLOBBERS "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "memory"

/*
 * Run @insn (after setting TF when @tf is "SET_TF", else ""); return the
 * address right after it, where a trap must report RIP.
 */
#define AFTER(tf, insn) ({						\
	uint64_t __next;						\
	db_reset();							\
	asm volatile("xor %%eax, %%eax\n\t"				\
		     tf insn "\n"					\
		     "1:\tlea 1b(%%rip), %[next]"			\
		     : [next] "=r"(__next) : : CLOBBERS);		\
	__next;								\
})

/* Exactly one #DB, right after the instruction, with these DR6 bits. */
#define EXPECT_DB(next, bits) do {					\
	GUEST_ASSERT_EQ(1, db_count);					\
	GUEST_ASSERT_EQ(next, db_rip);					\
	GUEST_ASSERT_EQ(bits, db_dr6 & DR6_BITS);			\
	GUEST_ASSERT_EQ(DR6_RESET & ~DR6_BITS, db_dr6 & ~DR6_BITS);	\
} while (0)

#define STR(x)	#x
#define XSTR(x)	STR(x)

/*
 * One #DB during a REP of three iterations (SDM Vol. 3B 18.3.1.4): RIP
 * still on the instruction (@at), RCX = @rcx_then in the handler, these
 * DR6 bits, and the other iterations ran untrapped (@rcx, 0 after it).
 */
#define EXPECT_REP_TRAP(at, rcx_then, bits, rcx) do {			\
	GUEST_ASSERT_EQ(1, db_count);					\
	GUEST_ASSERT_EQ(at, db_rip);					\
	GUEST_ASSERT_EQ(rcx_then, db_rcx);				\
	GUEST_ASSERT_EQ(bits, db_dr6 & DR6_BITS);			\
	GUEST_ASSERT_EQ(0, rcx);					\
} while (0)

/*
 * REP OUTSB of three bytes from @si to a port the host answers (exits,
 * emulated by hvx), under TF if @tf: the instruction's address; RCX
 * after it in *@rcx.
 */
GUEST_CODE
static uint64_t rep_outsb3(uint64_t si, uint64_t tf, uint64_t *rcx)
{
	uint64_t at, dx = DBG_PORT_OTHER, c;

	asm volatile("mov $3, %%ecx\n\t"
		     "cld\n\t"
		     "test %[tf], %[tf]\n\t"
		     "jz 0f\n\t"
		     SET_TF
		     "0:\trep outsb\n\t"
		     "lea 0b(%%rip), %[at]"
		     : [at] "=r"(at), "=c"(c), "+S"(si), "+d"(dx)
		     : [tf] "r"(tf) : "memory");
	*rcx = c;
	return at;
}

/* REP under TF: the trap comes after the first iteration, RCX = 2. */
GUEST_CODE
static void rep_step(void)
{
	uint64_t at, rcx, si = MMIO_FREE, di = (uint64_t)ram_buf;

	db_reset();	/* from MMIO (emulated by hvx) to RAM */
	asm volatile("mov $3, %%ecx\n\t"
		     "cld\n\t"
		     SET_TF
		     "0:\trep movsb\n\t"
		     "lea 0b(%%rip), %[at]"
		     : [at] "=r"(at), "=c"(rcx), "+S"(si), "+D"(di)
		     : : "memory");
	EXPECT_REP_TRAP(at, 2, DR6_BS, rcx);
	db_reset();
	at = rep_outsb3((uint64_t)out_buf, 1, &rcx);
	EXPECT_REP_TRAP(at, 2, DR6_BS, rcx);
}

/*
 * Data breakpoints on the memory side of string port I/O (DR3: movs_src,
 * read/write): OUTS reads its element and INS writes it. REP OUTSB of
 * three bytes with movs_src the second: one #DB after that iteration,
 * RCX = 1. INSB into movs_src: one #DB right after it.
 */
GUEST_CODE
static void string_io_memory_bp(void)
{
	uint64_t at, next, rcx, dx = DBG_PORT_OTHER;
	uint64_t di = (uint64_t)&movs_src;

	db_reset();
	at = rep_outsb3((uint64_t)&movs_src - 1, 0, &rcx);
	EXPECT_REP_TRAP(at, 1, 0x8, rcx);
	db_reset();
	asm volatile("cld\n\t"
		     "insb\n"
		     "1:\tlea 1b(%%rip), %[next]"
		     : [next] "=r"(next), "+D"(di), "+d"(dx) : : "memory");
	EXPECT_DB(next, 0x8);
}

#define MSR_DEBUGCTL	0x1d9
#define DEBUGCTL_LBR	(1ull << 0)
#define DEBUGCTL_BTF	(1ull << 1)

/*
 * IA32_DEBUGCTL (SDM Vol. 3B 18.4.1): BTF can be set and read back (LBR
 * cannot: #GP). That an emulated instruction raises no single-step trap
 * under BTF is not checked: Bochs 2.7 keeps a single-step trap of the
 * exiting instruction in the pending debug exceptions whatever BTF says
 * and delivers it itself at the next entry, where the CPU keeps none.
 */
GUEST_CODE
static void debugctl_btf(void)
{
	uint64_t val;

	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_DEBUGCTL, &val));
	GUEST_ASSERT_EQ(0, val);
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_DEBUGCTL, DEBUGCTL_LBR));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_DEBUGCTL, DEBUGCTL_BTF));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_DEBUGCTL, &val));
	GUEST_ASSERT_EQ(DEBUGCTL_BTF, val);
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_DEBUGCTL, 0));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_DEBUGCTL, &val));
	GUEST_ASSERT_EQ(0, val);
}

/* The cases; run at CPL 0 or CPL 3 with the breakpoints armed. */
GUEST_CODE
static void debug_cases(void)
{
	uint64_t next;

	/* Single-step over a native instruction, then emulated ones. */
	next = AFTER(SET_TF, "nop");
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "cpuid");
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "outb %%al, $" XSTR(DBG_PORT_OTHER));
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "inb $" XSTR(DBG_PORT_OTHER) ", %%al");
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "movl $7, " XSTR(MMIO_FREE));
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "movl " XSTR(MMIO_FREE) ", %%ebx");
	EXPECT_DB(next, DR6_BS);
	next = AFTER(SET_TF, "addl $1, " XSTR(MMIO_FREE));
	EXPECT_DB(next, DR6_BS);
	rep_step();
	string_io_memory_bp();

	/* Data breakpoints on emulated MMIO accesses (traps, no TF). */
	next = AFTER("", "movl $7, " XSTR(BP_MMIO_W));
	EXPECT_DB(next, 0x1);
	next = AFTER("", "movb $7, " XSTR(BP_MMIO_W) "+3");
	EXPECT_DB(next, 0x1);
	AFTER("", "movl " XSTR(BP_MMIO_W) ", %%ebx");	/* a read: no */
	GUEST_ASSERT_EQ(0, db_count);
	AFTER("", "movl $7, " XSTR(BP_MMIO_W) "+4");	/* beside it: no */
	GUEST_ASSERT_EQ(0, db_count);
	next = AFTER("", "movl " XSTR(BP_MMIO_RW) ", %%ebx");
	EXPECT_DB(next, 0x4);
	next = AFTER("", "orl $1, " XSTR(BP_MMIO_RW));
	EXPECT_DB(next, 0x4);
	/* RAM to MMIO: the breakpoint is on the RAM source. */
	next = AFTER("", "lea movs_src(%%rip), %%rsi\n\t"
		     "mov $" XSTR(MMIO_FREE) ", %%edi\n\t"
		     "cld\n\tmovsb");
	EXPECT_DB(next, 0x8);
	/* A breakpoint and the single step: one #DB with both. */
	next = AFTER(SET_TF, "movl $7, " XSTR(BP_MMIO_W));
	EXPECT_DB(next, DR6_BS | 0x1);

	/* I/O breakpoints on emulated port I/O (CR4.DE = 1). */
	next = AFTER("", "outb %%al, $" XSTR(DBG_PORT_WATCHED));
	EXPECT_DB(next, 0x2);
	next = AFTER("", "inb $" XSTR(DBG_PORT_WATCHED) ", %%al");
	EXPECT_DB(next, 0x2);
	next = AFTER("", "mov $" XSTR(DBG_PORT_WATCHED) ", %%dx\n\t"
		     "outw %%ax, %%dx");
	EXPECT_DB(next, 0x2);
	AFTER("", "outb %%al, $" XSTR(DBG_PORT_OTHER));
	GUEST_ASSERT_EQ(0, db_count);

	/*
	 * MOV SS blocks the single-step trap after it until after the
	 * next instruction, an emulated CPUID here: one #DB, after CPUID.
	 */
	next = AFTER("", "mov %%ss, %%edx\n\t"
		     SET_TF
		     "mov %%edx, %%ss\n\t"
		     "cpuid");
	EXPECT_DB(next, DR6_BS);
	GUEST_DONE();
}

GUEST_CODE
static void user_cases(void)
{
	debug_cases();
}

GUEST_CODE
static void guest_debug_matrix(uint64_t cpl)
{
	uint64_t dr7 = DR7_FIXED |
		DR7_L(0) | DR7_RW(0, RW_WRITE) | DR7_LEN(0, LEN_4) |
		DR7_L(1) | DR7_RW(1, RW_IO) | DR7_LEN(1, LEN_1) |
		DR7_L(2) | DR7_RW(2, RW_RDWR) | DR7_LEN(2, LEN_4) |
		DR7_L(3) | DR7_RW(3, RW_RDWR) | DR7_LEN(3, LEN_1);
	int i;

	set_gate_db();
	/*
	 * Bochs 2.7 quirk: at every VM exit it saves a single-step trap of
	 * the interrupted instruction in the pending debug exceptions field,
	 * even for a fault-like exit such as an EPT violation on a guest
	 * paging-structure page that hvx then maps; the next VM entry
	 * delivers that #DB before the instruction ran. The CPU saves it
	 * only for the exits SDM Vol. 3C 28.3.4 lists (or under MOV SS
	 * blocking). So the page tables are touched here, before any TF.
	 */
	for (i = 0; i < 4; i++)
		(void)((volatile uint64_t *)GPA_PD)[i * 512];
	asm volatile("mov %0, %%cr4" : : "r"((guest_read_cr4() | X86_CR4_DE) &
					     ~(X86_CR4_SMEP | X86_CR4_SMAP)));
	asm volatile("mov %0, %%dr0" : : "r"((uint64_t)BP_MMIO_W));
	asm volatile("mov %0, %%dr1" : : "r"((uint64_t)DBG_PORT_WATCHED));
	asm volatile("mov %0, %%dr2" : : "r"((uint64_t)BP_MMIO_RW));
	asm volatile("mov %0, %%dr3" : : "r"((uint64_t)&movs_src));
	asm volatile("mov %0, %%dr6" : : "r"(DR6_RESET));
	asm volatile("mov %0, %%dr7" : : "r"(dr7));
	debugctl_btf();
	if (cpl == 3)
		guest_enter_user(user_cases);
	debug_cases();
}

/*
 * Instruction breakpoints (faults: the CPU raises them before the
 * instruction, and hvx reflects the #DB exit into the guest) and a data
 * breakpoint on a native store, at CPL 0 or 3. DR0 is on a CPUID, which
 * exits and which hvx emulates, DR1 on the NOP right after it: two #DBs,
 * the second only if the emulated CPUID cleared the RF the handler set
 * (an instruction that completes clears RF, SDM Vol. 3B 18.3.1.1). DR3
 * is on a native NOP, DR2 on a RAM word stored to natively (a trap).
 */
void exec_pair(void);
void exec_native(void);
extern const char exec_cpuid[], exec_after[];
asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".globl exec_pair, exec_native, exec_cpuid, exec_after\n"
    "exec_pair:\n\t"
    "push %rbx\n\t"
    "xor %eax, %eax\n"
    "exec_cpuid:\n\t"
    "cpuid\n"
    "exec_after:\n\t"
    "nop\n\t"
    "pop %rbx\n\t"
    "ret\n"
    "exec_native:\n\t"
    "nop\n\t"
    "ret\n"
    ".popsection");

static volatile uint32_t native_word;	/* DR2: writes, 4 bytes */

GUEST_CODE
static void exec_cases(void)
{
	uint64_t next;

	db_reset();
	exec_native();
	EXPECT_DB((uint64_t)exec_native, 0x8);
	db_reset();
	exec_pair();
	GUEST_ASSERT_EQ(2, db_count);
	GUEST_ASSERT_EQ((uint64_t)exec_after, db_rip);
	GUEST_ASSERT_EQ(0x2, db_dr6 & DR6_BITS);
	db_reset();
	asm volatile("movl $1, %[word]\n"
		     "1:\tlea 1b(%%rip), %[next]"
		     : [next] "=r"(next), [word] "=m"(native_word));
	EXPECT_DB(next, 0x4);
	GUEST_DONE();
}

GUEST_CODE
static void guest_exec_matrix(uint64_t cpl)
{
	uint64_t dr7 = DR7_FIXED | DR7_L(0) | DR7_L(1) | DR7_L(3) |
		DR7_L(2) | DR7_RW(2, RW_WRITE) | DR7_LEN(2, LEN_4);

	set_gate_db();
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() &
					     ~(X86_CR4_SMEP | X86_CR4_SMAP)));
	asm volatile("mov %0, %%dr0" : : "r"((uint64_t)exec_cpuid));
	asm volatile("mov %0, %%dr1" : : "r"((uint64_t)exec_after));
	asm volatile("mov %0, %%dr2" : : "r"((uint64_t)&native_word));
	asm volatile("mov %0, %%dr3" : : "r"((uint64_t)exec_native));
	asm volatile("mov %0, %%dr6" : : "r"(DR6_RESET));
	asm volatile("mov %0, %%dr7" : : "r"(dr7));
	if (cpl == 3)
		guest_enter_user(exec_cases);
	exec_cases();
}

/* Host code. */

/* Serve the guest's MMIO and port accesses until a ucall. */
static uint64_t run_serving(struct __test_metadata *_metadata,
			    struct vcpu *vcpu, struct ucall *uc)
{
	struct hvx_run *run = vcpu->run;

	for (;;) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, uc) != UCALL_NONE)
			return uc->cmd;
		if (run->exit_reason == HVX_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			continue;
		}
		if (run->exit_reason == HVX_EXIT_IO &&
		    (run->io.port == DBG_PORT_WATCHED ||
		     run->io.port == DBG_PORT_OTHER)) {
			if (run->io.direction == HVX_EXIT_IO_IN)
				memset(vcpu_io_data(vcpu), 0,
				       run->io.size * run->io.count);
			continue;
		}
		return UCALL_NONE;
	}
}

static void run_matrix(struct __test_metadata *_metadata,
		       void (*guest)(uint64_t), uint64_t cpl)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t cmd;

	vcpu = vm_create_long(&vm, guest, cpl);
	cmd = run_serving(_metadata, vcpu, &uc);
	ASSERT_EQ(UCALL_DONE, cmd) TH_LOG("%s", cmd == UCALL_NONE ?
					  vcpu_exit_str(vcpu) :
					  ucall_str(vcpu, &uc));
	vm_free(vm);
}

TEST(debug_kernel)
{
	REQUIRE_VMX();
	run_matrix(_metadata, guest_debug_matrix, 0);
}

TEST(debug_user)
{
	REQUIRE_VMX();
	run_matrix(_metadata, guest_debug_matrix, 3);
}

TEST(exec_kernel)
{
	REQUIRE_VMX();
	run_matrix(_metadata, guest_exec_matrix, 0);
}

TEST(exec_user)
{
	REQUIRE_VMX();
	run_matrix(_metadata, guest_exec_matrix, 3);
}

TEST_HARNESS_MAIN
