// SPDX-License-Identifier: GPL-2.0
/*
 * boot.c - put a kernel into guest RAM and say where vCPU 0 starts.
 *
 * Three formats, recognized in this order:
 *   --flat ADDR      the file, byte for byte, at ADDR; 32-bit entry at ADDR
 *   Linux bzImage    "HdrS" at 0x202 (Documentation/x86/boot.rst); the
 *                    32-bit or the 64-bit boot protocol
 *   multiboot (v1)   a header with magic 0x1BADB002 in the first 8 KiB
 *                    (Multiboot Specification 0.6.96, section 3): ELF32 or
 *                    ELF64 segments at their physical addresses, or the
 *                    header's own addresses (flag 16)
 * Any other file is refused with one line, before a VM is created.
 *
 * The launcher's own data (boot GDT, command line, zero page or multiboot
 * information, page tables) sits at fixed addresses from GPA_GDT for the
 * first two formats. For a multiboot kernel it is placed after the
 * kernel's segments are loaded, at the lowest page-aligned address where
 * it overlaps none of them: the segments may go anywhere in RAM but the
 * firmware region [GPA_EBDA, GPA_BIOS_END).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvx-run.h"

/* What the launcher keeps in low memory for a bzImage or a flat binary. */
#define BOOT_DATA_START	GPA_GDT
#define BOOT_DATA_END	(GPA_CMDLINE + CMDLINE_MAX)

/*
 * Multiboot: the launcher's data, from a base chosen by place_mb_data():
 * GDT, then the information structure with the module list, memory map
 * and loader name in its page, then the command line.
 */
#define MB_DATA_GDT		0x0
#define MB_DATA_INFO		0x1000
#define MB_DATA_MODS		(MB_DATA_INFO + 0x400)
#define MB_DATA_MMAP		(MB_DATA_INFO + 0x800)
#define MB_DATA_NAME		(MB_DATA_INFO + 0xf00)
#define MB_DATA_CMDLINE		0x2000
#define MB_DATA_SIZE		(MB_DATA_CMDLINE + CMDLINE_MAX)

/* Ranges place() filled, for place_mb_data(); and whether the fixed
 * boot data is in use (false while loading a multiboot kernel).
 */
#define MAX_PLACED	64
static struct { uint64_t lo, hi; } placed[MAX_PLACED];
static int nplaced;
static bool fixed_boot_data = true;

struct file {
	const char *name;
	uint8_t *data;
	uint64_t size;
};

/* ------------------------------------------------------------------ */
/* Guest RAM: shared by hvx-run and the KVM loader of the benchmark
 * (userspace/bench/kvm_boot.c), so both give a guest the same memory.
 */

/* The host address of [gpa, gpa + len) in guest RAM, or NULL. */
void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= vm->low_size)
		return vm->ram + gpa;
	if (gpa >= GPA_4G && gpa + len <= GPA_4G + vm->high_size)
		return vm->ram + vm->low_size + (gpa - GPA_4G);
	return NULL;
}

/* Map vm->opt.mem bytes of guest RAM: low_size below LOW_RAM_MAX, the rest
 * from 4 GiB.
 */
void alloc_ram(struct vm *vm)
{
	const struct options *o = &vm->opt;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	vm->low_size = o->mem < LOW_RAM_MAX ? o->mem : LOW_RAM_MAX;
	vm->high_size = o->mem - vm->low_size;
	vm->ram_size = o->mem;
	if (o->hugepages) {
		/* Whole 2 MiB pages; the slots use only o->mem of them. */
		vm->ram_size = (o->mem + 2 * MiB - 1) & ~(2 * MiB - 1);
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	}
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (vm->ram == MAP_FAILED) {
		if (o->hugepages)
			die("--hugepages: cannot map %" PRIu64 " MiB of 2 MiB huge pages: %s (see /proc/sys/vm/nr_hugepages)",
			    vm->ram_size >> 20, strerror(errno));
		die("cannot map %" PRIu64 " MiB of guest RAM: %s",
		    vm->ram_size >> 20, strerror(errno));
	}
	if (!o->hugepages)
		madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE);
}

static void read_file(struct vm *vm, const char *name, const char *what,
		      struct file *f)
{
	struct stat st;
	uint64_t done = 0;
	int fd;

	f->name = name;
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s %s: %s", what, name, strerror(errno));
	if (fstat(fd, &st))
		die("%s %s: %s", what, name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("%s %s: not a regular file", what, name);
	f->size = (uint64_t)st.st_size;
	if (f->size > vm->opt.mem)
		die("%s %s (%" PRIu64 " MiB) is too large for the guest RAM (%" PRIu64 " MiB): use a larger --mem",
		    what, name, f->size >> 20, vm->opt.mem >> 20);
	f->data = malloc(f->size ? f->size : 1);
	if (!f->data)
		die("%s %s: out of memory", what, name);
	while (done < f->size) {
		ssize_t n = read(fd, f->data + done, f->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s %s: %s", what, name, n ? strerror(errno) : "file shrank while reading");
		done += (uint64_t)n;
	}
	close(fd);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/*
 * Copy len bytes to guest RAM at gpa and zero the next zero_len bytes.
 * what names the thing in the error message.
 */
static void place(struct vm *vm, const char *what, uint64_t gpa,
		  const void *src, uint64_t len, uint64_t zero_len)
{
	uint64_t total = len + zero_len;
	uint8_t *dst;

	dst = (total < len || gpa + total < gpa) ? NULL : gpa_ptr(vm, gpa, total);
	if (!dst)
		die("%s: 0x%" PRIx64 "-0x%" PRIx64 " is outside the guest RAM (%" PRIu64 " MiB): use a larger --mem or another address",
		    what, gpa, gpa + total, vm->opt.mem >> 20);
	if (fixed_boot_data && gpa < BOOT_DATA_END && gpa + total > BOOT_DATA_START)
		die("%s: 0x%" PRIx64 "-0x%" PRIx64 " overlaps the launcher's boot data at 0x%llx-0x%llx",
		    what, gpa, gpa + total, BOOT_DATA_START, BOOT_DATA_END);
	if (gpa < GPA_BIOS_END && gpa + total > GPA_EBDA)
		die("%s: 0x%" PRIx64 "-0x%" PRIx64 " overlaps the firmware region at 0x%llx-0x%llx",
		    what, gpa, gpa + total, GPA_EBDA, GPA_BIOS_END);
	if (nplaced == MAX_PLACED)
		die("%s: more than %d pieces to load", what, MAX_PLACED);
	placed[nplaced].lo = gpa;
	placed[nplaced].hi = gpa + total;
	nplaced++;
	memcpy(dst, src, len);
	memset(dst + len, 0, zero_len);
}

static void write_cmdline(struct vm *vm, uint64_t max, uint64_t gpa)
{
	size_t len = strlen(vm->opt.append);

	if (len > max)
		die("--append: the command line is %zu bytes, the kernel takes at most %" PRIu64,
		    len, max);
	memcpy(gpa_ptr(vm, gpa, len + 1), vm->opt.append, len + 1);
}

/* ------------------------------------------------------------------ */
/* Flat binary */

static void load_flat(struct vm *vm, struct file *k, struct boot_state *bs)
{
	char what[300];

	snprintf(what, sizeof(what), "kernel %s", k->name);
	place(vm, what, vm->opt.flat_addr, k->data, k->size, 0);
	if (vm->opt.flat_addr >= GPA_4G)
		die("--flat: 0x%" PRIx64 " is above 4 GiB: the 32-bit entry cannot reach it",
		    vm->opt.flat_addr);
	bs->mode = 32;
	bs->rip = vm->opt.flat_addr;
	bs->rsp = 0x8000;
	snprintf(bs->desc, sizeof(bs->desc), "flat binary at 0x%" PRIx64, bs->rip);
}

/* ------------------------------------------------------------------ */
/* Linux bzImage, Documentation/x86/boot.rst */

#define HDR_SETUP_SECTS		0x1f1
#define HDR_VID_MODE		0x1fa
#define HDR_HEADER		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01

static bool is_bzimage(const struct file *k)
{
	return k->size >= 0x270 && !memcmp(k->data + HDR_HEADER, "HdrS", 4);
}

/* Page tables mapping the low 4 GiB 1:1 with 2 MiB pages. */
static uint64_t build_identity_map(struct vm *vm)
{
	uint64_t *pml4 = gpa_ptr(vm, GPA_PML4, 6 * 4096);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pdpt + 512;

	memset(pml4, 0, 6 * 4096);
	pml4[0] = (GPA_PML4 + 0x1000) | 0x3;		/* present, writable */
	for (int i = 0; i < 4; i++)
		pdpt[i] = (GPA_PML4 + 0x2000 + i * 0x1000ull) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;		/* present, writable, 2 MiB */
	return GPA_PML4;
}

static void load_bzimage(struct vm *vm, struct file *k, struct boot_state *bs,
			 uint64_t rsdp)
{
	uint8_t *h = k->data, *bp;
	uint16_t version = get16(h + HDR_VERSION);
	unsigned int setup_sects = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;
	uint64_t setup_size = (setup_sects + 1) * 512ull;
	uint64_t pm_size, load, init_size, align, kend, max;
	bool reloc, can64;
	struct e820 map[E820_MAX];
	char what[300];
	int n, hdr_end;

	if (version < 0x206)
		die("kernel %s: boot protocol %u.%02u is too old (hvx-run needs 2.06 or later)",
		    k->name, version >> 8, version & 0xff);
	if (!(h[HDR_LOADFLAGS] & LOADED_HIGH))
		die("kernel %s: a zImage (not loaded high) is not supported", k->name);
	if (setup_size >= k->size)
		die("kernel %s: truncated bzImage (setup code runs past the end)", k->name);
	pm_size = k->size - setup_size;
	reloc = version >= 0x205 && h[HDR_RELOCATABLE];
	can64 = version >= 0x20c && (get16(h + HDR_XLOADFLAGS) & XLF_KERNEL_64);
	init_size = version >= 0x20a ? get32(h + HDR_INIT_SIZE) : 0;
	if (init_size < pm_size)
		init_size = pm_size * 4;	/* old kernels: a guess with room */

	/* Where the protected-mode kernel goes. */
	load = get32(h + HDR_CODE32_START);
	if (reloc) {
		align = get32(h + HDR_KERNEL_ALIGNMENT);
		if (!align || (align & (align - 1)))
			align = 2 * MiB;
		load = version >= 0x20a ? get64(h + HDR_PREF_ADDRESS) : load;
		if (load < GPA_HIGH || load + init_size > vm->low_size)
			load = (GPA_HIGH + align - 1) & ~(align - 1);
	}
	if (load < GPA_HIGH)
		die("kernel %s: wants to be loaded at 0x%" PRIx64 ", below 1 MiB", k->name, load);
	if (load + init_size > vm->low_size)
		die("kernel %s needs %" PRIu64 " MiB of RAM from 0x%" PRIx64 " but the guest has %" PRIu64 " MiB: use a larger --mem",
		    k->name, (init_size + MiB - 1) >> 20, load, vm->opt.mem >> 20);
	snprintf(what, sizeof(what), "kernel %s", k->name);
	place(vm, what, load, h + setup_size, pm_size, 0);
	kend = load + init_size;

	/* The zero page: the file's setup header, then what the loader fills. */
	bp = gpa_ptr(vm, GPA_BOOT_PARAMS, 4096);
	memset(bp, 0, 4096);
	hdr_end = HDR_HEADER + h[0x201];
	if (hdr_end > 0x290 || (uint64_t)hdr_end > k->size)
		hdr_end = 0x290;
	memcpy(bp + HDR_SETUP_SECTS, h + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	put16(bp + HDR_VID_MODE, 0xffff);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	put16(bp + HDR_HEAP_END_PTR, 0xfe00);
	put32(bp + HDR_CODE32_START, (uint32_t)load);
	put32(bp + HDR_CMD_LINE_PTR, (uint32_t)GPA_CMDLINE);
	write_cmdline(vm, get32(h + HDR_CMDLINE_SIZE) < CMDLINE_MAX ?
		      get32(h + HDR_CMDLINE_SIZE) : CMDLINE_MAX - 1, GPA_CMDLINE);

	if (vm->opt.initrd) {
		struct file rd;
		uint64_t addr;

		read_file(vm, vm->opt.initrd, "initrd", &rd);
		max = get32(h + HDR_INITRD_ADDR_MAX);
		if (version < 0x203 || !max)
			max = 0x37ffffff;
		max = max + 1 < vm->low_size ? max + 1 : vm->low_size;
		addr = max >= rd.size ? (max - rd.size) & ~0xfffull : 0;
		if (addr < kend)
			die("initrd %s (%" PRIu64 " MiB) does not fit in the guest RAM above the kernel (%" PRIu64 " MiB free below 0x%" PRIx64 "): use a larger --mem",
			    rd.name, (rd.size + MiB - 1) >> 20,
			    max > kend ? (max - kend) >> 20 : 0, max);
		snprintf(what, sizeof(what), "initrd %s", rd.name);
		place(vm, what, addr, rd.data, rd.size, 0);
		put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
		put32(bp + HDR_RAMDISK_SIZE, (uint32_t)rd.size);
		put32(bp + BP_EXT_RAMDISK_IMAGE, 0);
		put32(bp + BP_EXT_RAMDISK_SIZE, 0);
		free(rd.data);
	}

	n = build_e820(vm, map);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		put64(e, map[i].addr);
		put64(e + 8, map[i].size);
		put32(e + 16, map[i].type);
	}
	if (version >= 0x20e)
		put64(bp + BP_ACPI_RSDP_ADDR, rsdp);

	if (vm->opt.entry == 64 && !can64)
		die("kernel %s has no 64-bit entry point (boot protocol %u.%02u, xloadflags): use --entry 32",
		    k->name, version >> 8, version & 0xff);
	bs->is_linux = true;
	bs->mode = (vm->opt.entry == 64 || (!vm->opt.entry && can64)) ? 64 : 32;
	bs->rsi = GPA_BOOT_PARAMS;
	bs->rsp = GPA_BOOT_PARAMS;	/* scratch below the zero page */
	if (bs->mode == 64) {
		bs->rip = load + 0x200;
		bs->cr3 = build_identity_map(vm);
	} else {
		bs->rip = load;
	}
	snprintf(bs->desc, sizeof(bs->desc),
		 "Linux bzImage, boot protocol %u.%02u, %s entry at 0x%" PRIx64,
		 version >> 8, version & 0xff, bs->mode == 64 ? "64-bit" : "32-bit",
		 bs->rip);
}

/* ------------------------------------------------------------------ */
/* Multiboot (v1), Multiboot Specification 0.6.96 */

#define MB_MAGIC		0x1badb002u
#define MB_BOOT_MAGIC		0x2badb002u
#define MB_SEARCH		8192
#define MB_PAGE_ALIGN		(1u << 0)
#define MB_MEMORY_INFO		(1u << 1)
#define MB_AOUT_KLUDGE		(1u << 16)
#define MB_INFO_MEMORY		(1u << 0)
#define MB_INFO_CMDLINE		(1u << 2)
#define MB_INFO_MODS		(1u << 3)
#define MB_INFO_MMAP		(1u << 6)
#define MB_INFO_LOADER_NAME	(1u << 9)

/* Offset of the multiboot header, or -1. */
static long find_multiboot(const struct file *k)
{
	uint64_t end = k->size < MB_SEARCH ? k->size : MB_SEARCH;

	for (uint64_t off = 0; off + 12 <= end; off += 4) {
		const uint8_t *p = k->data + off;

		if (get32(p) == MB_MAGIC &&
		    (uint32_t)(get32(p) + get32(p + 4) + get32(p + 8)) == 0)
			return (long)off;
	}
	return -1;
}

/* Load the PT_LOAD segments of an ELF32 or ELF64 file; returns the end. */
static uint64_t load_elf(struct vm *vm, struct file *k, uint64_t *entry)
{
	const uint8_t *d = k->data;
	bool is64 = d[EI_CLASS] == ELFCLASS64;
	uint64_t phoff, phentsize, phnum, end = 0;
	char what[320];

	if (k->size < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)) ||
	    (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64) ||
	    d[EI_DATA] != ELFDATA2LSB)
		die("kernel %s: not a little-endian ELF32/ELF64 file", k->name);
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)d;

		phoff = eh->e_phoff;
		phentsize = eh->e_phentsize;
		phnum = eh->e_phnum;
		*entry = eh->e_entry;
	} else {
		const Elf32_Ehdr *eh = (const void *)d;

		phoff = eh->e_phoff;
		phentsize = eh->e_phentsize;
		phnum = eh->e_phnum;
		*entry = eh->e_entry;
	}
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    phoff > k->size || phnum * phentsize > k->size - phoff)
		die("kernel %s: bad ELF program headers", k->name);
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *p = d + phoff + i * phentsize;
		uint64_t type, off, pa, fsz, msz;

		if (is64) {
			const Elf64_Phdr *ph = (const void *)p;

			type = ph->p_type; off = ph->p_offset; pa = ph->p_paddr;
			fsz = ph->p_filesz; msz = ph->p_memsz;
		} else {
			const Elf32_Phdr *ph = (const void *)p;

			type = ph->p_type; off = ph->p_offset; pa = ph->p_paddr;
			fsz = ph->p_filesz; msz = ph->p_memsz;
		}
		if (type != PT_LOAD || !msz)
			continue;
		if (fsz > msz || off > k->size || fsz > k->size - off)
			die("kernel %s: ELF segment %" PRIu64 " runs past the end of the file",
			    k->name, i);
		snprintf(what, sizeof(what), "kernel %s segment %" PRIu64, k->name, i);
		place(vm, what, pa, d + off, fsz, msz - fsz);
		if (pa + msz > end)
			end = pa + msz;
	}
	if (!end)
		die("kernel %s: ELF file without loadable segments", k->name);
	return end;
}

/* Does [lo, hi) overlap what place() filled or the firmware region? */
static bool range_taken(uint64_t lo, uint64_t hi)
{
	if (lo < GPA_BIOS_END && hi > GPA_EBDA)
		return true;
	for (int i = 0; i < nplaced; i++)
		if (lo < placed[i].hi && hi > placed[i].lo)
			return true;
	return false;
}

/*
 * The base of the multiboot boot data: GPA_GDT if free, else the lowest
 * page after a loaded piece where MB_DATA_SIZE bytes of low RAM are free
 * (below 4 GiB, as the information structure holds 32-bit addresses).
 */
static uint64_t place_mb_data(struct vm *vm, const struct file *k)
{
	uint64_t best = 0;

	if (!range_taken(GPA_GDT, GPA_GDT + MB_DATA_SIZE))
		return GPA_GDT;
	for (int i = 0; i < nplaced; i++) {
		uint64_t b = (placed[i].hi + 4095) & ~4095ull;

		if (b + MB_DATA_SIZE <= vm->low_size &&
		    !range_taken(b, b + MB_DATA_SIZE) && (!best || b < best))
			best = b;
	}
	if (!best && !range_taken(GPA_BIOS_END, GPA_BIOS_END + MB_DATA_SIZE) &&
	    GPA_BIOS_END + MB_DATA_SIZE <= vm->low_size)
		best = GPA_BIOS_END;
	if (!best)
		die("kernel %s: no room left in the guest RAM for the multiboot information (%llu KiB): use a larger --mem",
		    k->name, MB_DATA_SIZE >> 10);
	return best;
}

static void load_multiboot(struct vm *vm, struct file *k, long hoff,
			   struct boot_state *bs)
{
	const uint8_t *mh = k->data + hoff;
	uint32_t flags = get32(mh + 4);
	struct e820 map[E820_MAX];
	uint64_t entry, end, base, mod_lo = 0, mod_hi = 0;
	uint8_t *mbi, *mmap;
	char what[300];
	int n;

	if (flags & 0xfffc)
		die("kernel %s: its multiboot header asks for features hvx-run does not have (flags 0x%x; supported: memory info, page alignment, load addresses)",
		    k->name, flags);
	fixed_boot_data = false;
	if (flags & MB_AOUT_KLUDGE) {
		uint32_t header_addr = get32(mh + 12), load_addr = get32(mh + 16);
		uint32_t load_end = get32(mh + 20), bss_end = get32(mh + 24);
		uint64_t off, len;

		if ((uint64_t)hoff + 32 > k->size || header_addr < load_addr ||
		    header_addr - load_addr > (uint64_t)hoff)
			die("kernel %s: bad multiboot load addresses", k->name);
		off = (uint64_t)hoff - (header_addr - load_addr);
		len = load_end ? (uint64_t)load_end - load_addr : k->size - off;
		if (load_end && (load_end < load_addr || len > k->size - off))
			die("kernel %s: bad multiboot load addresses", k->name);
		end = load_addr + len;
		snprintf(what, sizeof(what), "kernel %s", k->name);
		place(vm, what, load_addr, k->data + off, len,
		      bss_end > end ? bss_end - end : 0);
		if (bss_end > end)
			end = bss_end;
		entry = get32(mh + 28);
	} else {
		if (k->size < 4 || memcmp(k->data, ELFMAG, SELFMAG))
			die("kernel %s: multiboot header without load addresses, and not an ELF file",
			    k->name);
		end = load_elf(vm, k, &entry);
	}
	if (entry >= GPA_4G)
		die("kernel %s: entry point 0x%" PRIx64 " above 4 GiB", k->name, entry);

	if (vm->opt.initrd) {
		struct file rd;
		uint64_t addr = (end + 4095) & ~4095ull;

		read_file(vm, vm->opt.initrd, "initrd", &rd);
		if (addr + rd.size > vm->low_size)
			die("initrd %s (%" PRIu64 " MiB) does not fit in the guest RAM after the kernel: use a larger --mem",
			    rd.name, (rd.size + MiB - 1) >> 20);
		snprintf(what, sizeof(what), "initrd %s", rd.name);
		place(vm, what, addr, rd.data, rd.size, 0);
		mod_lo = addr;
		mod_hi = addr + rd.size;
		free(rd.data);
	}
	base = place_mb_data(vm, k);
	bs->gdt = base + MB_DATA_GDT;
	mbi = gpa_ptr(vm, base + MB_DATA_INFO, 0x1000);
	mmap = mbi + (MB_DATA_MMAP - MB_DATA_INFO);
	memset(mbi, 0, 0x1000);
	put32(mbi, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME);
	put32(mbi + 4, (uint32_t)(GPA_EBDA / 1024));
	put32(mbi + 8, (uint32_t)((vm->low_size - GPA_HIGH) / 1024));
	write_cmdline(vm, CMDLINE_MAX - 1, base + MB_DATA_CMDLINE);
	put32(mbi + 16, (uint32_t)(base + MB_DATA_CMDLINE));
	if (vm->opt.initrd) {
		uint8_t *mod = mbi + (MB_DATA_MODS - MB_DATA_INFO);

		put32(mod, (uint32_t)mod_lo);
		put32(mod + 4, (uint32_t)mod_hi);
		put32(mod + 8, 0);
		mbi[0] |= MB_INFO_MODS;
		put32(mbi + 20, 1);
		put32(mbi + 24, (uint32_t)(base + MB_DATA_MODS));
	}
	n = build_e820(vm, map);
	for (int i = 0; i < n; i++) {
		uint8_t *e = mmap + 24 * i;

		put32(e, 20);
		put64(e + 4, map[i].addr);
		put64(e + 12, map[i].size);
		put32(e + 20, map[i].type);
	}
	put32(mbi + 44, (uint32_t)(24 * n));
	put32(mbi + 48, (uint32_t)(base + MB_DATA_MMAP));
	memcpy(mbi + (MB_DATA_NAME - MB_DATA_INFO), "hvx-run", 8);
	put32(mbi + 64, (uint32_t)(base + MB_DATA_NAME));

	bs->mode = 32;
	bs->rip = entry;
	bs->rsp = 0x8000;
	bs->rax = MB_BOOT_MAGIC;
	bs->rbx = base + MB_DATA_INFO;
	snprintf(bs->desc, sizeof(bs->desc), "multiboot kernel, entry at 0x%" PRIx64,
		 entry);
}

/* ------------------------------------------------------------------ */

/* Boot GDT: null, null, 0x10 code, 0x18 data (the boot protocol's). */
static void write_boot_gdt(struct vm *vm, int mode, uint64_t gpa)
{
	uint64_t *gdt = gpa_ptr(vm, gpa, 4 * 8);

	gdt[0] = 0;
	gdt[1] = 0;
	/* base 0, limit 0xfffff pages; 0x10 code (L for 64-bit), 0x18 data */
	gdt[2] = mode == 64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull;
	gdt[3] = 0x00cf93000000ffffull;
}

void load_kernel(struct vm *vm, struct boot_state *bs)
{
	struct file k;
	uint64_t rsdp;
	long mb;

	memset(bs, 0, sizeof(*bs));
	bs->gdt = GPA_GDT;
	nplaced = 0;
	fixed_boot_data = true;
	read_file(vm, vm->opt.kernel, "kernel", &k);
	rsdp = build_tables(vm);
	mb = find_multiboot(&k);
	if (vm->opt.flat) {
		load_flat(vm, &k, bs);
	} else if (is_bzimage(&k)) {
		load_bzimage(vm, &k, bs, rsdp);
	} else if (mb >= 0) {
		load_multiboot(vm, &k, mb, bs);
	} else if (k.size >= 4 && !memcmp(k.data, ELFMAG, SELFMAG)) {
		die("kernel %s: an ELF file without a multiboot header (hvx-run boots multiboot ELF kernels)",
		    k.name);
	} else {
		die("kernel %s: not a Linux bzImage or multiboot ELF (use --flat ADDR for a flat binary)",
		    k.name);
	}
	free(k.data);
	write_boot_gdt(vm, bs->mode, bs->gdt);
}
