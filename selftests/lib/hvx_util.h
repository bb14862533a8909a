/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_util.h - host side of the hvx selftest library.
 *
 * Functions without a leading "__" fail the test (message on stderr, then
 * abort(), which the kselftest harness reports as a failed test) when an
 * ioctl that should work does not; the "__" variants return the raw result so
 * tests can check errno.
 *
 * Guest code lives in the test binary itself (see guest_layout.h): a guest
 * function is entered at its host address, and guest globals are at their
 * host addresses in guest memory. The guest gets a copy of the binary taken
 * from /proc/self/exe when the VM is created, so host writes to a global are
 * not seen by the guest (and vice versa) unless copied with
 * sync_global_to_guest()/sync_global_from_guest() or accessed in guest
 * memory with guest_var().
 */
#ifndef HVX_SELFTEST_UTIL_H
#define HVX_SELFTEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hvx.h"
#include "guest_layout.h"
#include "tables.h"
#include "x86.h"

#define HVX_DEV		"/dev/hvx"

struct vm {
	int sys_fd;		/* /dev/hvx */
	int fd;			/* VM fd */
	uint8_t *ram;		/* guest RAM: GPA x is at ram + x (NULL: bare VM) */
	uint64_t ram_size;
	uint64_t next_stack;	/* top of the next vCPU stack to hand out */
};

struct vcpu {
	struct vm *vm;
	int fd;
	uint32_t id;
	struct hvx_run *run;	/* HVX_VCPU_MMAP_SIZE bytes mapped from fd */
	uint64_t stack_top;	/* 0 until a vcpu_setup_*() needs a stack */
};

struct ucall {
	uint64_t cmd;		/* UCALL_* */
	uint64_t args[4];	/* guest RDI, RSI, RDX, RCX */
};

/* Failure reporting for the library (and for tests outside the harness). */
void __attribute__((noreturn, format(printf, 3, 4)))
lib_fail(const char *file, int line, const char *fmt, ...);
#define LIB_ASSERT_AT(file, line, cond, fmt, ...) do {			\
	if (!(cond))							\
		lib_fail(file, line, "%s: " fmt, #cond, ##__VA_ARGS__);	\
} while (0)
#define LIB_ASSERT(cond, fmt, ...)					\
	LIB_ASSERT_AT(__FILE__, __LINE__, cond, fmt, ##__VA_ARGS__)

/* sys.c: the environment */
int hvx_open(void);
int hvx_vmx_errno(void);
bool cpuinfo_has_vmx(void);
long hvx_module_refcnt(void);
bool wait_for_refcnt(long want, int timeout_ms);
long long host_pins(void);	/* FOLL_PIN pages now (/proc/vmstat) */
int load_module(const char *path);
int pin_cpu(int cpu);
int load_module_params(const char *path, const char *params);
int unload_module(const char *name);
/* KVM's modules in load order (kvm needs irqbypass, kvm_intel needs kvm). */
struct kvm_module {
	const char *file, *name;	/* in HVX_KVM_DIR; for delete_module() */
};
#define NR_KVM_MODS	3
extern const struct kvm_module kvm_mods[NR_KVM_MODS];
void msleep(unsigned int ms);
int write_str(const char *path, const char *s);
int read_str(const char *path, char *buf, size_t len);
/* hvx shares VMX with KVM here (its vmx_shared parameter reads Y). */
bool hvx_vmx_shared(void);
int host_msr(int cpu, uint32_t msr, uint64_t *val, bool write);
bool kvm_takes_vmx_at_load(void);

/* vm.c: VMs, memory, vCPUs, running */
struct vm *vm_create(void);
struct vm *vm_create_flags(uint32_t flags);	/* HVX_VM_* flags */
struct vm *vm_create_bare(void);
void vm_free(struct vm *vm);
struct hvx_mem_info vm_mem_info(struct vm *vm);
int __vm_set_memory_region(int vm_fd, uint32_t slot, uint32_t flags,
			   uint64_t gpa, uint64_t size, void *hva);
void *vm_gpa2hva(struct vm *vm, uint64_t gpa, uint64_t len);
void vm_load_blob(struct vm *vm, uint64_t gpa, const void *start,
		  const void *end);

struct vcpu *vcpu_create(struct vm *vm, uint32_t id);
void vcpu_free(struct vcpu *vcpu);
void vcpu_get_regs(struct vcpu *vcpu, struct hvx_regs *regs);
void vcpu_set_regs(struct vcpu *vcpu, const struct hvx_regs *regs);
void vcpu_get_sregs(struct vcpu *vcpu, struct hvx_sregs *sregs);
void vcpu_set_sregs(struct vcpu *vcpu, const struct hvx_sregs *sregs);
uint64_t vcpu_get_rip(struct vcpu *vcpu);
int __vcpu_run(struct vcpu *vcpu);
void vcpu_run_at(struct vcpu *vcpu, const char *file, int line);
void *vcpu_io_data(struct vcpu *vcpu);
const char *exit_reason_str(uint32_t reason);
const char *vcpu_exit_str(struct vcpu *vcpu);

/* A guest global, as an lvalue in guest memory. */
#define guest_var(vm, g)						\
	(*(__typeof__(&(g)))vm_gpa2hva((vm), (uint64_t)&(g), sizeof(g)))
#define sync_global_to_guest(vm, g)	(guest_var(vm, g) = (g))
#define sync_global_from_guest(vm, g)	((g) = guest_var(vm, g))

/* modes.c: descriptor tables, page tables, and starting a vCPU in a mode */
void vm_init_tables(struct vm *vm);
void vm_set_idt_gate(struct vm *vm, int vector, uint64_t handler);
void vcpu_set_idt_gate(struct vcpu *vcpu, int vector, uint64_t handler);
void vcpu_setup_long(struct vcpu *vcpu, void (*guest_fn)(uint64_t),
		     uint64_t arg);
void vcpu_setup_prot32(struct vcpu *vcpu, uint32_t eip);
void vcpu_setup_real(struct vcpu *vcpu, uint32_t gpa);
struct vcpu *vm_create_long(struct vm **vm, void (*guest_fn)(uint64_t),
			    uint64_t arg);

/* ucall.c */
uint64_t get_ucall(struct vcpu *vcpu, struct ucall *uc);
uint64_t vcpu_run_ucall_at(struct vcpu *vcpu, struct ucall *uc,
			   const char *file, int line);
uint64_t vcpu_run_sync_at(struct vcpu *vcpu, const char *file, int line);
void vcpu_run_done_at(struct vcpu *vcpu, const char *file, int line);
const char *ucall_str(struct vcpu *vcpu, const struct ucall *uc);

/*
 * Running a vCPU; failures are reported at the caller's file and line.
 * vcpu_run: HVX_RUN must succeed. vcpu_run_ucall: the exit must be a
 * GUEST_SYNC or GUEST_DONE ucall (a guest assertion or exception fails the
 * test with its message); returns UCALL_SYNC/DONE. vcpu_run_sync: must be
 * GUEST_SYNC, returns its first argument. vcpu_run_done: must be GUEST_DONE.
 */
#define vcpu_run(vcpu)		vcpu_run_at(vcpu, __FILE__, __LINE__)
#define vcpu_run_ucall(vcpu, uc) vcpu_run_ucall_at(vcpu, uc, __FILE__, __LINE__)
#define vcpu_run_sync(vcpu)	vcpu_run_sync_at(vcpu, __FILE__, __LINE__)
#define vcpu_run_done(vcpu)	vcpu_run_done_at(vcpu, __FILE__, __LINE__)

/* Generic guests in the library (lib/guest.c). */
void guest_sync_done(uint64_t arg);	/* GUEST_SYNC(arg); GUEST_DONE() */
void guest_spin(uint64_t counter_gva);	/* (*counter)++ forever */
extern const uint64_t guest_exc_stubs[IDT_VECTORS];
extern const char guest_return_trap[];

#endif /* HVX_SELFTEST_UTIL_H */
