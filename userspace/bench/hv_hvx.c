// SPDX-License-Identifier: GPL-2.0
/*
 * hv_hvx.c - the benchmark's driver for /dev/hvx (uapi/hvx.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvx.h"
#include "hv.h"

struct hv {
	int sys_fd, vm_fd, vcpu_fd;
	struct hvx_run *run;
};

static int hvx_open(struct hv **hvp, char *err, size_t errlen)
{
	struct hv *hv = calloc(1, sizeof(*hv));
	int ret;

	if (!hv)
		return -ENOMEM;
	hv->vm_fd = -1;
	hv->vcpu_fd = -1;
	hv->sys_fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (hv->sys_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open /dev/hvx: %s", strerror(-ret));
		free(hv);
		return ret;
	}
	hv->vm_fd = ioctl(hv->sys_fd, HVX_CREATE_VM, 0);
	if (hv->vm_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "HVX_CREATE_VM: %s", strerror(-ret));
		close(hv->sys_fd);
		free(hv);
		return ret;
	}
	*hvp = hv;
	return 0;
}

/*
 * The devices KVM_CREATE_IRQCHIP gives a KVM VM: the 8259A pair, the I/O
 * APIC and a local APIC per vCPU. Any failure means "not available yet":
 * the operations that need them are reported n/a with the reason.
 */
static int hvx_create_devices(struct hv *hv, char *err, size_t errlen)
{
#ifdef HVX_CREATE_PLATFORM
	struct hvx_platform_config cfg = {
		.devices = HVX_PLATFORM_PIC | HVX_PLATFORM_IOAPIC |
			   HVX_PLATFORM_LAPIC,
	};

	if (ioctl(hv->vm_fd, HVX_CREATE_PLATFORM, &cfg) < 0) {
		snprintf(err, errlen,
			 "needs in-kernel devices (HVX_CREATE_PLATFORM: %s)",
			 strerror(errno));
		return -EOPNOTSUPP;
	}
	return 0;
#else
	(void)hv;
	snprintf(err, errlen, "needs in-kernel devices");
	return -EOPNOTSUPP;
#endif
}

static int hvx_set_memory(struct hv *hv, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *hva)
{
	struct hvx_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)hva,
	};

	return ioctl(hv->vm_fd, HVX_SET_MEMORY_REGION, &r) ? -errno : 0;
}

static int hvx_create_vcpu(struct hv *hv)
{
	hv->vcpu_fd = ioctl(hv->vm_fd, HVX_CREATE_VCPU, 0);
	if (hv->vcpu_fd < 0)
		return -errno;
	hv->run = mmap(NULL, HVX_VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, hv->vcpu_fd, 0);
	if (hv->run == MAP_FAILED) {
		hv->run = NULL;
		return -errno;
	}
	return 0;
}

static void seg_to_hvx(struct hvx_segment *d, const struct bseg *s)
{
	*d = (struct hvx_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static int hvx_set_sregs(struct hv *hv, const struct bsregs *b)
{
	struct hvx_sregs s;

	if (ioctl(hv->vcpu_fd, HVX_GET_SREGS, &s))
		return -errno;
	seg_to_hvx(&s.cs, &b->cs);
	seg_to_hvx(&s.ds, &b->ds);
	seg_to_hvx(&s.es, &b->es);
	seg_to_hvx(&s.fs, &b->fs);
	seg_to_hvx(&s.gs, &b->gs);
	seg_to_hvx(&s.ss, &b->ss);
	seg_to_hvx(&s.tr, &b->tr);
	seg_to_hvx(&s.ldt, &b->ldt);
	s.gdt = (struct hvx_dtable){ .base = b->gdt.base, .limit = b->gdt.limit };
	s.idt = (struct hvx_dtable){ .base = b->idt.base, .limit = b->idt.limit };
	s.cr0 = b->cr0;
	s.cr3 = b->cr3;
	s.cr4 = b->cr4;
	s.efer = b->efer;
	return ioctl(hv->vcpu_fd, HVX_SET_SREGS, &s) ? -errno : 0;
}

_Static_assert(sizeof(struct hvx_regs) == sizeof(struct bregs),
	       "struct hvx_regs and struct bregs differ");

static int hvx_set_regs(struct hv *hv, const struct bregs *r)
{
	struct hvx_regs regs;

	memcpy(&regs, r, sizeof(regs));
	return ioctl(hv->vcpu_fd, HVX_SET_REGS, &regs) ? -errno : 0;
}

static int hvx_get_regs(struct hv *hv, struct bregs *r)
{
	struct hvx_regs regs;

	if (ioctl(hv->vcpu_fd, HVX_GET_REGS, &regs))
		return -errno;
	memcpy(r, &regs, sizeof(regs));
	return 0;
}

static int hvx_run(struct hv *hv, struct bexit *e)
{
	struct hvx_run *run = hv->run;

	if (ioctl(hv->vcpu_fd, HVX_RUN, 0))
		return -errno;
	memset(e, 0, sizeof(*e));
	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		e->kind = BX_IO;
		e->write = run->io.direction == HVX_EXIT_IO_OUT;
		e->port = run->io.port;
		e->size = run->io.size;
		e->count = run->io.count;
		break;
	case HVX_EXIT_MMIO:
		e->kind = BX_MMIO;
		e->write = run->mmio.is_write;
		e->gpa = run->mmio.phys_addr;
		e->len = run->mmio.len;
		break;
	case HVX_EXIT_INTERNAL_ERROR:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc),
			 "hvx exit INTERNAL_ERROR suberror %u exit reason %llu qual 0x%llx",
			 run->internal.suberror,
			 (unsigned long long)run->internal.exit_reason,
			 (unsigned long long)run->internal.qualification);
		break;
	case HVX_EXIT_FAIL_ENTRY:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc),
			 "hvx exit FAIL_ENTRY kind %u check %u reason 0x%llx",
			 run->fail_entry.kind, run->fail_entry.check,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		e->kind = BX_OTHER;
		snprintf(e->desc, sizeof(e->desc), "hvx exit reason %u",
			 run->exit_reason);
		break;
	}
	return 0;
}

static void hvx_close(struct hv *hv)
{
	if (hv->run)
		munmap(hv->run, HVX_VCPU_MMAP_SIZE);
	if (hv->vcpu_fd >= 0)
		close(hv->vcpu_fd);
	close(hv->vm_fd);
	close(hv->sys_fd);
	free(hv);
}

const struct hv_ops hv_hvx_ops = {
	.name = "hvx",
	.open = hvx_open,
	.create_devices = hvx_create_devices,
	.set_memory = hvx_set_memory,
	.create_vcpu = hvx_create_vcpu,
	.set_sregs = hvx_set_sregs,
	.set_regs = hvx_set_regs,
	.get_regs = hvx_get_regs,
	.run = hvx_run,
	.close = hvx_close,
};
