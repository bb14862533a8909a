// SPDX-License-Identifier: GPL-2.0
/*
 * api_test - the ioctl ABI of /dev/hvx: return values and the documented
 * errno for bad input. Tests on the system fd run without VMX too; the
 * others need a VM and skip where HVX_CREATE_VM cannot work (QEMU TCG).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hvx_test.h"

#define SZ_4K	0x1000ul
#define SZ_2M	0x200000ul

TEST(api_version)
{
	int fd;

	REQUIRE_HVX();
	fd = hvx_open();
	ASSERT_EQ(HVX_API_VERSION, ioctl(fd, HVX_GET_API_VERSION, 0));
	ASSERT_EQ(1, HVX_API_VERSION);
	/* "Argument must be 0"; nonzero reserved input is EINVAL. */
	ASSERT_ERRNO(EINVAL, ioctl(fd, HVX_GET_API_VERSION, 1));
	close(fd);
}

TEST(vcpu_mmap_size)
{
	int fd;

	REQUIRE_HVX();
	fd = hvx_open();
	ASSERT_EQ(8192, ioctl(fd, HVX_GET_VCPU_MMAP_SIZE, 0));
	ASSERT_EQ(HVX_VCPU_MMAP_SIZE, 8192);
	close(fd);
}

TEST(create_vm_nonzero_arg)
{
	int fd;

	REQUIRE_HVX();
	fd = hvx_open();
	/* Assumes flags are validated before the VMX capability check, so
	 * this holds with and without VMX. */
	ASSERT_ERRNO(EINVAL, ioctl(fd, HVX_CREATE_VM, HVX_VM_VALID_FLAGS << 1));
	ASSERT_ERRNO(EINVAL, ioctl(fd, HVX_CREATE_VM, 1ul << 63));
	close(fd);
}

/* Without a vmx flag in /proc/cpuinfo (QEMU TCG) there are no VMs; with it
 * (Bochs) there are. */
TEST(create_vm_matches_cpu)
{
	int fd, vm_fd;

	REQUIRE_HVX();
	fd = hvx_open();
	vm_fd = ioctl(fd, HVX_CREATE_VM, 0);
	if (!cpuinfo_has_vmx()) {
		ASSERT_EQ(-1, vm_fd);
		ASSERT_EQ(EOPNOTSUPP, errno)
			TH_LOG("HVX_CREATE_VM without VMX: %s, expected EOPNOTSUPP",
			       strerrorname_np(errno));
	} else {
		ASSERT_LE(0, vm_fd)
			TH_LOG("HVX_CREATE_VM with VMX: %s", strerrorname_np(errno));
		close(vm_fd);
	}
	close(fd);
}

TEST(system_fd_rejects_vm_and_vcpu_ioctls)
{
	struct hvx_memory_region region = { .memory_size = SZ_4K };
	struct hvx_sregs sregs = { 0 };
	struct hvx_regs regs = { 0 };
	int fd;

	REQUIRE_HVX();
	fd = hvx_open();
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_SET_MEMORY_REGION, &region));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_CREATE_VCPU, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_RUN, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_GET_REGS, &regs));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_SET_REGS, &regs));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_GET_SREGS, &sregs));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, HVX_SET_SREGS, &sregs));
	close(fd);
}

/* An ioctl number is type, nr, direction and size: a known nr with another
 * size is a different ioctl, as is an unknown nr. */
TEST(system_fd_wrong_size_or_unknown_ioctl)
{
	char buf[256] = { 0 };
	int fd;

	REQUIRE_HVX();
	fd = hvx_open();
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR(HVXIO, 0x00, int), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOW(HVXIO, 0x01, __u64), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IOR(HVXIO, 0x02, char[8]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IO(HVXIO, 0x7f), 0));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IO(HVXIO + 1, 0x00), 0));
	close(fd);
}

TEST(vm_fd_rejects_other_ioctls)
{
	struct hvx_regs regs = { 0 };
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_GET_API_VERSION, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_CREATE_VM, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_GET_VCPU_MMAP_SIZE, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_RUN, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_GET_REGS, &regs));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, HVX_SET_REGS, &regs));
	vm_free(vm);
}

TEST(vcpu_fd_rejects_other_ioctls)
{
	struct hvx_memory_region region = { .memory_size = SZ_4K };
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, HVX_GET_API_VERSION, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, HVX_CREATE_VM, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, HVX_CREATE_VCPU, 1));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, HVX_SET_MEMORY_REGION, &region));
	vcpu_free(vcpu);
	vm_free(vm);
}

TEST(vm_and_vcpu_wrong_size_ioctls)
{
	char buf[256] = { 0 };
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(64, sizeof(struct hvx_memory_region));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, _IOW(HVXIO, 0x10, char[40]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, _IOW(HVXIO, 0x10, char[72]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vm->fd, _IOW(HVXIO, 0x11, int), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOR(HVXIO, 0x20, int), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOR(HVXIO, 0x21, char[100]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOW(HVXIO, 0x22, char[8]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOR(HVXIO, 0x23, char[200]), buf));
	ASSERT_ERRNO(ENOTTY, ioctl(vcpu->fd, _IOW(HVXIO, 0x24, char[8]), buf));
	vcpu_free(vcpu);
	vm_free(vm);
}

/* Anonymous memory for memory-slot tests. */
static void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	LIB_ASSERT(p != MAP_FAILED, "mmap: %m");
	return p;
}

static int set_region(struct vm *vm, const struct hvx_memory_region *r)
{
	return ioctl(vm->fd, HVX_SET_MEMORY_REGION, r);
}

TEST(memslot_bad_alignment_slot_flags)
{
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	mem = map_anon(2 * SZ_2M);

	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0x1001, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0x800, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0, SZ_4K + 1, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0, 0x800, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0, SZ_2M, mem + 1));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 0, SZ_2M, mem + 0x800));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, HVX_MAX_MEM_SLOTS, 0, 0, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, ~0u, 0, 0, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 1u << 2, 0, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 1u << 31, 0, SZ_2M, mem));
	/* Beyond any physical-address width (at most 52 bits), and a range
	 * that wraps around. */
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, 1ull << 52, SZ_2M, mem));
	ASSERT_ERRNO(EINVAL, __vm_set_memory_region(vm->fd, 0, 0, ~0ull & ~(SZ_4K - 1), 2 * SZ_4K, mem));

	/* None of that created slot 0: deleting it fails, creating works. */
	ASSERT_ERRNO(ENOENT, __vm_set_memory_region(vm->fd, 0, 0, 0, 0, NULL));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, 0, SZ_2M, mem));
	vm_free(vm);
}

TEST(memslot_reserved_must_be_zero)
{
	struct hvx_memory_region r;
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	mem = map_anon(SZ_2M);
	for (int i = 0; i < 4; i++) {
		r = (struct hvx_memory_region){
			.slot = 3, .memory_size = SZ_2M,
			.userspace_addr = (uint64_t)mem,
		};
		r.reserved[i] = 1;
		ASSERT_ERRNO_MSG(EINVAL, set_region(vm, &r), " (reserved[%d])", i);
	}
	/* Nothing was created. */
	ASSERT_ERRNO(ENOENT, __vm_set_memory_region(vm->fd, 3, 0, 0, 0, NULL));
	vm_free(vm);
}

TEST(memslot_overlap_and_recreate)
{
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	mem = map_anon(4 * SZ_2M);

	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, SZ_2M, SZ_2M, mem));
	/* Overlapping slot 0 from above, from below, by one page, around. */
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 1, 0, SZ_2M + SZ_4K, SZ_2M, mem + SZ_2M));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 1, 0, SZ_2M - SZ_4K, 2 * SZ_4K, mem + SZ_2M));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 1, 0, 2 * SZ_2M - SZ_4K, SZ_4K, mem + SZ_2M));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 1, 0, 0, 3 * SZ_2M, mem));
	/* Adjacent ranges do not overlap. */
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 1, 0, 2 * SZ_2M, SZ_2M, mem + SZ_2M));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 2, 0, 0, SZ_2M, mem + 2 * SZ_2M));

	/*
	 * An existing slot number changes that slot (mem_test covers moves
	 * in depth): the same values change nothing, a move onto another
	 * slot overlaps it, a free GPA works; deleted, it can be created.
	 */
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, SZ_2M, SZ_2M, mem));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 0, 0, 2 * SZ_2M, SZ_2M, mem));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, 8 * SZ_2M, SZ_2M, mem));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, 0, 0, NULL));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, 0, 8 * SZ_2M, SZ_2M, mem));
	vm_free(vm);
}

TEST(memslot_delete_nonexistent)
{
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	mem = map_anon(SZ_2M);
	ASSERT_ERRNO(ENOENT, __vm_set_memory_region(vm->fd, 5, 0, 0, 0, NULL));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 5, 0, 0, SZ_2M, mem));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 5, 0, 0, 0, NULL));
	ASSERT_ERRNO(ENOENT, __vm_set_memory_region(vm->fd, 5, 0, 0, 0, NULL));
	vm_free(vm);
}

TEST(memslot_hva_not_accessible)
{
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();

	/* Entirely unmapped. */
	mem = map_anon(4 * SZ_4K);
	ASSERT_EQ(0, munmap(mem, 4 * SZ_4K));
	ASSERT_ERRNO(EFAULT, __vm_set_memory_region(vm->fd, 0, 0, 0, 4 * SZ_4K, mem));

	/* A hole in the middle of the range. */
	mem = map_anon(4 * SZ_4K);
	ASSERT_EQ(0, munmap(mem + 2 * SZ_4K, SZ_4K));
	ASSERT_ERRNO(EFAULT, __vm_set_memory_region(vm->fd, 0, 0, 0, 4 * SZ_4K, mem));

	/* Read-only memory backs only read-only slots. */
	mem = mmap(NULL, 4 * SZ_4K, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_ERRNO(EFAULT, __vm_set_memory_region(vm->fd, 0, 0, 0, 4 * SZ_4K, mem));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 0, HVX_MEM_READONLY, 0, 4 * SZ_4K, mem));
	vm_free(vm);
}

TEST(memslot_all_slots)
{
	uint8_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	mem = map_anon(HVX_MAX_MEM_SLOTS * SZ_4K);
	for (uint32_t i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		ASSERT_EQ(0, __vm_set_memory_region(vm->fd, i, 0, i * SZ_2M, SZ_4K,
						    mem + i * SZ_4K))
			TH_LOG("slot %u: %s", i, strerrorname_np(errno));
	}
	vm_free(vm);
}

TEST(vcpu_ids)
{
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	vm = vm_create_bare();
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VCPU, HVX_MAX_VCPUS));
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VCPU, ~0ul));
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VCPU, 1ul << 32));
	for (unsigned long id = 0; id < HVX_MAX_VCPUS; id++) {
		fd = ioctl(vm->fd, HVX_CREATE_VCPU, id);
		ASSERT_LE(0, fd) TH_LOG("vCPU %lu: %s", id, strerrorname_np(errno));
	}
	ASSERT_ERRNO(EEXIST, ioctl(vm->fd, HVX_CREATE_VCPU, 0));
	ASSERT_ERRNO(EEXIST, ioctl(vm->fd, HVX_CREATE_VCPU, HVX_MAX_VCPUS - 1));
	vm_free(vm);
}

TEST(vcpu_mmap)
{
	struct hvx_run *run;
	struct vm *vm;
	void *p;
	int fd;

	REQUIRE_VMX();
	vm = vm_create_bare();
	fd = ioctl(vm->fd, HVX_CREATE_VCPU, 0);
	ASSERT_LE(0, fd);

	p = mmap(NULL, HVX_VCPU_MMAP_SIZE + 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, 3 * SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, SZ_4K);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * SZ_4K);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	run = mmap(NULL, HVX_VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, run);
	/* Both pages are there and writable. */
	run->immediate_exit = 0;
	((volatile uint8_t *)run)[HVX_RUN_IO_DATA_OFFSET + HVX_RUN_IO_DATA_SIZE - 1] = 0;
	ASSERT_EQ(256, sizeof(run->padding));
	munmap(run, HVX_VCPU_MMAP_SIZE);
	close(fd);
	vm_free(vm);
}

TEST(run_nonzero_arg)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_RUN, 1));
	vcpu_free(vcpu);
	vm_free(vm);
}

/* The x86 reset state (SDM Vol. 3A, "Processor State After Reset"). */
TEST(vcpu_reset_state)
{
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	vcpu_get_regs(vcpu, &regs);
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(0xfff0, regs.rip);
	ASSERT_EQ(0x2, regs.rflags);
	ASSERT_EQ(0xf000, sregs.cs.selector);
	ASSERT_EQ(0xffff0000, sregs.cs.base);
	ASSERT_EQ(0xffff, sregs.cs.limit);
	ASSERT_EQ(1, sregs.cs.present);
	ASSERT_EQ(1, sregs.cs.s);
	ASSERT_EQ(0, sregs.cs.l);
	ASSERT_EQ(0, sregs.cs.db);
	ASSERT_EQ(0x60000010, sregs.cr0);
	ASSERT_EQ(0, sregs.cr4);
	ASSERT_EQ(0, sregs.efer);
	ASSERT_EQ(0xffff, sregs.idt.limit);
	ASSERT_EQ(0, sregs.idt.base);
	struct hvx_segment *data[] = { &sregs.ds, &sregs.es, &sregs.fs,
				       &sregs.gs, &sregs.ss };
	for (unsigned int i = 0; i < ARRAY_SIZE(data); i++) {
		ASSERT_EQ(0, data[i]->selector);
		ASSERT_EQ(0, data[i]->base);
		ASSERT_EQ(0xffff, data[i]->limit);
		ASSERT_EQ(1, data[i]->present);
	}
	vcpu_free(vcpu);
	vm_free(vm);
}

TEST(regs_roundtrip)
{
	struct hvx_regs in, out;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t *w = (uint64_t *)&in;

	REQUIRE_VMX();
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	for (unsigned int i = 0; i < sizeof(in) / 8; i++)
		w[i] = 0x0101010101010101ull * (i + 1);
	in.rip = 0x1234;
	in.rflags = 0x2 | 0x1 | 0x40 | 0x800;	/* CF, ZF, OF */
	vcpu_set_regs(vcpu, &in);
	vcpu_get_regs(vcpu, &out);
	ASSERT_EQ(0, memcmp(&in, &out, sizeof(in)));
	vcpu_free(vcpu);
	vm_free(vm);
}

/* Name of the first field where two sregs differ, or NULL. */
static const char *sregs_diff(const struct hvx_sregs *a, const struct hvx_sregs *b)
{
#define CMP(f) if (memcmp(&a->f, &b->f, sizeof(a->f))) return #f
	CMP(cs); CMP(ds); CMP(es); CMP(fs); CMP(gs); CMP(ss); CMP(tr); CMP(ldt);
	CMP(gdt); CMP(idt); CMP(cr0); CMP(cr2); CMP(cr3); CMP(cr4); CMP(cr8);
	CMP(efer); CMP(apic_base); CMP(reserved);
#undef CMP
	return NULL;
}

/* A complete, valid 64-bit state goes in and comes back unchanged. */
TEST(sregs_roundtrip)
{
	struct hvx_sregs in, out;
	struct vcpu *vcpu;
	struct vm *vm;
	const char *diff;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_sync_done, 0);
	vcpu_get_sregs(vcpu, &in);
	in.cr2 = 0x123456789000;
	in.cr8 = 7;
	in.fs.base = 0xffff800000001000;	/* FS/GS bases are 64 bits */
	in.gs.base = 0x00007fff12345000;
	in.apic_base = 0xfee00900;	/* enabled, BSP */
	vcpu_set_sregs(vcpu, &in);
	vcpu_get_sregs(vcpu, &out);
	diff = sregs_diff(&in, &out);
	ASSERT_EQ(NULL, diff) TH_LOG("sregs.%s changed on the way", diff);
	vcpu_free(vcpu);
	vm_free(vm);
}

static void bad_cs_dpl(struct hvx_sregs *s)	{ s->cs.dpl = 4; }
static void bad_ds_type(struct hvx_sregs *s)	{ s->ds.type = 16; }
static void bad_ss_present(struct hvx_sregs *s)	{ s->ss.present = 2; }
static void bad_es_db(struct hvx_sregs *s)	{ s->es.db = 2; }
static void bad_fs_s(struct hvx_sregs *s)	{ s->fs.s = 0xff; }
static void bad_gs_l(struct hvx_sregs *s)	{ s->gs.l = 2; }
static void bad_tr_g(struct hvx_sregs *s)	{ s->tr.g = 2; }
static void bad_ldt_avl(struct hvx_sregs *s)	{ s->ldt.avl = 2; }
static void bad_cs_unusable(struct hvx_sregs *s){ s->cs.unusable = 2; }
static void bad_ds_pad0(struct hvx_sregs *s)	{ s->ds.padding[0] = 1; }
static void bad_tr_pad1(struct hvx_sregs *s)	{ s->tr.padding[1] = 0x80; }
static void bad_gdt_pad(struct hvx_sregs *s)	{ s->gdt.padding[0] = 1; }
static void bad_idt_pad(struct hvx_sregs *s)	{ s->idt.padding[2] = 1; }
static void bad_reserved0(struct hvx_sregs *s)	{ s->reserved[0] = 1; }
static void bad_reserved7(struct hvx_sregs *s)	{ s->reserved[7] = 1ull << 63; }
static void bad_cr4_vmxe(struct hvx_sregs *s)	{ s->cr4 |= X86_CR4_VMXE; }
static void bad_cr4_smxe(struct hvx_sregs *s)	{ s->cr4 |= X86_CR4_SMXE; }
/* EFER.LMA must equal EFER.LME && CR0.PG. */
static void bad_lma_without_pg(struct hvx_sregs *s)
{
	s->efer = EFER_LME | EFER_LMA;
	s->cr0 &= ~X86_CR0_PG;
}
static void bad_lme_pg_without_lma(struct hvx_sregs *s)
{
	s->efer = EFER_LME;
}
static void bad_lma_without_lme(struct hvx_sregs *s)
{
	s->efer = EFER_LMA;
}

TEST(sregs_invalid_input_changes_nothing)
{
	static const struct {
		const char *name;
		void (*mutate)(struct hvx_sregs *);
	} cases[] = {
#define C(f) { #f, f }
		C(bad_cs_dpl), C(bad_ds_type), C(bad_ss_present), C(bad_es_db),
		C(bad_fs_s), C(bad_gs_l), C(bad_tr_g), C(bad_ldt_avl),
		C(bad_cs_unusable), C(bad_ds_pad0), C(bad_tr_pad1),
		C(bad_gdt_pad), C(bad_idt_pad), C(bad_reserved0),
		C(bad_reserved7), C(bad_cr4_vmxe), C(bad_cr4_smxe),
		C(bad_lma_without_pg), C(bad_lme_pg_without_lma),
		C(bad_lma_without_lme),
#undef C
	};
	struct hvx_sregs before, bad, after;
	struct vcpu *vcpu;
	struct vm *vm;
	const char *diff;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	/* A valid 64-bit state (CR0.PG=1, EFER.LME=LMA=1) to mutate. */
	vcpu_setup_long(vcpu, guest_sync_done, 0);
	vcpu_get_sregs(vcpu, &before);

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		bad = before;
		cases[i].mutate(&bad);
		ASSERT_ERRNO_MSG(EINVAL, ioctl(vcpu->fd, HVX_SET_SREGS, &bad),
				 " (case %s)", cases[i].name);
		vcpu_get_sregs(vcpu, &after);
		diff = sregs_diff(&before, &after);
		ASSERT_EQ(NULL, diff)
			TH_LOG("case %s changed sregs.%s", cases[i].name, diff);
	}
	/* And the unchanged state still runs. */
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	vcpu_free(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
