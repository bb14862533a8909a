// SPDX-License-Identifier: GPL-2.0
/*
 * mem_test - memory virtualization: guest RAM round trips, accesses
 * outside every slot, read-only slots, slots moved, resized and deleted
 * while the guest runs, the dirty log (EPT A/D flags and write
 * protection), large EPT leaves over THP and hugetlbfs, slot churn
 * without leaked pins or tables, guest memory following the VMM's
 * mappings (munmap, MAP_FIXED, MADV_DONTNEED, mprotect), and the memory
 * and module limits.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

/* Operations the guest performs, one per HVX_RUN, then GUEST_SYNC(op). */
#define MEM_OP_DONE		0
#define MEM_OP_WRITE_PATTERN	1	/* every u64 of [gpa, gpa + size) = addr ^ seed */
#define MEM_OP_CHECK_PATTERN	2	/* assert that pattern */
#define MEM_OP_READ_LIST	3	/* GUEST_SYNC_ARGS(addr, value) per addrs[] */
#define MEM_OP_WRITE_LIST	4	/* *addrs[i] = addrs[i] ^ seed */
#define MEM_OP_TOUCH		5	/* read one u64 every stride bytes of the range */
#define MEM_OP_SPIN		6	/* read gpa and count spins until it reads 0 */
#define MEM_OP_MAP_HIGH		7	/* map VA 4 GiB -> GPA gpa (2 MiB guest page), read it */
#define MEM_OP_READ_ONE		8	/* GUEST_SYNC_ARGS(gpa, *gpa) */

#define MEM_MAX_ADDRS		64

/* Where the guest's extra page mapping lives (VA), see MEM_OP_MAP_HIGH. */
#define MEM_HIGH_VA		(4ull << 30)

struct mem_args {
	uint64_t op;
	uint64_t gpa;
	uint64_t size;
	uint64_t stride;
	uint64_t seed;
	uint64_t n;
	uint64_t addrs[MEM_MAX_ADDRS];
	uint64_t spins;		/* out: MEM_OP_SPIN iterations so far */
};

extern struct mem_args mem_args;

void guest_mem(uint64_t unused);

/* Guest code. */

struct mem_args mem_args;

/* A page directory for MEM_OP_MAP_HIGH (guest page tables live in RAM). */
static uint64_t high_pd[512] __attribute__((aligned(4096)));

GUEST_CODE
static void write_pattern(uint64_t gpa, uint64_t size, uint64_t seed)
{
	for (uint64_t a = gpa; a < gpa + size; a += 8)
		*(volatile uint64_t *)a = a ^ seed;
}

GUEST_CODE
static void check_pattern(uint64_t gpa, uint64_t size, uint64_t seed)
{
	for (uint64_t a = gpa; a < gpa + size; a += 8)
		GUEST_ASSERT_EQ(a ^ seed, *(volatile uint64_t *)a);
}

GUEST_CODE
static void map_high(uint64_t gpa)
{
	volatile uint64_t *pdpt = (volatile uint64_t *)GPA_PDPT;
	uint64_t cr3;

	high_pd[0] = (gpa & ~0x1fffffull) | 0x83;	/* P, RW, PS: 2 MiB */
	pdpt[MEM_HIGH_VA >> 30] = (uint64_t)high_pd | 0x3;
	asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
	GUEST_SYNC_ARGS(gpa, *(volatile uint64_t *)(MEM_HIGH_VA + (gpa & 0x1fffff)),
			0, 0);
}

GUEST_CODE
void guest_mem(uint64_t unused)
{
	volatile struct mem_args *a = &mem_args;

	(void)unused;
	for (;;) {
		uint64_t op = a->op;

		switch (op) {
		case MEM_OP_DONE:
			GUEST_DONE();
			break;
		case MEM_OP_WRITE_PATTERN:
			write_pattern(a->gpa, a->size, a->seed);
			break;
		case MEM_OP_CHECK_PATTERN:
			check_pattern(a->gpa, a->size, a->seed);
			break;
		case MEM_OP_READ_LIST:
			for (uint64_t i = 0; i < a->n; i++)
				GUEST_SYNC_ARGS(a->addrs[i],
						*(volatile uint64_t *)a->addrs[i],
						i, 0);
			break;
		case MEM_OP_WRITE_LIST:
			for (uint64_t i = 0; i < a->n; i++)
				*(volatile uint64_t *)a->addrs[i] =
					a->addrs[i] ^ a->seed;
			break;
		case MEM_OP_TOUCH:
			for (uint64_t p = a->gpa; p < a->gpa + a->size; p += a->stride)
				(void)*(volatile uint64_t *)p;
			break;
		case MEM_OP_SPIN:
			while (*(volatile uint64_t *)a->gpa)
				a->spins++;
			break;
		case MEM_OP_MAP_HIGH:
			map_high(a->gpa);
			break;
		case MEM_OP_READ_ONE:
			GUEST_SYNC_ARGS(a->gpa, *(volatile uint64_t *)a->gpa, 0, 0);
			break;
		}
		GUEST_SYNC(op);
	}
}

/* Host code. */

#define SZ_4K		0x1000ull
#define SZ_64K		0x10000ull
#define SZ_2M		0x200000ull
#define SLOT_A		2		/* slots 0 and 1 are the lib's RAM */
#define SLOT_B		3
#define GPA_A		0x10000000ull	/* 256 MiB: above the lib's RAM */
#define GPA_B		0x10200000ull
#define GPA_HUGE	0x20000000ull	/* 512 MiB, 2 MiB-aligned */
#define PARAM_DIR	"/sys/module/hvx/parameters/"

/* ---- helpers -------------------------------------------------------- */

/* Read a module parameter (an integer or Y/N); -1 if it cannot be read. */
static long param_get(const char *name)
{
	char path[128], buf[32] = "";

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	if (read_str(path, buf, sizeof(buf)) || !buf[0])
		return -1;
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return strtol(buf, NULL, 0);
}

static bool param_set(const char *name, long val)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%ld", val);
	return !write_str(path, buf);
}

/* @size bytes of private anonymous memory, not touched yet. */
static void *anon_map(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	LIB_ASSERT(p != MAP_FAILED, "mmap: %m");
	return p;
}

/* Anonymous memory aligned to @align; the mapping is returned in *base. */
static uint8_t *map_aligned(uint64_t size, uint64_t align, void **base,
			    uint64_t *len)
{
	uint8_t *p;

	*len = size + align;
	*base = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIB_ASSERT(*base != MAP_FAILED, "mmap: %m");
	p = (uint8_t *)(((uint64_t)*base + align - 1) & ~(align - 1));
	return p;
}

static void set_op(struct vm *vm, uint64_t op)
{
	guest_var(vm, mem_args).op = op;
}

/* Run one guest operation to its closing GUEST_SYNC(op). */
#define RUN_OP(vcpu, op) do {						\
	set_op((vcpu)->vm, op);						\
	ASSERT_EQ(op, vcpu_run_sync(vcpu));				\
} while (0)

static int set_region(struct vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, void *hva)
{
	return __vm_set_memory_region(vm->fd, slot, flags, gpa, size, hva);
}

static int get_dirty(struct vm *vm, uint32_t slot, uint64_t *bitmap)
{
	struct hvx_dirty_log d = {
		.slot = slot,
		.dirty_bitmap = (uint64_t)bitmap,
	};

	return ioctl(vm->fd, HVX_GET_DIRTY_LOG, &d);
}

/* ---- RAM round trip, and everything outside RAM ---------------------- */

/* The guest writes a pattern over a whole 4 MiB slot; the host reads it
 * back; the host writes another and the guest checks it. */
TEST(pattern_round_trip)
{
	const uint64_t size = 4ull << 20;
	struct hvx_mem_info info;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t *ram;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	ram = anon_map(size);
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, size, ram));

	guest_var(vm, mem_args).gpa = GPA_A;
	guest_var(vm, mem_args).size = size;
	guest_var(vm, mem_args).seed = 0x5eed0000cafe0000ull;
	RUN_OP(vcpu, MEM_OP_WRITE_PATTERN);
	for (uint64_t i = 0; i < size / 8; i++) {
		ASSERT_EQ((GPA_A + i * 8) ^ 0x5eed0000cafe0000ull, ram[i])
			TH_LOG("u64 %llu of the slot", (unsigned long long)i);
	}
	info = vm_mem_info(vm);
	ASSERT_LE(size / SZ_4K, info.pinned_pages);
	ASSERT_EQ(3, info.nr_slots);

	for (uint64_t i = 0; i < size / 8; i++)
		ram[i] = (GPA_A + i * 8) ^ 0x0123456789abcdefull;
	guest_var(vm, mem_args).seed = 0x0123456789abcdefull;
	RUN_OP(vcpu, MEM_OP_CHECK_PATTERN);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(ram, size);
}

/* Expect an MMIO read of 8 bytes at @gpa, answer @data. */
#define EXPECT_MMIO_READ(vcpu, gpa, val) do {				\
	uint64_t __d = (val);						\
	vcpu_run(vcpu);							\
	ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " at GPA 0x%llx",		\
			(unsigned long long)(gpa));			\
	ASSERT_EQ((gpa), (vcpu)->run->mmio.phys_addr);			\
	ASSERT_EQ(0, (vcpu)->run->mmio.is_write);			\
	ASSERT_EQ(8, (vcpu)->run->mmio.len);				\
	memcpy((vcpu)->run->mmio.data, &__d, 8);			\
} while (0)

/*
 * Reads just past each slot, in the hole, at the top of the 4 GiB the guest
 * maps, and through a guest page table pointing above 4 GiB: every one is
 * an MMIO exit with the right GPA and the value userspace gives, never the
 * host memory that lies right after a slot's backing.
 */
TEST(outside_slots_is_mmio)
{
	const uint64_t marker = 0xdeadbeefdeadbeefull;
	uint64_t addrs[6], *backing;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	int n = 0;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	/* 128 KiB of host memory, only the first 64 KiB in the slot. */
	backing = anon_map(2 * SZ_64K);
	for (uint64_t i = 0; i < 2 * SZ_64K / 8; i++)
		backing[i] = marker;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K, backing));

	addrs[n++] = GPA_A + SZ_64K;		/* right after the slot */
	addrs[n++] = GPA_A - 8;			/* right before it */
	addrs[n++] = vm->ram_size;		/* after the lib's RAM */
	addrs[n++] = GPA_LOW_RAM_END;		/* the hole */
	addrs[n++] = GPA_MMIO;
	addrs[n++] = 0xfffffff8ull;		/* top of the guest's map */
	for (int i = 0; i < n; i++)
		guest_var(vm, mem_args).addrs[i] = addrs[i];
	guest_var(vm, mem_args).n = n;
	set_op(vm, MEM_OP_READ_LIST);
	for (int i = 0; i < n; i++) {
		EXPECT_MMIO_READ(vcpu, addrs[i], ~addrs[i]);
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(addrs[i], uc.args[0]);
		ASSERT_EQ(~addrs[i], uc.args[1]);
	}
	ASSERT_EQ(MEM_OP_READ_LIST, vcpu_run_sync(vcpu));

	/* Guest page tables can name any GPA; above 4 GiB is no RAM either. */
	guest_var(vm, mem_args).gpa = (5ull << 30) + 0x1008;
	set_op(vm, MEM_OP_MAP_HIGH);
	EXPECT_MMIO_READ(vcpu, (5ull << 30) + 0x1008, 0x1234);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0x1234, uc.args[1]);
	ASSERT_EQ(MEM_OP_MAP_HIGH, vcpu_run_sync(vcpu));

	/* Host memory next to the slot was never touched. */
	for (uint64_t i = 0; i < 2 * SZ_64K / 8; i++)
		ASSERT_EQ(marker, backing[i]);
	vcpu_free(vcpu);
	vm_free(vm);
	munmap(backing, 2 * SZ_64K);
}

/* Reads of a read-only slot see its memory; writes are MMIO exits that
 * leave it unchanged. */
TEST(readonly_slot)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t *rom;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	rom = anon_map(SZ_64K);
	rom[2] = 0x0badc0de;
	ASSERT_EQ(0, set_region(vm, SLOT_A, HVX_MEM_READONLY, GPA_A, SZ_64K, rom));

	guest_var(vm, mem_args).gpa = GPA_A + 16;
	set_op(vm, MEM_OP_READ_ONE);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0x0badc0de, uc.args[1]);
	ASSERT_EQ(MEM_OP_READ_ONE, vcpu_run_sync(vcpu));

	guest_var(vm, mem_args).addrs[0] = GPA_A + 16;
	guest_var(vm, mem_args).n = 1;
	guest_var(vm, mem_args).seed = 0x77;
	set_op(vm, MEM_OP_WRITE_LIST);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(GPA_A + 16, vcpu->run->mmio.phys_addr);
	ASSERT_EQ(1, vcpu->run->mmio.is_write);
	ASSERT_EQ(0, memcmp(vcpu->run->mmio.data,
			    &(uint64_t){ (GPA_A + 16) ^ 0x77 }, 8));
	ASSERT_EQ(MEM_OP_WRITE_LIST, vcpu_run_sync(vcpu));
	ASSERT_EQ(0x0badc0de, rom[2]);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(rom, SZ_64K);
}

/* ---- Changing slots -------------------------------------------------- */

static uint64_t guest_read(struct __test_metadata *_metadata,
			   struct vcpu *vcpu, uint64_t gpa)
{
	struct ucall uc;

	guest_var(vcpu->vm, mem_args).gpa = gpa;
	set_op(vcpu->vm, MEM_OP_READ_ONE);
	EXPECT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(gpa, uc.args[0]);
	EXPECT_EQ(MEM_OP_READ_ONE, vcpu_run_sync(vcpu));
	return uc.args[1];
}

/* Move, grow, shrink and write-protect a slot between guest accesses; pins
 * carry over a move of the same memory. */
TEST(move_resize_reflag)
{
	struct hvx_mem_info before, after;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t *mem;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(2 * SZ_64K);
	mem[1] = 0x1111;
	mem[SZ_64K / 8 + 1] = 0x2222;
	mem[SZ_64K / 16 + 1] = 0x3333;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K, mem));
	ASSERT_EQ(0x1111, guest_read(_metadata, vcpu, GPA_A + 8));

	/* Move: new GPA, same memory; the old GPA is no RAM any more. */
	before = vm_mem_info(vm);
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_B, SZ_64K, mem));
	after = vm_mem_info(vm);
	ASSERT_EQ(before.pinned_pages, after.pinned_pages);
	ASSERT_EQ(before.nr_slots, after.nr_slots);
	ASSERT_LT(before.ept_flushes, after.ept_flushes);
	ASSERT_EQ(0x1111, guest_read(_metadata, vcpu, GPA_B + 8));
	guest_var(vm, mem_args).gpa = GPA_A + 8;
	set_op(vm, MEM_OP_READ_ONE);
	EXPECT_MMIO_READ(vcpu, GPA_A + 8, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(MEM_OP_READ_ONE, vcpu_run_sync(vcpu));

	/* Grow to 128 KiB: the new half is RAM. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_B, 2 * SZ_64K, mem));
	ASSERT_EQ(0x2222, guest_read(_metadata, vcpu, GPA_B + SZ_64K + 8));
	ASSERT_EQ(before.bytes + SZ_64K, vm_mem_info(vm).bytes);

	/* Shrink to 32 KiB: beyond is MMIO. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_B, SZ_64K / 2, mem));
	guest_var(vm, mem_args).gpa = GPA_B + SZ_64K / 2 + 8;
	set_op(vm, MEM_OP_READ_ONE);
	EXPECT_MMIO_READ(vcpu, GPA_B + SZ_64K / 2 + 8, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(MEM_OP_READ_ONE, vcpu_run_sync(vcpu));
	ASSERT_EQ(0x1111, guest_read(_metadata, vcpu, GPA_B + 8));

	/* Read-only now: a write that worked before is an MMIO exit. */
	guest_var(vm, mem_args).addrs[0] = GPA_B + 8;
	guest_var(vm, mem_args).n = 1;
	guest_var(vm, mem_args).seed = 0;
	RUN_OP(vcpu, MEM_OP_WRITE_LIST);
	ASSERT_EQ(GPA_B + 8, mem[1]);
	ASSERT_EQ(0, set_region(vm, SLOT_A, HVX_MEM_READONLY, GPA_B,
				SZ_64K / 2, mem));
	guest_var(vm, mem_args).seed = 1;
	set_op(vm, MEM_OP_WRITE_LIST);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(1, vcpu->run->mmio.is_write);
	ASSERT_EQ(MEM_OP_WRITE_LIST, vcpu_run_sync(vcpu));
	ASSERT_EQ(GPA_B + 8, mem[1]);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, 2 * SZ_64K);
}

/* Bad requests fail with the documented errno and change nothing. */
TEST(bad_requests_change_nothing)
{
	struct hvx_memory_region r;
	struct hvx_mem_limit lim;
	struct hvx_mem_info ref, now;
	struct vcpu *vcpu;
	struct vm *vm;
	uint8_t *mem;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(4 * SZ_64K);
	((uint64_t *)mem)[1] = 0x4444;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K, mem));
	ASSERT_EQ(0x4444, guest_read(_metadata, vcpu, GPA_A + 8));
	ref = vm_mem_info(vm);

	/* Overlaps: a new slot, and moving slot A onto the lib's RAM. */
	ASSERT_ERRNO(EEXIST, set_region(vm, SLOT_B, 0, GPA_A + SZ_4K, SZ_64K, mem));
	ASSERT_ERRNO(EEXIST, set_region(vm, SLOT_B, 0, GPA_A - SZ_4K, 2 * SZ_4K, mem));
	ASSERT_ERRNO(EEXIST, set_region(vm, SLOT_A, 0, GPA_HOLE_END, SZ_64K, mem));
	/* Misaligned GPA, size, HVA; flags; slot number; reserved. */
	ASSERT_ERRNO(EINVAL, set_region(vm, SLOT_B, 0, GPA_B + 8, SZ_64K, mem));
	ASSERT_ERRNO(EINVAL, set_region(vm, SLOT_B, 0, GPA_B, SZ_64K - 8, mem));
	ASSERT_ERRNO(EINVAL, set_region(vm, SLOT_B, 0, GPA_B, SZ_64K, mem + 8));
	ASSERT_ERRNO(EINVAL, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K + 8, mem));
	ASSERT_ERRNO(EINVAL, set_region(vm, SLOT_B, 1u << 7, GPA_B, SZ_64K, mem));
	ASSERT_ERRNO(EINVAL, set_region(vm, HVX_MAX_MEM_SLOTS, 0, GPA_B, SZ_64K, mem));
	memset(&r, 0, sizeof(r));
	r.slot = SLOT_B;
	r.guest_phys_addr = GPA_B;
	r.memory_size = SZ_64K;
	r.userspace_addr = (uint64_t)mem;
	r.reserved[3] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_MEMORY_REGION, &r));
	/* Unmapped HVA; deleting a missing slot. */
	ASSERT_ERRNO(EFAULT, set_region(vm, SLOT_B, 0, GPA_B, SZ_64K,
					(void *)0x10000));
	ASSERT_ERRNO(ENOENT, set_region(vm, SLOT_B, 0, 0, 0, NULL));

	/* The memory limit. */
	memset(&lim, 0, sizeof(lim));
	lim.max_bytes = ref.bytes + SZ_64K;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_MEM_LIMIT, &lim));
	ASSERT_ERRNO(ENOSPC, set_region(vm, SLOT_B, 0, GPA_B, 2 * SZ_64K, mem));
	ASSERT_ERRNO(ENOSPC, set_region(vm, SLOT_A, 0, GPA_A, 3 * SZ_64K, mem));
	lim.max_bytes = ref.bytes - SZ_4K;
	ASSERT_ERRNO(EBUSY, ioctl(vm->fd, HVX_SET_MEM_LIMIT, &lim));
	lim.max_bytes = ref.bytes + 8;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_MEM_LIMIT, &lim));
	lim.max_bytes = ref.bytes;
	lim.reserved[0] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_MEM_LIMIT, &lim));

	now = vm_mem_info(vm);
	ASSERT_EQ(ref.nr_slots, now.nr_slots);
	ASSERT_EQ(ref.bytes, now.bytes);
	ASSERT_EQ(ref.bytes + SZ_64K, now.limit);
	ASSERT_EQ(0x4444, guest_read(_metadata, vcpu, GPA_A + 8));

	/* Within the limit it works; a limit of 0 lifts it. */
	ASSERT_EQ(0, set_region(vm, SLOT_B, 0, GPA_B, SZ_64K, mem));
	ASSERT_ERRNO(ENOSPC, set_region(vm, SLOT_B, 0, GPA_B, 2 * SZ_64K, mem));
	lim.max_bytes = 0;
	lim.reserved[0] = 0;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_MEM_LIMIT, &lim));
	ASSERT_EQ(0, set_region(vm, SLOT_B, 0, GPA_B, 2 * SZ_64K, mem));

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, 4 * SZ_64K);
}

struct deleter {
	struct vm *vm;
	bool ok;
};

static void *delete_when_spinning(void *arg)
{
	struct deleter *d = arg;

	for (int i = 0; i < 20000; i++) {
		if (__atomic_load_n(&guest_var(d->vm, mem_args).spins,
				    __ATOMIC_RELAXED) > 1000) {
			d->ok = !set_region(d->vm, SLOT_A, 0, 0, 0, NULL);
			return NULL;
		}
		msleep(1);
	}
	return NULL;
}

/* A slot deleted from another thread while the guest reads it in a loop:
 * the next read is an MMIO exit, and the slot's pins are gone. */
TEST(delete_while_running)
{
	struct hvx_mem_info before, after;
	struct deleter d = { 0 };
	struct vcpu *vcpu;
	pthread_t thread;
	uint64_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(SZ_64K);
	mem[0] = 1;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K, mem));
	ASSERT_EQ(1, guest_read(_metadata, vcpu, GPA_A));
	guest_var(vm, mem_args).gpa = GPA_A;
	guest_var(vm, mem_args).spins = 0;
	set_op(vm, MEM_OP_SPIN);
	d.vm = vm;
	ASSERT_EQ(0, pthread_create(&thread, NULL, delete_when_spinning, &d));
	before = vm_mem_info(vm);
	EXPECT_MMIO_READ(vcpu, GPA_A, 0);
	pthread_join(thread, NULL);
	ASSERT_TRUE(d.ok);
	ASSERT_EQ(MEM_OP_SPIN, vcpu_run_sync(vcpu));
	after = vm_mem_info(vm);
	ASSERT_EQ(before.nr_slots - 1, after.nr_slots);
	ASSERT_EQ(before.bytes - SZ_64K, after.bytes);
	ASSERT_EQ(1, mem[0]);
	/* Created again, the slot is RAM again. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, SZ_64K, mem));
	ASSERT_EQ(1, guest_read(_metadata, vcpu, GPA_A));

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, SZ_64K);
}

/* Thousands of slot creations, moves and deletions, with the guest
 * touching the slot each time: no pin or EPT table survives. */
TEST(slot_churn_no_leaks)
{
	const int cycles = 2000;
	struct hvx_mem_info base, now;
	long long pins_before;
	struct vcpu *vcpu;
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	pins_before = host_pins();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(4 * SZ_64K);
	memset(mem, 0x5a, 4 * SZ_64K);
	guest_var(vm, mem_args).stride = SZ_64K / 2;

	for (int i = 0; i < cycles; i++) {
		/* Spread over several 2 MiB and 1 GiB regions. */
		uint64_t gpa = GPA_A + (uint64_t)(i % 5) * SZ_2M +
			       (uint64_t)(i % 3) * (1ull << 30) +
			       (uint64_t)(i % 4) * SZ_4K;
		uint64_t size = SZ_64K * (1 + i % 4);

		ASSERT_EQ(0, set_region(vm, SLOT_A, 0, gpa, size, mem))
			TH_LOG("cycle %d", i);
		if (i % 2) {	/* a move first, every other time */
			gpa += SZ_2M / 2;
			ASSERT_EQ(0, set_region(vm, SLOT_A, 0, gpa, size, mem));
		}
		guest_var(vm, mem_args).gpa = gpa;
		guest_var(vm, mem_args).size = size;
		RUN_OP(vcpu, MEM_OP_TOUCH);
		ASSERT_EQ(0, set_region(vm, SLOT_A, 0, 0, 0, NULL));
		/*
		 * After the first cycle in each of the three GiB the guest's
		 * code, data and page-directory pages are pinned for good.
		 */
		if (i == 2)
			base = vm_mem_info(vm);
	}
	now = vm_mem_info(vm);
	ASSERT_EQ(base.pinned_pages, now.pinned_pages);
	ASSERT_EQ(base.table_pages, now.table_pages);
	ASSERT_EQ(base.leaves_4k, now.leaves_4k);
	ASSERT_EQ(base.nr_slots, now.nr_slots);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, 4 * SZ_64K);
	ASSERT_EQ(pins_before, host_pins());
}

/* ---- Fault-around ----------------------------------------------------- */

/* vCPU 0's statistics of this process's VM. */
static struct hvx_stats own_stats(struct __test_metadata *_metadata)
{
	struct hvx_stats st;

	EXPECT_EQ(0, hvx_nl_own_stats(&st));
	return st;
}

/* The guest reads the u64 at offset 8 of each page in @pages of the slot. */
static void read_pages(struct __test_metadata *_metadata, struct vcpu *vcpu,
		       uint64_t gpa, const int *pages, int n, uint64_t *out)
{
	struct ucall uc;

	for (int i = 0; i < n; i++)
		guest_var(vcpu->vm, mem_args).addrs[i] =
			gpa + pages[i] * SZ_4K + 8;
	guest_var(vcpu->vm, mem_args).n = n;
	set_op(vcpu->vm, MEM_OP_READ_LIST);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		out[i] = uc.args[1];
	}
	ASSERT_EQ(MEM_OP_READ_LIST, vcpu_run_sync(vcpu));
}

#define AROUND_PAGES	16	/* one aligned 64 KiB block */

/*
 * A guest touch of a page that the VMM's address space holds already
 * maps the other pages of its aligned 64 KiB block that the VMM holds,
 * with no EPT violation of their own (ept_maps_around), and the guest
 * reads there what the VMM wrote. Pages the VMM never touched are neither
 * pinned nor mapped by it, and a page the pin had to fault in maps
 * nothing around it. A read-only slot's neighbours are mapped read-only
 * (a write still exits as MMIO); a dirty-logged slot maps none around.
 */
TEST(fault_around)
{
	const uint64_t size = 4 * SZ_64K;
	int all[AROUND_PAGES], some[] = { 16, 18, 19, 24 };
	struct hvx_stats s0, s1;
	struct hvx_mem_info i0, i1;
	uint64_t v[AROUND_PAGES];
	struct vcpu *vcpu;
	uint64_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(size);
	/* Block 0: the VMM wrote every page; block 1: only pages 16-19. */
	for (int i = 0; i < AROUND_PAGES + 4; i++)
		mem[i * SZ_4K / 8 + 1] = 0x1000 + i;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, size, mem));
	(void)guest_read(_metadata, vcpu, GPA_A + 5 * SZ_4K); /* warm up */
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, 0, 0, NULL));
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_A, size, mem));

	/* One fault maps the whole block; the rest of it reads with none. */
	s0 = own_stats(_metadata);
	i0 = vm_mem_info(vm);
	ASSERT_EQ(0x1005, guest_read(_metadata, vcpu, GPA_A + 5 * SZ_4K + 8));
	s1 = own_stats(_metadata);
	i1 = vm_mem_info(vm);
	ASSERT_EQ(1, s1.ept_violations - s0.ept_violations);
	ASSERT_EQ(AROUND_PAGES - 1, s1.ept_maps_around - s0.ept_maps_around);
	ASSERT_EQ(AROUND_PAGES, i1.leaves_4k - i0.leaves_4k);
	ASSERT_EQ(AROUND_PAGES, i1.pinned_pages - i0.pinned_pages);
	for (int i = 0; i < AROUND_PAGES; i++)
		all[i] = i;
	read_pages(_metadata, vcpu, GPA_A, all, AROUND_PAGES, v);
	for (int i = 0; i < AROUND_PAGES; i++) {
		ASSERT_EQ(0x1000 + i, v[i]) TH_LOG("page %d", i);
	}
	s0 = own_stats(_metadata);
	ASSERT_EQ(s1.ept_violations, s0.ept_violations);

	/* Block 1: pages 16-19 only, nothing the VMM never touched. */
	i0 = vm_mem_info(vm);
	ASSERT_EQ(0x1011, guest_read(_metadata, vcpu, GPA_A + 17 * SZ_4K + 8));
	s1 = own_stats(_metadata);
	i1 = vm_mem_info(vm);
	ASSERT_EQ(3, s1.ept_maps_around - s0.ept_maps_around);
	ASSERT_EQ(4, i1.pinned_pages - i0.pinned_pages);
	/* Page 24 is new to both: one fault, one page, nothing around. */
	read_pages(_metadata, vcpu, GPA_A, some, 4, v);
	ASSERT_EQ(0x1010, v[0]);
	ASSERT_EQ(0x1013, v[2]);
	ASSERT_EQ(0, v[3]);
	s0 = own_stats(_metadata);
	i0 = vm_mem_info(vm);
	ASSERT_EQ(1, s0.ept_violations - s1.ept_violations);
	ASSERT_EQ(s1.ept_maps_around, s0.ept_maps_around);
	ASSERT_EQ(1, i0.pinned_pages - i1.pinned_pages);
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, 0, 0, NULL));

	/* Read-only: neighbours readable, a write to one is still MMIO. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, HVX_MEM_READONLY, GPA_A, size, mem));
	s0 = own_stats(_metadata);
	ASSERT_EQ(0x1000, guest_read(_metadata, vcpu, GPA_A + 8));
	ASSERT_EQ(0x1003, guest_read(_metadata, vcpu, GPA_A + 3 * SZ_4K + 8));
	s1 = own_stats(_metadata);
	ASSERT_EQ(1, s1.ept_violations - s0.ept_violations);
	ASSERT_EQ(AROUND_PAGES - 1, s1.ept_maps_around - s0.ept_maps_around);
	guest_var(vm, mem_args).addrs[0] = GPA_A + 3 * SZ_4K + 8;
	guest_var(vm, mem_args).n = 1;
	guest_var(vm, mem_args).seed = 0x77;
	set_op(vm, MEM_OP_WRITE_LIST);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(GPA_A + 3 * SZ_4K + 8, vcpu->run->mmio.phys_addr);
	ASSERT_EQ(MEM_OP_WRITE_LIST, vcpu_run_sync(vcpu));
	ASSERT_EQ(0x1003, mem[3 * SZ_4K / 8 + 1]);
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, 0, 0, NULL));

	/* Dirty logging: every page its own fault, for its own dirty bit. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, HVX_MEM_LOG_DIRTY, GPA_A, size, mem));
	s0 = own_stats(_metadata);
	read_pages(_metadata, vcpu, GPA_A, all, 4, v);
	s1 = own_stats(_metadata);
	ASSERT_EQ(4, s1.ept_violations - s0.ept_violations);
	ASSERT_EQ(s0.ept_maps_around, s1.ept_maps_around);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, size);
}

/* ---- Following the VMM's address space (MMU notifier) --------------- */

/* VmLck of this process, kB: hvx charges its pins to locked_vm. */
static long locked_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	LIB_ASSERT(f, "/proc/self/status: %m");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	LIB_ASSERT(kb >= 0, "no VmLck in /proc/self/status");
	return kb;
}

/* HVX_GET_MEM_INFO (which also settles locked_vm), then VmLck. */
#define EXPECT_PINS(vm, pages, kb) do {					\
	ASSERT_EQ((pages), vm_mem_info(vm).pinned_pages);		\
	ASSERT_EQ((kb), locked_kb());					\
} while (0)

/*
 * The guest sees what the VMM maps at a slot's HVA now, as with KVM: a
 * page unmapped and mapped again with MAP_FIXED and new content, a page
 * dropped with MADV_DONTNEED (zeros); a page with nothing mapped makes
 * HVX_RUN fail with EFAULT until something is mapped there again. An
 * mprotect() round trip changes neither what the guest sees nor the
 * pins, and zaps nothing. Each pin dropped is uncharged from VmLck, and
 * none is left after the VM.
 */
TEST(follows_vmm_mappings)
{
	const uint64_t gpa = GPA_A, size = 4 * SZ_4K;
	struct hvx_mem_info base, info;
	long long pins_before;
	struct vcpu *vcpu;
	uint64_t *mem, *p;
	struct ucall uc;
	struct vm *vm;
	long kb;

	REQUIRE_VMX();
	pins_before = host_pins();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	mem = anon_map(size);
	for (int i = 0; i < 4; i++)
		mem[i * SZ_4K / 8] = 0x1111 * (i + 1);
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, gpa, size, mem));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0x1111 * (i + 1),
			  guest_read(_metadata, vcpu, gpa + i * SZ_4K));
	base = vm_mem_info(vm);
	kb = locked_kb();

	/* (1) Unmapped, then new memory at the same HVA: the guest reads it. */
	ASSERT_EQ(0, munmap(mem, SZ_4K));
	EXPECT_PINS(vm, base.pinned_pages - 1, kb - 4);
	p = mmap(mem, SZ_4K, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(mem, p);
	p[0] = 0xaaaa;
	ASSERT_EQ(0xaaaa, guest_read(_metadata, vcpu, gpa));
	EXPECT_PINS(vm, base.pinned_pages, kb);
	/* Both ways: a guest write lands in the new page. */
	guest_var(vm, mem_args).addrs[0] = gpa + 8;
	guest_var(vm, mem_args).n = 1;
	guest_var(vm, mem_args).seed = 0x77;
	RUN_OP(vcpu, MEM_OP_WRITE_LIST);
	ASSERT_EQ((gpa + 8) ^ 0x77, p[1]);

	/* (2) MADV_DONTNEED of an anonymous page: zeros for both sides. */
	ASSERT_EQ(0, madvise(mem + SZ_4K / 8, SZ_4K, MADV_DONTNEED));
	EXPECT_PINS(vm, base.pinned_pages - 1, kb - 4);
	ASSERT_EQ(0, guest_read(_metadata, vcpu, gpa + SZ_4K));
	ASSERT_EQ(0, mem[SZ_4K / 8]);
	EXPECT_PINS(vm, base.pinned_pages, kb);

	/* (3) A protection round trip: same pages, same pins, no zap. */
	info = vm_mem_info(vm);
	ASSERT_EQ(0, mprotect(mem, size, PROT_READ));
	EXPECT_PINS(vm, base.pinned_pages, kb);
	ASSERT_EQ(0, mprotect(mem, size, PROT_READ | PROT_WRITE));
	EXPECT_PINS(vm, base.pinned_pages, kb);
	ASSERT_EQ(info.ept_flushes, vm_mem_info(vm).ept_flushes);
	ASSERT_EQ(info.leaves_4k, vm_mem_info(vm).leaves_4k);
	ASSERT_EQ(0x3333, guest_read(_metadata, vcpu, gpa + 2 * SZ_4K));
	guest_var(vm, mem_args).addrs[0] = gpa + 2 * SZ_4K + 8;
	RUN_OP(vcpu, MEM_OP_WRITE_LIST);
	ASSERT_EQ((gpa + 2 * SZ_4K + 8) ^ 0x77, mem[2 * SZ_4K / 8 + 1]);

	/* (4) Nothing mapped: EFAULT; mapped again: the access completes. */
	ASSERT_EQ(0, munmap(mem + 3 * SZ_4K / 8, SZ_4K));
	EXPECT_PINS(vm, base.pinned_pages - 1, kb - 4);
	guest_var(vm, mem_args).gpa = gpa + 3 * SZ_4K;
	set_op(vm, MEM_OP_READ_ONE);
	ASSERT_EQ(-1, __vcpu_run(vcpu));
	ASSERT_EQ(EFAULT, errno);
	p = mmap(mem + 3 * SZ_4K / 8, SZ_4K, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(mem + 3 * SZ_4K / 8, p);
	p[0] = 0xdddd;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(gpa + 3 * SZ_4K, uc.args[0]);
	ASSERT_EQ(0xdddd, uc.args[1]);
	ASSERT_EQ(MEM_OP_READ_ONE, vcpu_run_sync(vcpu));
	EXPECT_PINS(vm, base.pinned_pages, kb);

	/* The whole slot unmapped: its pins go at once, the slot stays. */
	ASSERT_EQ(0, munmap(mem, size));
	EXPECT_PINS(vm, base.pinned_pages - 4, kb - 16);
	ASSERT_EQ(base.nr_slots, vm_mem_info(vm).nr_slots);

	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_EQ(pins_before, host_pins());
}

/* ---- Dirty log -------------------------------------------------------- */

FIXTURE(dirty) {
	struct vm *vm;
	struct vcpu *vcpu;
	uint8_t *mem;
	long ad_param;
};

FIXTURE_VARIANT(dirty) {
	bool write_protect;	/* force the fallback: ept_ad=0 */
};

FIXTURE_VARIANT_ADD(dirty, ad_flags) {
	.write_protect = false,
};

FIXTURE_VARIANT_ADD(dirty, write_protect) {
	.write_protect = true,
};

#define DIRTY_PAGES	64

FIXTURE_SETUP(dirty)
{
	long ad = param_get("ept_ad");

	self->ad_param = -1;
	REQUIRE_VMX();
	ASSERT_LE(0, ad);
	if (variant->write_protect) {
		ASSERT_TRUE(param_set("ept_ad", 0));
		self->ad_param = ad;	/* teardown restores it */
	}
	self->vcpu = vm_create_long(&self->vm, guest_mem, 0);
	ASSERT_TRUE(param_set("ept_ad", ad));
	self->mem = anon_map(DIRTY_PAGES * SZ_4K);
	ASSERT_EQ(0, set_region(self->vm, SLOT_A, HVX_MEM_LOG_DIRTY, GPA_A,
				DIRTY_PAGES * SZ_4K, self->mem));
}

FIXTURE_TEARDOWN(dirty)
{
	if (self->ad_param >= 0)
		param_set("ept_ad", self->ad_param);
	vcpu_free(self->vcpu);
	vm_free(self->vm);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, DIRTY_PAGES * SZ_4K);
}

/* The guest writes these pages (indexes into the slot); -1 ends. */
static void guest_write_pages(struct __test_metadata *_metadata,
			      struct vcpu *vcpu, const int *pages)
{
	int n = 0;

	for (; pages[n] >= 0; n++)
		guest_var(vcpu->vm, mem_args).addrs[n] =
			GPA_A + pages[n] * SZ_4K + 8 * n;
	guest_var(vcpu->vm, mem_args).n = n;
	guest_var(vcpu->vm, mem_args).seed = 0x99;
	RUN_OP(vcpu, MEM_OP_WRITE_LIST);
}

static void expect_dirty(struct __test_metadata *_metadata, struct vm *vm,
			 const int *pages)
{
	uint64_t bm[DIRTY_PAGES / 64], want[DIRTY_PAGES / 64] = { 0 };

	for (int i = 0; pages[i] >= 0; i++)
		want[pages[i] / 64] |= 1ull << (pages[i] % 64);
	memset(bm, 0xa5, sizeof(bm));
	ASSERT_EQ(0, get_dirty(vm, SLOT_A, bm));
	for (int w = 0; w < DIRTY_PAGES / 64; w++) {
		ASSERT_EQ(want[w], bm[w]) TH_LOG("bitmap word %d", w);
	}
}

/* The dirty log holds exactly the pages the guest wrote since the last
 * call: not the pages it only read, not the ones written before. */
TEST_F(dirty, exact_pages)
{
	static const int none[] = { -1 };
	static const int set1[] = { 0, 3, 7, 8, 31, 32, 63, -1 };
	static const int set2[] = { 1, 3, 62, -1 };
	int all[DIRTY_PAGES + 1];
	struct hvx_mem_info info;
	struct hvx_stats st;

	if (!self->vm)
		return;	/* setup skipped */
	info = vm_mem_info(self->vm);

	if (!variant->write_protect && !(info.flags & HVX_MEM_INFO_AD))
		SKIP(return, "the CPU has no EPT accessed/dirty flags");
	if (variant->write_protect) {
		ASSERT_EQ(0, info.flags & HVX_MEM_INFO_AD);
	}

	/* Reading every page dirties none. */
	guest_var(self->vm, mem_args).gpa = GPA_A;
	guest_var(self->vm, mem_args).size = DIRTY_PAGES * SZ_4K;
	guest_var(self->vm, mem_args).stride = SZ_4K;
	RUN_OP(self->vcpu, MEM_OP_TOUCH);
	expect_dirty(_metadata, self->vm, none);

	guest_write_pages(_metadata, self->vcpu, set1);
	expect_dirty(_metadata, self->vm, set1);
	guest_write_pages(_metadata, self->vcpu, set2);
	expect_dirty(_metadata, self->vm, set2);
	expect_dirty(_metadata, self->vm, none);

	for (int i = 0; i < DIRTY_PAGES; i++)
		all[i] = i;
	all[DIRTY_PAGES] = -1;
	guest_var(self->vm, mem_args).seed = 0x42;
	RUN_OP(self->vcpu, MEM_OP_WRITE_PATTERN);
	expect_dirty(_metadata, self->vm, all);
	for (uint64_t i = 0; i < DIRTY_PAGES * SZ_4K / 8; i++)
		ASSERT_EQ((GPA_A + i * 8) ^ 0x42, ((uint64_t *)self->mem)[i]);

	/* Write protection shows up as dirty faults in the vCPU statistics. */
	ASSERT_EQ(0, hvx_nl_own_stats(&st));
	if (variant->write_protect) {
		ASSERT_LE(DIRTY_PAGES + 2, st.ept_dirty_faults);
	} else {
		ASSERT_EQ(0, st.ept_dirty_faults);
	}
	ASSERT_EQ(0, st.ept_maps_2m);
}

/* Pages the guest wrote and the VMM then dropped (MADV_DONTNEED) are
 * still in the next dirty log: the zap keeps the EPT dirty flags. */
TEST_F(dirty, unmap_keeps_bits)
{
	static const int none[] = { -1 };
	static const int set[] = { 2, 5, -1 };
	struct hvx_mem_info info;

	if (!self->vm)
		return;	/* setup skipped */
	info = vm_mem_info(self->vm);
	if (!variant->write_protect && !(info.flags & HVX_MEM_INFO_AD))
		SKIP(return, "the CPU has no EPT accessed/dirty flags");
	guest_var(self->vm, mem_args).gpa = GPA_A;
	guest_var(self->vm, mem_args).size = DIRTY_PAGES * SZ_4K;
	guest_var(self->vm, mem_args).stride = SZ_4K;
	RUN_OP(self->vcpu, MEM_OP_TOUCH);
	expect_dirty(_metadata, self->vm, none);

	guest_write_pages(_metadata, self->vcpu, set);
	ASSERT_EQ(0, madvise(self->mem + 2 * SZ_4K, 4 * SZ_4K, MADV_DONTNEED));
	expect_dirty(_metadata, self->vm, set);
	ASSERT_EQ(0, guest_read(_metadata, self->vcpu, GPA_A + 2 * SZ_4K));
	expect_dirty(_metadata, self->vm, none);
}

/* Errors of HVX_GET_DIRTY_LOG; bits survive a failed copy. */
TEST_F(dirty, errors_keep_bits)
{
	static const int page5[] = { 5, -1 };
	struct hvx_dirty_log d = { .slot = SLOT_A };
	uint64_t bm[DIRTY_PAGES / 64];

	if (!self->vm)
		return;	/* setup skipped */

	ASSERT_ERRNO(EINVAL, get_dirty(self->vm, RAM_SLOT_HIGH, bm));
	ASSERT_ERRNO(ENOENT, get_dirty(self->vm, SLOT_B, bm));
	ASSERT_ERRNO(EINVAL, get_dirty(self->vm, HVX_MAX_MEM_SLOTS, bm));
	d.dirty_bitmap = (uint64_t)bm;
	d.padding = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm->fd, HVX_GET_DIRTY_LOG, &d));
	d.padding = 0;
	d.reserved[1] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm->fd, HVX_GET_DIRTY_LOG, &d));

	guest_write_pages(_metadata, self->vcpu, page5);
	ASSERT_ERRNO(EFAULT, get_dirty(self->vm, SLOT_A, (uint64_t *)8));
	expect_dirty(_metadata, self->vm, page5);
}

/* Turning dirty logging on for a slot in use starts an empty log. */
TEST_F(dirty, enable_on_live_slot)
{
	static const int none[] = { -1 };
	static const int page2[] = { 2, -1 };
	static const int page9[] = { 9, -1 };

	if (!self->vm)
		return;	/* setup skipped */

	guest_write_pages(_metadata, self->vcpu, page9);
	ASSERT_EQ(0, set_region(self->vm, SLOT_A, 0, GPA_A,
				DIRTY_PAGES * SZ_4K, self->mem));
	guest_write_pages(_metadata, self->vcpu, page2);
	ASSERT_ERRNO(EINVAL, get_dirty(self->vm, SLOT_A, (uint64_t[1]){ 0 }));
	ASSERT_EQ(0, set_region(self->vm, SLOT_A, HVX_MEM_LOG_DIRTY, GPA_A,
				DIRTY_PAGES * SZ_4K, self->mem));
	expect_dirty(_metadata, self->vm, none);
	guest_write_pages(_metadata, self->vcpu, page2);
	expect_dirty(_metadata, self->vm, page2);
}

/* ---- Large pages ----------------------------------------------------- */

/* kB of AnonHugePages in the mapping that contains @addr, or -1. */
static long anon_huge_kb(void *addr)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	bool in = false;
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's header line ("lo-hi perms ..."); field lines
		 * ("Name:   value") never parse as two numbers. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo <= a && a < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

static bool thp_mode_is_never(void)
{
	char mode[128] = "";
	int fd = open(THP_ENABLED, O_RDONLY);
	int n;

	if (fd < 0)
		return false;
	n = read(fd, mode, sizeof(mode) - 1);
	close(fd);
	return n > 0 && strstr(mode, "[never]");
}

static void thp_set_mode(const char *mode)
{
	int fd = open(THP_ENABLED, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, mode, strlen(mode)) < 0)
			perror(THP_ENABLED);
		close(fd);
	}
}

/*
 * THP-backed RAM, congruent GPA and HVA: 2 MiB leaves, which map the right
 * memory (the guest checks a host-written pattern and the host checks the
 * guest's); the same memory at a GPA offset by 4 KiB gets 4 KiB leaves.
 */
TEST(large_pages_thp)
{
	const uint64_t size = 4 * SZ_2M;
	struct hvx_mem_info info;
	struct hvx_stats st;
	bool thp_never;
	struct vcpu *vcpu;
	uint64_t maplen;
	long huge_kb;
	struct vm *vm;
	uint64_t *mem;
	void *base;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mem, 0);
	if (!(vm_mem_info(vm).flags & HVX_MEM_INFO_2M))
		SKIP(return, "no 2 MiB EPT leaves (CPU or ept_large=0)");
	/*
	 * Linux turns THP off on hosts with less than 512 MiB of RAM (the
	 * emulated one has just that): allow it for madvise()d memory.
	 */
	thp_never = thp_mode_is_never();
	if (thp_never)
		thp_set_mode("madvise");
	mem = (uint64_t *)map_aligned(size, SZ_2M, &base, &maplen);
	if (madvise(mem, size, MADV_HUGEPAGE))
		SKIP(return, "madvise(MADV_HUGEPAGE): %s (no THP in this kernel)",
		     strerror(errno));
	for (uint64_t i = 0; i < size / 8; i++)
		mem[i] = (GPA_HUGE + i * 8) ^ 0x7117;
	huge_kb = anon_huge_kb(mem);
	if (thp_never)
		thp_set_mode("never");
	if (huge_kb <= 0) {
		char mode[128] = "?";
		int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);

		if (fd >= 0) {
			int n = read(fd, mode, sizeof(mode) - 1);

			mode[n > 0 ? n - 1 : 0] = 0;
			close(fd);
		}
		SKIP(return, "the kernel gave no transparent huge page (AnonHugePages %ld kB, THP %s)",
		     huge_kb, mode);
	}

	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_HUGE, size, mem));
	guest_var(vm, mem_args).gpa = GPA_HUGE;
	guest_var(vm, mem_args).size = size;
	guest_var(vm, mem_args).seed = 0x7117;
	RUN_OP(vcpu, MEM_OP_CHECK_PATTERN);
	guest_var(vm, mem_args).seed = 0x2222;
	RUN_OP(vcpu, MEM_OP_WRITE_PATTERN);
	for (uint64_t i = 0; i < size / 8; i++)
		ASSERT_EQ((GPA_HUGE + i * 8) ^ 0x2222, mem[i]);
	info = vm_mem_info(vm);
	ASSERT_EQ(huge_kb / 2048, info.leaves_2m)
		TH_LOG("%ld kB of THP in the mapping", huge_kb);
	ASSERT_EQ(0, hvx_nl_own_stats(&st));
	ASSERT_EQ(huge_kb / 2048, st.ept_maps_2m);

	/* GPA not congruent with the HVA modulo 2 MiB: small leaves only. */
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_HUGE + SZ_4K, size, mem));
	ASSERT_EQ(0, vm_mem_info(vm).leaves_2m);
	guest_var(vm, mem_args).gpa = GPA_HUGE + SZ_4K;
	guest_var(vm, mem_args).stride = SZ_4K;
	RUN_OP(vcpu, MEM_OP_TOUCH);
	info = vm_mem_info(vm);
	ASSERT_EQ(0, info.leaves_2m);
	ASSERT_LE(size / SZ_4K, info.leaves_4k);

	vcpu_free(vcpu);
	vm_free(vm);
	munmap(base, maplen);
}

/* hugetlbfs 2 MiB pages (reserved here if none are): 2 MiB leaves. */
TEST(large_pages_hugetlbfs)
{
	const uint64_t size = 2 * SZ_2M;
	long old_nr = -1, nr;
	struct hvx_mem_info info;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t *mem;
	FILE *f;

	REQUIRE_VMX();
	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	if (!f)
		SKIP(return, "no /proc/sys/vm/nr_hugepages: %s", strerror(errno));
	if (fscanf(f, "%ld", &old_nr) != 1)
		old_nr = -1;
	fclose(f);
	if (old_nr >= 0 && old_nr < 2) {
		f = fopen("/proc/sys/vm/nr_hugepages", "w");
		if (f) {
			fprintf(f, "%ld\n", old_nr + 2);
			fclose(f);
		}
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED) {
		nr = errno;
		SKIP(goto restore, "no 2 MiB hugetlbfs pages: mmap(MAP_HUGETLB): %s",
		     strerror(nr));
	}
	vcpu = vm_create_long(&vm, guest_mem, 0);
	if (!(vm_mem_info(vm).flags & HVX_MEM_INFO_2M)) {
		vcpu_free(vcpu);
		vm_free(vm);
		munmap(mem, size);
		SKIP(goto restore, "no 2 MiB EPT leaves (CPU or ept_large=0)");
	}
	for (uint64_t i = 0; i < size / 8; i++)
		mem[i] = (GPA_HUGE + i * 8) ^ 0x5151;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, GPA_HUGE, size, mem));
	guest_var(vm, mem_args).gpa = GPA_HUGE;
	guest_var(vm, mem_args).size = size;
	guest_var(vm, mem_args).seed = 0x5151;
	RUN_OP(vcpu, MEM_OP_CHECK_PATTERN);
	info = vm_mem_info(vm);
	EXPECT_EQ(2, info.leaves_2m);
	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, size);
restore:
	if (old_nr >= 0 && old_nr < 2) {
		f = fopen("/proc/sys/vm/nr_hugepages", "w");
		if (f) {
			fprintf(f, "%ld\n", old_nr);
			fclose(f);
		}
	}
}

#define NR_1G	"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * A 1 GiB hugetlbfs page: one 1 GiB leaf that maps the right memory. The
 * Bochs host reserves the page at boot (hugepages=1, selftests/vm/lib.sh);
 * elsewhere one is allocated here if the kernel can find a free aligned
 * GiB, and given back afterwards.
 */
TEST(large_pages_1g)
{
	const uint64_t size = 1ull << 30;
	struct hvx_mem_info info;
	struct vcpu *vcpu;
	long old_nr, nr;
	struct vm *vm;
	uint64_t *mem;
	char buf[32];
	int err;

	REQUIRE_VMX();
	old_nr = read_long(NR_1G);
	if (old_nr < 0)
		SKIP(return, "no 1 GiB hugetlbfs page size (%s: %s; CPU without 1 GiB pages?)",
		     NR_1G, strerror(errno));
	if (old_nr == 0) {
		snprintf(buf, sizeof(buf), "%ld\n", old_nr + 1);
		write_str(NR_1G, buf);
	}
	nr = read_long(NR_1G);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		   MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT), -1, 0);
	if (mem == MAP_FAILED) {
		err = errno;
		SKIP(goto restore, "no free 1 GiB page (nr_hugepages %ld, no 1 GiB-aligned free range in host RAM): mmap(MAP_HUGETLB): %s",
		     nr, strerror(err));
	}
	vcpu = vm_create_long(&vm, guest_mem, 0);
	if (!(vm_mem_info(vm).flags & HVX_MEM_INFO_1G)) {
		vcpu_free(vcpu);
		vm_free(vm);
		munmap(mem, size);
		SKIP(goto restore, "no 1 GiB EPT leaves (CPU or ept_large=0)");
	}
	/* Values the guest can only see through the right host page. */
	mem[0x12345] = 0x1616;
	mem[size / 8 - 1] = 0x2727;
	ASSERT_EQ(0, set_region(vm, SLOT_A, 0, 1ull << 30, size, mem));
	ASSERT_EQ(0x1616, guest_read(_metadata, vcpu, (1ull << 30) + 0x12345 * 8));
	ASSERT_EQ(0x2727, guest_read(_metadata, vcpu, (2ull << 30) - 8));
	info = vm_mem_info(vm);
	ASSERT_EQ(1, info.leaves_1g);
	ASSERT_EQ(0, info.leaves_2m);
	vcpu_free(vcpu);
	vm_free(vm);
	munmap(mem, size);
restore:
	if (old_nr == 0)
		write_str(NR_1G, "0\n");
}

/* ---- Module-wide limits ---------------------------------------------- */

TEST(module_limits)
{
	long old_vms = param_get("max_vms"), old_vcpus = param_get("max_vcpus");
	int vm2_err, vcpu2_err, vcpu2_after;
	struct vm *vm, *vm2 = NULL;
	struct vcpu *vcpu, *vcpu2;
	int fd;

	REQUIRE_VMX();
	ASSERT_LE(0, old_vms);
	ASSERT_LE(0, old_vcpus);

	vm = vm_create_bare();
	ASSERT_TRUE(param_set("max_vms", 1));
	fd = ioctl(vm->sys_fd, HVX_CREATE_VM, 0);
	vm2_err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	ASSERT_TRUE(param_set("max_vms", old_vms));
	ASSERT_EQ(ENOSPC, vm2_err);

	vcpu = vcpu_create(vm, 0);
	ASSERT_TRUE(param_set("max_vcpus", 1));
	fd = ioctl(vm->fd, HVX_CREATE_VCPU, 1);
	vcpu2_err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	vcpu_free(vcpu);
	fd = ioctl(vm->fd, HVX_CREATE_VCPU, 1);
	vcpu2_after = fd < 0 ? errno : 0;
	ASSERT_TRUE(param_set("max_vcpus", old_vcpus));
	ASSERT_EQ(ENOSPC, vcpu2_err);
	ASSERT_EQ(0, vcpu2_after);
	close(fd);

	/* Within the limits again. */
	vm2 = vm_create_bare();
	vcpu2 = vcpu_create(vm2, 0);
	vcpu_free(vcpu2);
	vm_free(vm2);
	vm_free(vm);
}

/* --- memory cgroup ------------------------------------------------------ */

#define CG_ROOT	"/sys/fs/cgroup"
#define CG	CG_ROOT "/hvx-memcg"

static long long cg_read(const char *path, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = atoll(line);
			break;
		}
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ') {
			v = atoll(line + strlen(key) + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * In the child, inside CG: a guest writes @size bytes of a fresh slot,
 * with memory.max at @headroom above what the child uses then (0: no
 * limit). Exit 0 when done (memory.current's growth goes to @fd), 3 when
 * HVX_RUN failed; the memcg's OOM killer may also end it.
 */
static void __attribute__((noreturn)) memcg_child(uint64_t size, int fd,
						   long long headroom)
{
	struct vcpu *vcpu;
	struct vm *vm;
	long long before, after;
	char pid[32];
	void *ram;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(CG "/cgroup.procs", pid))
		_exit(2);
	vcpu = vm_create_long(&vm, guest_mem, 0);
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	madvise(ram, size, MADV_NOHUGEPAGE);
	if (ram == MAP_FAILED || set_region(vm, SLOT_A, 0, GPA_A, size, ram))
		_exit(2);
	guest_var(vm, mem_args).gpa = GPA_A;
	guest_var(vm, mem_args).size = size;
	guest_var(vm, mem_args).seed = 1;
	set_op(vm, MEM_OP_WRITE_PATTERN);
	before = cg_read(CG "/memory.current", NULL);
	if (headroom) {
		/* Room for less than the guest will write, nothing else. */
		snprintf(pid, sizeof(pid), "%lld", before + headroom);
		if (write_str(CG "/memory.max", pid))
			_exit(2);
	}
	if (__vcpu_run(vcpu))
		_exit(3);
	after = cg_read(CG "/memory.current", NULL);
	if (write(fd, &(long long){ after - before }, sizeof(long long)) < 0)
		_exit(2);
	_exit(0);
}

/*
 * Guest RAM is the VM owner's memory: the pages the guest touches (pinned
 * by hvx) are charged to the owner's memory cgroup, and its limit holds
 * against the guest: over memory.max the guest cannot get more.
 */
TEST(memcg_charges_guest_memory)
{
	const uint64_t size = 32ull << 20;
	int pipefd[2], status;
	long long delta = 0;
	char ctl[256] = "";
	FILE *f;
	pid_t pid;

	REQUIRE_VMX();
	if (access(CG_ROOT "/cgroup.controllers", R_OK)) {
		mkdir(CG_ROOT, 0755);
		mount("none", CG_ROOT, "cgroup2", 0, NULL);
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (f) {
		if (!fgets(ctl, sizeof(ctl), f))
			ctl[0] = 0;
		fclose(f);
	}
	if (!strstr(ctl, "memory"))
		SKIP(return, "no cgroup v2 memory controller in this kernel");
	ASSERT_EQ(0, write_str(CG_ROOT "/cgroup.subtree_control", "+memory"));
	rmdir(CG);
	ASSERT_EQ(0, mkdir(CG, 0755));

	/* Without a limit: the guest's 32 MiB show up in the memcg. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		memcg_child(size, pipefd[1], 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	ASSERT_EQ(sizeof(delta), read(pipefd[0], &delta, sizeof(delta)));
	ASSERT_LE((long long)size * 9 / 10, delta)
		TH_LOG("memory.current grew by %lld bytes for a %llu-byte guest write",
		       delta, (unsigned long long)size);

	/* With 8 MiB of headroom the guest cannot have 32 MiB more. */
	write_str(CG "/memory.swap.max", "0");	/* absent without swap accounting */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		memcg_child(size, pipefd[1], 8ll << 20);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 3))
		TH_LOG("over its memcg limit the guest still ran (status %#x)", status);
	ASSERT_LT(0, cg_read(CG "/memory.events", "max"));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(0, rmdir(CG));
}

TEST_HARNESS_MAIN
