// SPDX-License-Identifier: GPL-2.0
/*
 * hv_kvm.c - the benchmark's driver for /dev/kvm (<linux/kvm.h> of Debian's
 * linux-libc-dev), set up as a VMM would: an in-kernel irqchip and the
 * CPUID table KVM supports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "hv.h"

#define MAX_CPUID	256
#define CPUID_1_ECX_TSC_DEADLINE	(1u << 24)	/* SDM Vol. 2A, CPUID */
/* Where QEMU puts the TSS KVM wants for real mode on Intel (unused with
 * unrestricted guest, set anyway like a VMM).
 */
#define KVM_TSS_GPA	0xfffbd000

struct hv {
	int sys_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	int run_size;
};

static int kvm_open(struct hv **hvp, char *err, size_t errlen)
{
	struct hv *hv = calloc(1, sizeof(*hv));
	int ret;

	if (!hv)
		return -ENOMEM;
	hv->vm_fd = -1;
	hv->vcpu_fd = -1;
	hv->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (hv->sys_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open /dev/kvm: %s", strerror(-ret));
		goto out_free;
	}
	if (ioctl(hv->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		ret = -EINVAL;
		snprintf(err, errlen, "KVM API version is not %d", KVM_API_VERSION);
		goto out_sys;
	}
	hv->run_size = ioctl(hv->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (hv->run_size < (int)sizeof(struct kvm_run)) {
		ret = -EINVAL;
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %d", hv->run_size);
		goto out_sys;
	}
	hv->vm_fd = ioctl(hv->sys_fd, KVM_CREATE_VM, 0);
	if (hv->vm_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(-ret));
		goto out_sys;
	}
	if (ioctl(hv->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA)) {
		ret = -errno;
		snprintf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(-ret));
		close(hv->vm_fd);
		goto out_sys;
	}
	*hvp = hv;
	return 0;
out_sys:
	close(hv->sys_fd);
out_free:
	free(hv);
	return ret;
}

static int kvm_create_devices(struct hv *hv, char *err, size_t errlen)
{
	if (ioctl(hv->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		int ret = -errno;

		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int kvm_set_memory(struct hv *hv, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)hva,
	};

	return ioctl(hv->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/* The CPUID table KVM supports (KVM needs at least the long-mode bit
 * before SET_SREGS accepts EFER.LME), plus the TSC-deadline timer, which
 * KVM emulates and announces by capability.
 */
static int kvm_set_cpuid(struct hv *hv)
{
	struct kvm_cpuid2 *c;
	int ret = 0;

	c = calloc(1, sizeof(*c) + MAX_CPUID * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = MAX_CPUID;
	if (ioctl(hv->sys_fd, KVM_GET_SUPPORTED_CPUID, c)) {
		ret = -errno;
		goto out;
	}
	if (ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0) {
		for (uint32_t i = 0; i < c->nent; i++)
			if (c->entries[i].function == 1)
				c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
	}
	if (ioctl(hv->vcpu_fd, KVM_SET_CPUID2, c))
		ret = -errno;
out:
	free(c);
	return ret;
}

static int kvm_create_vcpu(struct hv *hv)
{
	hv->vcpu_fd = ioctl(hv->vm_fd, KVM_CREATE_VCPU, 0);
	if (hv->vcpu_fd < 0)
		return -errno;
	hv->run = mmap(NULL, hv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       hv->vcpu_fd, 0);
	if (hv->run == MAP_FAILED) {
		hv->run = NULL;
		return -errno;
	}
	return kvm_set_cpuid(hv);
}

static void seg_to_kvm(struct kvm_segment *d, const struct bseg *s)
{
	*d = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static int kvm_set_sregs(struct hv *hv, const struct bsregs *b)
{
	struct kvm_sregs s;

	if (ioctl(hv->vcpu_fd, KVM_GET_SREGS, &s))
		return -errno;
	seg_to_kvm(&s.cs, &b->cs);
	seg_to_kvm(&s.ds, &b->ds);
	seg_to_kvm(&s.es, &b->es);
	seg_to_kvm(&s.fs, &b->fs);
	seg_to_kvm(&s.gs, &b->gs);
	seg_to_kvm(&s.ss, &b->ss);
	seg_to_kvm(&s.tr, &b->tr);
	seg_to_kvm(&s.ldt, &b->ldt);
	s.gdt = (struct kvm_dtable){ .base = b->gdt.base, .limit = b->gdt.limit };
	s.idt = (struct kvm_dtable){ .base = b->idt.base, .limit = b->idt.limit };
	s.cr0 = b->cr0;
	s.cr3 = b->cr3;
	s.cr4 = b->cr4;
	s.efer = b->efer;
	return ioctl(hv->vcpu_fd, KVM_SET_SREGS, &s) ? -errno : 0;
}

_Static_assert(sizeof(struct kvm_regs) == sizeof(struct bregs),
	       "struct kvm_regs and struct bregs differ");

static int kvm_set_regs(struct hv *hv, const struct bregs *r)
{
	struct kvm_regs regs;

	memcpy(&regs, r, sizeof(regs));
	return ioctl(hv->vcpu_fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

static int kvm_get_regs(struct hv *hv, struct bregs *r)
{
	struct kvm_regs regs;

	if (ioctl(hv->vcpu_fd, KVM_GET_REGS, &regs))
		return -errno;
	memcpy(r, &regs, sizeof(regs));
	return 0;
}

static int kvm_run(struct hv *hv, struct bexit *e)
{
	struct kvm_run *run = hv->run;

	if (ioctl(hv->vcpu_fd, KVM_RUN, 0))
		return -errno;
	memset(e, 0, sizeof(*e));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->kind = BX_IO;
		e->write = run->io.direction == KVM_EXIT_IO_OUT;
		e->port = run->io.port;
		e->size = run->io.size;
		e->count = run->io.count;
		break;
	case KVM_EXIT_MMIO:
		e->kind = BX_MMIO;
		e->write = run->mmio.is_write;
		e->gpa = run->mmio.phys_addr;
		e->len = run->mmio.len;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc),
			 "KVM exit INTERNAL_ERROR suberror %u", run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc),
			 "KVM exit FAIL_ENTRY reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc), "KVM exit reason %u",
			 run->exit_reason);
		break;
	}
	return 0;
}

static void kvm_close(struct hv *hv)
{
	if (hv->run)
		munmap(hv->run, hv->run_size);
	if (hv->vcpu_fd >= 0)
		close(hv->vcpu_fd);
	close(hv->vm_fd);
	close(hv->sys_fd);
	free(hv);
}

const struct hv_ops hv_kvm_ops = {
	.name = "kvm",
	.open = kvm_open,
	.create_devices = kvm_create_devices,
	.set_memory = kvm_set_memory,
	.create_vcpu = kvm_create_vcpu,
	.set_sregs = kvm_set_sregs,
	.set_regs = kvm_set_regs,
	.get_regs = kvm_get_regs,
	.run = kvm_run,
	.close = kvm_close,
};
