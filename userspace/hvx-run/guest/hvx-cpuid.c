// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-cpuid - print the hypervisor's CPUID signature, for the demo guest.
 *
 * CPUID.1:ECX bit 31 says a hypervisor is present; leaf 0x40000000 then
 * holds its 12-byte signature in EBX, ECX, EDX (hvx: "hvxhvxhvxhvx").
 * Prints the signature, or "none". With the argument "tsc" it prints the
 * time-stamp counter in decimal instead (selftests/vm/net.sh times TFTP
 * fetches with it; in Bochs with clock sync=none the TSC counts emulated
 * instructions). Freestanding (no libc) so that it adds a few KiB to the
 * guest's initramfs; Linux x86-64 system calls.
 */
static void cpuid(unsigned int leaf, unsigned int r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static void print_tsc(void)
{
	unsigned int lo, hi;
	unsigned long long v;
	char buf[24];
	int i = sizeof(buf);

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	v = ((unsigned long long)hi << 32) | lo;
	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sys3(1, 1, (long)(buf + i), (long)sizeof(buf) - i);
}

void hvx_cpuid_main(long *sp);

/* sp: the initial stack (argc, then argv[]), System V x86-64 ABI 3.4.1 */
void hvx_cpuid_main(long *sp)
{
	const char *arg = sp[0] > 1 ? (const char *)sp[2] : "";
	unsigned int r[4];
	char sig[13], out[13];
	int n = 0;

	if (arg[0] == 't' && arg[1] == 's' && arg[2] == 'c' && !arg[3]) {
		print_tsc();
		sys3(60, 0, 0, 0);
	}
	cpuid(1, r);
	if (!(r[2] & (1u << 31))) {
		sys3(1, 1, (long)"none\n", 5);
	} else {
		cpuid(0x40000000, r);
		for (int i = 0; i < 4; i++) {
			sig[i] = (char)(r[1] >> (8 * i));
			sig[4 + i] = (char)(r[2] >> (8 * i));
			sig[8 + i] = (char)(r[3] >> (8 * i));
		}
		for (int i = 0; i < 12; i++)
			if (sig[i])
				out[n++] = sig[i];
		out[n++] = '\n';
		sys3(1, 1, (long)out, n);
	}
	sys3(60, 0, 0, 0);	/* exit(0) */
}

__asm__(".globl _start\n"
	"_start:\n"
	"	movq %rsp, %rdi\n"
	"	andq $-16, %rsp\n"
	"	call hvx_cpuid_main\n"
	"	hlt\n");
