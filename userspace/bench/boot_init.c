// SPDX-License-Identifier: GPL-2.0
/*
 * boot_init.c - /init of the benchmark's Linux-boot guest (bench.sh's
 * "Linux boot to /init" row). Its first act is the end of the measurement:
 * it writes 1 to the debug-exit port 0xf4, which hvx-run (exit status 3)
 * and hvx-kvm-boot both take as "stop the VM now"; they read the TSC at
 * that exit. ioperm() makes the port reachable from user mode. If the
 * VM somehow keeps running, it sleeps forever (PID 1 must not exit).
 *
 * Freestanding (no libc), Linux x86-64 system calls; a few KiB.
 */
#define SYS_pause	34
#define SYS_ioperm	173
#define PORT_DEBUG_EXIT	0xf4

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

void boot_init_main(void);

void boot_init_main(void)
{
	sys3(SYS_ioperm, PORT_DEBUG_EXIT, 1, 1);
	__asm__ volatile("outb %b0, %w1" : : "a"(1), "Nd"(PORT_DEBUG_EXIT));
	for (;;)
		sys3(SYS_pause, 0, 0, 0);
}

__asm__(".globl _start\n"
	"_start:\n"
	"	andq $-16, %rsp\n"
	"	call boot_init_main\n"
	"	hlt\n");
