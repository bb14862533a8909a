/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv.h - the two thin drivers of the benchmark (hv_hvx.c, hv_kvm.c) behind
 * one interface, so that bench.c sets up the same guest state and handles
 * the same exits under both hypervisors.
 */
#ifndef HVX_BENCH_HV_H
#define HVX_BENCH_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A segment register as the CPU caches it (same fields in hvx and KVM). */
struct bseg {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl, unusable;
};

struct bdtable {
	uint64_t base;
	uint16_t limit;
};

/* What bench.c sets; everything else keeps the hypervisor's reset value. */
struct bsregs {
	struct bseg cs, ds, es, fs, gs, ss, tr, ldt;
	struct bdtable gdt, idt;
	uint64_t cr0, cr3, cr4, efer;
};

/* GPRs in the order both hypervisors use. */
struct bregs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

enum bexit_kind { BX_IO, BX_MMIO, BX_OTHER };

/* An exit to userspace, in neutral form. */
struct bexit {
	enum bexit_kind kind;
	bool write;		/* OUT or MMIO write */
	uint16_t port;
	uint8_t size;		/* I/O: 1, 2 or 4 */
	uint32_t count;		/* I/O: elements */
	uint64_t gpa;		/* MMIO */
	uint32_t len;		/* MMIO */
	char desc[200];		/* BX_OTHER: the exit, for the failure message */
};

struct hv;

/* One VM with one vCPU. Each call returns 0 or -errno (message in errbuf). */
struct hv_ops {
	const char *name;	/* "hvx", "kvm" */
	/* Opens the device; -errno if the hypervisor is unusable here. */
	int (*open)(struct hv **hv, char *err, size_t errlen);
	/* The in-kernel interrupt controllers and timers, before the vCPU. */
	int (*create_devices)(struct hv *hv, char *err, size_t errlen);
	int (*set_memory)(struct hv *hv, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *hva);
	int (*create_vcpu)(struct hv *hv);
	int (*set_sregs)(struct hv *hv, const struct bsregs *s);
	int (*set_regs)(struct hv *hv, const struct bregs *r);
	int (*get_regs)(struct hv *hv, struct bregs *r);
	int (*run)(struct hv *hv, struct bexit *e);
	void (*close)(struct hv *hv);
};

extern const struct hv_ops hv_hvx_ops;
extern const struct hv_ops hv_kvm_ops;

#endif /* HVX_BENCH_HV_H */
