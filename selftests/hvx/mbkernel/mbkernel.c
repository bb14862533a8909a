// SPDX-License-Identifier: GPL-2.0
/*
 * mbkernel.c - a multiboot (v1) test kernel for hvx-run (run_test).
 *
 * Checks what a firmware-less OS learns from its loader and platform
 * against what the command line says the machine should be:
 *
 *   cpus=N   vCPUs (fw_cfg, ACPI MADT, MP table must agree)
 *   mem=M    MiB of RAM (fw_cfg, multiboot memory map)
 *   noacpi   expect no ACPI RSDP (hvx-run --no-acpi)
 *   mod      expect one module whose data starts with "HVXMOD"
 *   s3=W     after the checks, suspend to RAM (ACPI S3) and pass only
 *            after the resume: W=1 wake by the RTC alarm through the
 *            real-mode waking vector, W=2 the same through the 32-bit X
 *            waking vector, W=3 real mode, woken by a key on the console
 *
 * It prints its findings on COM1 and reports through the debug-exit port
 * 0xf4: 0x10 when every check passed (hvx-run exits with 0x21 = 33), or
 * the number of the failed check (exit status (n << 1) | 1).
 *
 * Facts used: Multiboot Specification 0.6.96 section 3.3 (information
 * structure); QEMU docs/specs/fw_cfg.rst (selector 0x510, data 0x511,
 * keys 0x00 signature, 0x03 RAM size, 0x05 CPU count); ACPI 6.3 5.2.5
 * (RSDP search in 0xe0000-0xfffff), 5.2.8 (XSDT), 5.2.12 (MADT), 5.2.10
 * (FACS), 4.8.3.1-4.8.3.2 (PM1 status, enable, control), 7.4.2 (\_Sx),
 * 16.3 (the waking vector's CS:IP);
 * MultiProcessor Specification 1.4 4.1 and 4.2 (floating pointer and
 * configuration table). Built freestanding, 32-bit, no libc; port I/O
 * comes from the selftests' guest library (lib/x86.h).
 */
#include "x86.h"		/* port I/O, shared with the 64-bit guest library */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define PASS_CODE	0x10

static void putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (u8)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(u32 v)
{
	char buf[12];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc(buf[--n]);
}

static void __attribute__((noreturn)) done(u8 code)
{
	outb(0xf4, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void check(int ok, u8 n, const char *what)
{
	if (ok)
		return;
	puts("mbkernel: check ");
	putu(n);
	puts(" failed: ");
	puts(what);
	puts("\n");
	done(n);
}

static int memeq(const void *a, const void *b, u32 len)
{
	const u8 *x = a, *y = b;

	for (u32 i = 0; i < len; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static u8 sum(const void *p, u32 len)
{
	const u8 *b = p;
	u8 s = 0;

	while (len--)
		s += *b++;
	return s;
}

static u32 rd32(const void *p)
{
	const u8 *b = p;

	return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
}

/* Value of "key=N" in the command line, or -1; has_word("key"). */
static long arg(const char *cmd, const char *key)
{
	u32 klen = 0;

	while (key[klen])
		klen++;
	for (const char *p = cmd; *p; p++) {
		if ((p == cmd || p[-1] == ' ') && memeq(p, key, klen)) {
			long v = 0;

			if (p[klen] == '=') {
				for (p += klen + 1; *p >= '0' && *p <= '9'; p++)
					v = v * 10 + (*p - '0');
				return v;
			}
			if (p[klen] == ' ' || !p[klen])
				return 0;
		}
	}
	return -1;
}

static u8 fw_cfg_byte(void)
{
	return inb(0x511);
}

static u64 fw_cfg(u16 key, int len)
{
	u64 v = 0;

	outw(0x510, key);
	for (int i = 0; i < len; i++)
		v |= (u64)fw_cfg_byte() << (8 * i);
	return v;
}

static const u8 *find_rsdp(void)
{
	for (u32 a = 0xe0000; a < 0x100000; a += 16)
		if (memeq((void *)a, "RSD PTR ", 8) && !sum((void *)a, 20))
			return (const u8 *)a;
	return 0;
}

static const u8 *find_mp(void)
{
	for (u32 a = 0xf0000; a < 0x100000; a += 16)
		if (memeq((void *)a, "_MP_", 4) && !sum((void *)a, 16))
			return (const u8 *)a;
	return 0;
}

/* ---- ACPI S3 ---------------------------------------------------------- */

#define WAKE16_ADDR	0x90000		/* start.S */
#define S3_MARKER	0x53335333
#define PM1_RTC		0x0400
#define PM1_WAK		0x8000

extern const char wake16_start[], wake16_end[], wake32[];
void mb_resume(u32 via);

/* Kept in RAM across the sleep. */
static volatile u32 s3_marker, s3_mode, s3_cpus, s3_mem;
static volatile u16 s3_pm1_evt;

static u8 cmos_read(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(u8 reg, u8 v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

/* \_S3's SLP_TYP a: Name (\_S3_, Package () { typ, ... }) in the DSDT. */
static int s3_slp_typ(const u8 *dsdt)
{
	u32 len = rd32(dsdt + 4);

	for (u32 i = 36; i + 9 < len; i++) {
		const u8 *p = dsdt + i;

		if (!memeq(p, "_S3_", 4) || p[4] != 0x12 || p[5] >= 0x40)
			continue;
		if (p[7] == 0x0a)	/* ByteConst */
			return p[8];
		if (p[7] <= 0x01)	/* Zero, One */
			return p[7];
	}
	return -1;
}

static void s3_sleep(const u8 *fadt, u32 mode, u32 cpus, u32 mem)
{
	u8 *facs = (u8 *)rd32(fadt + 36);
	u16 pm1_evt = (u16)rd32(fadt + 56), pm1_cnt = (u16)rd32(fadt + 64);
	int typ = s3_slp_typ((const u8 *)rd32(fadt + 40));
	u8 *stub = (u8 *)WAKE16_ADDR, sec;

	check(facs && memeq(facs, "FACS", 4) && rd32(facs + 4) >= 64 &&
	      !((u32)facs & 63) && facs[32] >= 1, 20,
	      "no FACS of version 1+ at FADT FIRMWARE_CTRL, 64-byte aligned");
	check(typ >= 0 && typ < 8, 20, "no \\_S3 package in the DSDT");
	for (const char *p = wake16_start; p < wake16_end; p++)
		*stub++ = (u8)*p;
	if (mode == 2) {
		*(volatile u32 *)(facs + 12) = 0;
		*(volatile u32 *)(facs + 24) = (u32)wake32;
		*(volatile u32 *)(facs + 28) = 0;
	} else {
		*(volatile u32 *)(facs + 12) = WAKE16_ADDR;
		*(volatile u32 *)(facs + 24) = 0;
		*(volatile u32 *)(facs + 28) = 0;
	}
	s3_marker = S3_MARKER;
	s3_mode = mode;
	s3_cpus = cpus;
	s3_mem = mem;
	s3_pm1_evt = pm1_evt;

	outw(pm1_evt, 0xffff);				/* clear PM1 status */
	check(!(inw(pm1_evt) & (PM1_WAK | PM1_RTC)), 21, "PM1 status does not clear");
	if (mode != 3) {
		/* The alarm 2 s from now (seconds only; BCD, register B's default). */
		while (cmos_read(0x0a) & 0x80)
			;
		sec = cmos_read(0x00);
		sec = (u8)((sec >> 4) * 10 + (sec & 15) + 2) % 60;
		cmos_write(0x01, (u8)((sec / 10) << 4 | sec % 10));
		cmos_write(0x03, 0xff);			/* don't care */
		cmos_write(0x05, 0xff);
		(void)cmos_read(0x0c);
		cmos_write(0x0b, cmos_read(0x0b) | 0x20);	/* AIE */
		outw(pm1_evt + 2, PM1_RTC);		/* RTC_EN */
		check(inw(pm1_evt + 2) == PM1_RTC, 21, "PM1 enable does not keep RTC_EN");
	} else {
		outw(pm1_evt + 2, 0);
	}
	puts("mbkernel: sleeping in S3\n");
	outw(pm1_cnt, (u16)(typ << 10));
	outw(pm1_cnt, (u16)(typ << 10 | 0x2000));	/* SLP_EN */
	for (volatile u32 i = 0; i < 10000000; i++)
		;
	check(0, 22, "still running after SLP_EN with \\_S3's SLP_TYP");
}

void mb_resume(u32 via)
{
	u16 sts;
	u32 cr0;

	puts("mbkernel: resumed\n");
	check(s3_marker == S3_MARKER, 23, "RAM was not kept across S3");
	check(via == (s3_mode == 2 ? 0u : 1u), 24,
	      "resumed through the wrong waking vector");
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	check((cr0 & 0x80000001) == 1, 24, "not in protected mode without paging");
	sts = inw(s3_pm1_evt);
	check(sts & PM1_WAK, 25, "WAK_STS is clear after the resume");
	if (s3_mode != 3) {
		check(sts & PM1_RTC, 26, "RTC_STS is clear after an RTC alarm wake");
		check(cmos_read(0x0c) & 0x20, 26, "RTC register C has no AF");
	} else {
		check(!(sts & PM1_RTC), 26, "RTC_STS is set after a console wake");
	}
	outw(s3_pm1_evt, PM1_WAK | PM1_RTC);
	check(!(inw(s3_pm1_evt) & (PM1_WAK | PM1_RTC)), 27, "WAK_STS/RTC_STS do not clear");
	puts("mbkernel: all checks passed: cpus=");
	putu(s3_cpus);
	puts(" mem=");
	putu(s3_mem);
	puts(" s3\n");
	done(PASS_CODE);
}

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

void mb_main(u32 magic, const struct mb_info *mbi);

void mb_main(u32 magic, const struct mb_info *mbi)
{
	const char *cmd;
	const u8 *fadt_s3 = 0;
	long cpus, mem;
	u64 ram = 0;
	const u8 *rsdp, *mp;

	puts("mbkernel: started\n");
	check(magic == 0x2badb002, 1, "EAX is not the multiboot magic");
	check((mbi->flags & 0x45) == 0x45, 2, "info lacks memory, cmdline or mmap");
	cmd = (const char *)mbi->cmdline;
	cpus = arg(cmd, "cpus");
	mem = arg(cmd, "mem");
	check(cpus > 0 && mem > 0, 3, "command line lacks cpus= and mem=");

	check(fw_cfg(0x0000, 4) == 0x554d4551, 4, "fw_cfg signature is not QEMU");
	check(fw_cfg(0x0005, 2) == (u64)cpus, 5, "fw_cfg CPU count");
	check(fw_cfg(0x0003, 8) == (u64)mem << 20, 6, "fw_cfg RAM size");

	for (u32 off = 0; off < mbi->mmap_length;) {
		const u8 *e = (const u8 *)(mbi->mmap_addr + off);
		u64 len = rd32(e + 12) | (u64)rd32(e + 16) << 32;

		if (rd32(e + 20) == 1)
			ram += len;
		off += rd32(e) + 4;
	}
	check(mbi->mem_lower == 639, 7, "mem_lower is not 639 KiB");
	check(ram + 0x400 + 0x60000 == (u64)mem << 20, 7,
	      "memory map RAM does not add up to mem= (with the 0x9fc00-0x100000 hole)");

	rsdp = find_rsdp();
	if (arg(cmd, "noacpi") >= 0) {
		check(!rsdp, 8, "RSDP present with --no-acpi");
	} else {
		const u8 *xsdt, *madt = 0, *fadt = 0;
		u32 n = 0, ioapic_ok = 0;

		check(rsdp && rsdp[15] == 2 && !sum(rsdp, 36), 8, "no valid ACPI 2.0 RSDP");
		xsdt = (const u8 *)rd32(rsdp + 24);
		check(memeq(xsdt, "XSDT", 4) && !sum(xsdt, rd32(xsdt + 4)), 9, "bad XSDT");
		for (u32 off = 36; off + 8 <= rd32(xsdt + 4); off += 8) {
			const u8 *t = (const u8 *)rd32(xsdt + off);

			check(!sum(t, rd32(t + 4)), 9, "a table's checksum is wrong");
			if (memeq(t, "APIC", 4))
				madt = t;
			if (memeq(t, "FACP", 4))
				fadt = t;
		}
		check(madt && rd32(madt + 36) == 0xfee00000, 10, "no MADT with the LAPIC at 0xfee00000");
		for (u32 off = 44; off < rd32(madt + 4); off += madt[off + 1]) {
			if (madt[off] == 0 && (rd32(madt + off + 4) & 1))
				n++;
			if (madt[off] == 1 && rd32(madt + off + 4) == 0xfec00000 &&
			    rd32(madt + off + 8) == 0)
				ioapic_ok = 1;
		}
		check(n == (u32)cpus, 10, "MADT processor count");
		check(ioapic_ok, 10, "MADT has no IOAPIC at 0xfec00000 with GSI base 0");
		/* A full PC: PM1a blocks, SCI 9, not HW_REDUCED_ACPI. */
		check(fadt && !(rd32(fadt + 112) & (1u << 20)) &&
		      rd32(fadt + 64) && fadt[89] == 2 && (rd32(fadt + 46) & 0xffff) == 9,
		      11, "FADT is not a full-hardware PC with PM1a_CNT and SCI 9");
		{
			const u8 *dsdt = (const u8 *)rd32(fadt + 40);

			check(memeq(dsdt, "DSDT", 4) && !sum(dsdt, rd32(dsdt + 4)), 11, "bad DSDT");
		}
		fadt_s3 = fadt;
	}

	mp = find_mp();
	check(mp && rd32(mp + 4), 12, "no MP floating pointer");
	{
		const u8 *mpc = (const u8 *)rd32(mp + 4);
		u32 len = mpc[4] | mpc[5] << 8, n = 0;

		check(memeq(mpc, "PCMP", 4) && !sum(mpc, len), 12, "bad MP configuration table");
		for (u32 off = 44; off < len;) {
			if (mpc[off] == 0) {
				n += mpc[off + 3] & 1;
				off += 20;
			} else {
				off += 8;
			}
		}
		check(n == (u32)cpus, 12, "MP table processor count");
	}

	if (arg(cmd, "mod") >= 0) {
		const u32 *mod = (const u32 *)mbi->mods_addr;

		check((mbi->flags & 8) && mbi->mods_count == 1, 13, "no module");
		check(!(mod[0] & 0xfff) && mod[1] - mod[0] >= 6 &&
		      memeq((void *)mod[0], "HVXMOD", 6), 13, "module data");
	}

	if (arg(cmd, "s3") > 0 && fadt_s3)
		s3_sleep(fadt_s3, (u32)arg(cmd, "s3"), (u32)cpus, (u32)mem);
	puts("mbkernel: all checks passed: cpus=");
	putu((u32)cpus);
	puts(" mem=");
	putu((u32)mem);
	puts("\n");
	done(PASS_CODE);
}
