// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - VMs with guest RAM holding a copy of the test binary, vCPUs, and
 * running them.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvx_util.h"

#define SZ_2M		(2ull << 20)
#define MAX_LOADS	16

/* The PT_LOAD segments of this (static, non-PIE) executable. */
static struct {
	int nr;
	Elf64_Phdr ph[MAX_LOADS];
	uint64_t end;		/* highest vaddr + memsz */
} self_elf;

static void read_self_elf(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	LIB_ASSERT(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh), "ELF header");
	LIB_ASSERT(!memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
		   eh.e_ident[EI_CLASS] == ELFCLASS64 &&
		   eh.e_machine == EM_X86_64, "/proc/self/exe is not x86-64 ELF");
	/* Guest code runs at its link address: the binary must not be PIE. */
	LIB_ASSERT(eh.e_type == ET_EXEC, "test binary must be -static -no-pie");

	for (int i = 0; i < eh.e_phnum; i++) {
		off_t off = eh.e_phoff + (off_t)i * eh.e_phentsize;

		LIB_ASSERT(pread(fd, &ph, sizeof(ph), off) == sizeof(ph),
			   "program header %d", i);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		LIB_ASSERT(self_elf.nr < MAX_LOADS, "too many PT_LOADs");
		LIB_ASSERT(ph.p_vaddr >= GPA_HOLE_END,
			   "PT_LOAD at 0x%llx overlaps the low guest layout",
			   (unsigned long long)ph.p_vaddr);
		self_elf.ph[self_elf.nr++] = ph;
		if (ph.p_vaddr + ph.p_memsz > self_elf.end)
			self_elf.end = ph.p_vaddr + ph.p_memsz;
	}
}

/* Copy every PT_LOAD of the binary (fd) to GPA = its vaddr; the rest of
 * p_memsz (.bss) is already zero in fresh anonymous memory. */
static void load_self(struct vm *vm, int fd)
{
	for (int i = 0; i < self_elf.nr; i++) {
		Elf64_Phdr *ph = &self_elf.ph[i];
		void *dst = vm_gpa2hva(vm, ph->p_vaddr, ph->p_memsz);

		LIB_ASSERT(pread(fd, dst, ph->p_filesz, ph->p_offset) ==
			   (ssize_t)ph->p_filesz, "reading PT_LOAD %d", i);
	}
}

static struct vm *vm_create_bare_flags(uint32_t flags)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	LIB_ASSERT(vm, "calloc");
	vm->sys_fd = hvx_open();
	vm->fd = ioctl(vm->sys_fd, HVX_CREATE_VM, flags);
	LIB_ASSERT(vm->fd >= 0, "HVX_CREATE_VM(%#x): %m", flags);
	vm->next_stack = GPA_STACKS_TOP;
	return vm;
}

struct vm *vm_create_bare(void)
{
	return vm_create_bare_flags(0);
}

int __vm_set_memory_region(int vm_fd, uint32_t slot, uint32_t flags,
			   uint64_t gpa, uint64_t size, void *hva)
{
	struct hvx_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)hva,
	};

	return ioctl(vm_fd, HVX_SET_MEMORY_REGION, &r);
}

/*
 * A VM whose RAM holds this binary at its link addresses plus the lib's
 * GDT/IDT/TSS/page tables (see guest_layout.h). RAM ends at the first
 * 2 MiB boundary after the binary.
 */
struct vm *vm_create(void)
{
	return vm_create_flags(0);
}

struct vm *vm_create_flags(uint32_t flags)
{
	struct vm *vm = vm_create_bare_flags(flags);
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	LIB_ASSERT(fd >= 0, "/proc/self/exe: %m");
	if (!self_elf.nr)
		read_self_elf(fd);
	vm->ram_size = (self_elf.end + SZ_2M - 1) & ~(SZ_2M - 1);
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	LIB_ASSERT(vm->ram != MAP_FAILED, "mmap guest RAM: %m");

	LIB_ASSERT(!__vm_set_memory_region(vm->fd, RAM_SLOT_LOW, 0, 0,
					   GPA_LOW_RAM_END, vm->ram),
		   "HVX_SET_MEMORY_REGION(low RAM): %m");
	LIB_ASSERT(!__vm_set_memory_region(vm->fd, RAM_SLOT_HIGH, 0,
					   GPA_HOLE_END,
					   vm->ram_size - GPA_HOLE_END,
					   vm->ram + GPA_HOLE_END),
		   "HVX_SET_MEMORY_REGION(RAM above 1 MiB): %m");
	load_self(vm, fd);
	close(fd);
	vm_init_tables(vm);
	return vm;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	close(vm->fd);
	close(vm->sys_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	free(vm);
}

/* HVX_GET_MEM_INFO of @vm (fails the test if the ioctl fails). */
struct hvx_mem_info vm_mem_info(struct vm *vm)
{
	struct hvx_mem_info info;

	memset(&info, 0xff, sizeof(info));
	LIB_ASSERT(!ioctl(vm->fd, HVX_GET_MEM_INFO, &info),
		   "HVX_GET_MEM_INFO: %m");
	return info;
}

/* Host address of guest RAM [gpa, gpa + len); fails outside the RAM slots. */
void *vm_gpa2hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	bool low = gpa + len <= GPA_LOW_RAM_END;
	bool high = gpa >= GPA_HOLE_END && gpa + len <= vm->ram_size;

	LIB_ASSERT(vm->ram && gpa + len >= gpa && (low || high),
		   "GPA 0x%llx+0x%llx is not guest RAM",
		   (unsigned long long)gpa, (unsigned long long)len);
	return vm->ram + gpa;
}

void vm_load_blob(struct vm *vm, uint64_t gpa, const void *start,
		  const void *end)
{
	size_t len = (const char *)end - (const char *)start;

	memcpy(vm_gpa2hva(vm, gpa, len), start, len);
}

struct vcpu *vcpu_create(struct vm *vm, uint32_t id)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));

	LIB_ASSERT(vcpu, "calloc");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, HVX_CREATE_VCPU, id);
	LIB_ASSERT(vcpu->fd >= 0, "HVX_CREATE_VCPU(%u): %m", id);
	vcpu->run = mmap(NULL, HVX_VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	LIB_ASSERT(vcpu->run != MAP_FAILED, "mmap vCPU %u: %m", id);
	return vcpu;
}

void vcpu_free(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, HVX_VCPU_MMAP_SIZE);
	close(vcpu->fd);
	free(vcpu);
}

void vcpu_get_regs(struct vcpu *vcpu, struct hvx_regs *regs)
{
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_GET_REGS, regs), "HVX_GET_REGS: %m");
}

void vcpu_set_regs(struct vcpu *vcpu, const struct hvx_regs *regs)
{
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_SET_REGS, regs), "HVX_SET_REGS: %m");
}

void vcpu_get_sregs(struct vcpu *vcpu, struct hvx_sregs *sregs)
{
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_GET_SREGS, sregs), "HVX_GET_SREGS: %m");
}

void vcpu_set_sregs(struct vcpu *vcpu, const struct hvx_sregs *sregs)
{
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_SET_SREGS, sregs), "HVX_SET_SREGS: %m");
}

uint64_t vcpu_get_rip(struct vcpu *vcpu)
{
	struct hvx_regs regs;

	vcpu_get_regs(vcpu, &regs);
	return regs.rip;
}

int __vcpu_run(struct vcpu *vcpu)
{
	return ioctl(vcpu->fd, HVX_RUN, 0);
}

void vcpu_run_at(struct vcpu *vcpu, const char *file, int line)
{
	LIB_ASSERT_AT(file, line, !__vcpu_run(vcpu), "HVX_RUN: %m (exit: %s)",
		      vcpu_exit_str(vcpu));
}

/* The data of the current HVX_EXIT_IO, bounds-checked. */
void *vcpu_io_data(struct vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	uint64_t len = (uint64_t)run->io.size * run->io.count;

	LIB_ASSERT(run->exit_reason == HVX_EXIT_IO, "exit is %s",
		   vcpu_exit_str(vcpu));
	LIB_ASSERT(len <= HVX_RUN_IO_DATA_SIZE &&
		   run->io.data_offset <= HVX_VCPU_MMAP_SIZE - len,
		   "I/O data %llu bytes at offset %llu is outside the mmap",
		   (unsigned long long)len,
		   (unsigned long long)run->io.data_offset);
	return (uint8_t *)run + run->io.data_offset;
}

const char *exit_reason_str(uint32_t reason)
{
	/* uapi/hvx.h's list, shared with the kernel, hvxctl and hvx-run. */
	static const struct {
		uint32_t reason;
		const char *name;
	} names[] = { HVX_EXIT_REASONS };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].reason == reason)
			return names[i].name;
	return "(invalid)";
}

/* snprintf at buf[*n], never past size; *n stays below size. */
static void __attribute__((format(printf, 4, 5)))
bprintf(char *buf, size_t size, int *n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	if (ret > 0)
		*n = *n + ret < (int)size ? *n + ret : (int)size - 1;
}

/* One line describing the last exit, for failure messages. */
const char *vcpu_exit_str(struct vcpu *vcpu)
{
	static __thread char buf[512];
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;
	struct ucall uc;
	int n = 0;

	bprintf(buf, sizeof(buf), &n, "%s(%u)",
		exit_reason_str(run->exit_reason), run->exit_reason);
	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		if (get_ucall(vcpu, &uc) != UCALL_NONE) {
			bprintf(buf, sizeof(buf), &n, " %s", ucall_str(vcpu, &uc));
			break;
		}
		bprintf(buf, sizeof(buf), &n, " %s port 0x%x size %u count %u",
			run->io.direction == HVX_EXIT_IO_OUT ? "out" : "in",
			run->io.port, run->io.size, run->io.count);
		break;
	case HVX_EXIT_MMIO:
		bprintf(buf, sizeof(buf), &n, " %s gpa 0x%llx len %u data",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
		for (int i = 0; i < 8; i++)
			bprintf(buf, sizeof(buf), &n, " %02x", run->mmio.data[i]);
		break;
	case HVX_EXIT_FAIL_ENTRY:
		bprintf(buf, sizeof(buf), &n,
			" kind %u check %u reason 0x%llx vm-insn-error %u qual 0x%llx cpu %u",
			run->fail_entry.kind, run->fail_entry.check,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.vm_instruction_error,
			(unsigned long long)run->fail_entry.qualification,
			run->fail_entry.cpu);
		break;
	case HVX_EXIT_INTERNAL_ERROR:
		bprintf(buf, sizeof(buf), &n,
			" suberror %u exit reason %llu qual 0x%llx data",
			run->internal.suberror,
			(unsigned long long)run->internal.exit_reason,
			(unsigned long long)run->internal.qualification);
		for (uint32_t i = 0; i < run->internal.ndata && i < 8; i++)
			bprintf(buf, sizeof(buf), &n, " 0x%llx",
				(unsigned long long)run->internal.data[i]);
		break;
	}
	if (!ioctl(vcpu->fd, HVX_GET_REGS, &regs))
		bprintf(buf, sizeof(buf), &n, ", rip 0x%llx",
			(unsigned long long)regs.rip);
	return buf;
}
