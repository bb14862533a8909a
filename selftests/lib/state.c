// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - save and restore with the state ioctls (hvx_state.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hvx_state.h"

/*
 * MSRs a vCPU may have, in restore order: IA32_TSC before
 * IA32_TSC_DEADLINE (a deadline is a TSC value), the paravirtual ones
 * after both (they write guest RAM from the TSC). Those HVX_GET_MSRS
 * refuses on this vCPU are left out. IA32_TSC_ADJUST is not saved: a
 * write of IA32_TSC moves it (SDM Vol. 3B 18.17.3), so the pair cannot
 * both be restored.
 */
static const uint32_t state_msrs[] = {
	0x174, 0x175, 0x176,		/* SYSENTER_CS, _ESP, _EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR .. SFMASK */
	0xc0000102, 0xc0000103,		/* KERNEL_GS_BASE, TSC_AUX */
	0x277, 0x1a0, 0x2ff,		/* PAT, MISC_ENABLE, MTRRdefType */
	0x10,				/* TSC */
	0x6e0,				/* TSC_DEADLINE */
	0x4b564d00, 0x4b564d01,		/* kvmclock wall clock, system time */
	0x4b564d03, 0x4b564d04,		/* steal time, PV EOI */
};

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/**
 * vcpu_state_save - read a stopped vCPU's whole state
 * @vcpu: the vCPU, not running.
 * @st: output.
 *
 * An exit to userspace is completed first (HVX_RUN with immediate_exit,
 * which returns EINTR without entering the guest), so that no half-done
 * instruction stays in the kernel.
 * Return: 0 or -errno.
 */
int vcpu_state_save(struct vcpu *vcpu, struct vcpu_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	vcpu->run->immediate_exit = 1;
	ret = ioctl(vcpu->fd, HVX_RUN, 0);
	vcpu->run->immediate_exit = 0;
	if (ret == 0 || errno != EINTR)
		return ret ? -errno : -EAGAIN;
	for (size_t i = 0; i < sizeof(state_msrs) / sizeof(state_msrs[0]); i++) {
		struct hvx_msrs one = { .nmsrs = 1 };

		one.entries[0].index = state_msrs[i];
		if (ioctl(vcpu->fd, HVX_GET_MSRS, &one) == 1)
			st->msrs.entries[st->msrs.nmsrs++] = one.entries[0];
	}
	if ((ret = xioctl(vcpu->fd, HVX_GET_REGS, &st->regs)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_SREGS, &st->sregs)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_XCRS, &st->xcrs)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_XSAVE, &st->xsave)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_DEBUGREGS, &st->debugregs)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_VCPU_EVENTS, &st->events)) ||
	    (ret = xioctl(vcpu->fd, HVX_GET_MP_STATE, &st->mp)))
		return ret;
	ret = xioctl(vcpu->fd, HVX_GET_LAPIC, &st->lapic);
	st->has_lapic = !ret;
	return ret == -ENXIO ? 0 : ret;
}

/**
 * vcpu_state_restore - load a saved state into a vCPU of a new VM
 * @vcpu: the vCPU, not running; its VM's device state already restored.
 * @st: from vcpu_state_save().
 *
 * The order is the ABI's: control registers and IA32_APIC_BASE before the
 * XCRs, the XSAVE area, the MSRs and the APIC; events and MP state last.
 * Return: 0 or -errno of the first ioctl that failed.
 */
int vcpu_state_restore(struct vcpu *vcpu, const struct vcpu_state *st)
{
	struct hvx_msrs early = st->msrs;
	int ret;

	if ((ret = xioctl(vcpu->fd, HVX_SET_SREGS, (void *)&st->sregs)) ||
	    (ret = xioctl(vcpu->fd, HVX_SET_REGS, (void *)&st->regs)) ||
	    (ret = xioctl(vcpu->fd, HVX_SET_XCRS, (void *)&st->xcrs)) ||
	    (ret = xioctl(vcpu->fd, HVX_SET_XSAVE, (void *)&st->xsave)))
		return ret;
	if (st->has_lapic &&
	    (ret = xioctl(vcpu->fd, HVX_SET_LAPIC, (void *)&st->lapic)))
		return ret;
	if (ioctl(vcpu->fd, HVX_SET_MSRS, &early) != (int)st->msrs.nmsrs)
		return -errno;
	if ((ret = xioctl(vcpu->fd, HVX_SET_DEBUGREGS, (void *)&st->debugregs)) ||
	    (ret = xioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, (void *)&st->events)) ||
	    (ret = xioctl(vcpu->fd, HVX_SET_MP_STATE, (void *)&st->mp)))
		return ret;
	return 0;
}

/**
 * vm_state_save - the VM's device records
 * @vm: the VM, its vCPUs stopped.
 * @buf: set to a malloc()ed buffer with the records (free() it).
 * Return: its length, or -errno.
 */
ssize_t vm_state_save(struct vm *vm, void **buf)
{
	struct hvx_vm_state a = { 0 };
	int len;

	len = ioctl(vm->fd, HVX_GET_VM_STATE, &a);
	if (len < 0)
		return -errno;
	*buf = malloc(len ? len : 1);
	if (!*buf)
		return -ENOMEM;
	a.addr = (uintptr_t)*buf;
	a.size = len;
	len = ioctl(vm->fd, HVX_GET_VM_STATE, &a);
	if (len < 0) {
		len = -errno;
		free(*buf);
		*buf = NULL;
	}
	return len;
}

/**
 * vm_state_restore - load device records into a VM
 * @vm: the VM (HVX_CREATE_PLATFORM done, no vCPU running).
 * @buf: records from vm_state_save().
 * @len: their length.
 * Return: 0 or -errno.
 */
int vm_state_restore(struct vm *vm, const void *buf, size_t len)
{
	struct hvx_vm_state a = { .addr = (uintptr_t)buf, .size = len };

	return xioctl(vm->fd, HVX_SET_VM_STATE, &a);
}

/**
 * vm_state_record - find a device record in a HVX_GET_VM_STATE buffer
 * @buf: records from vm_state_save().
 * @len: their length in bytes.
 * @type: the record type (HVX_STATE_*).
 * @instance: its instance (a virtio device's devfn), or VM_STATE_ANY for
 *            the first record of @type.
 * Return: the record's header, or NULL if there is none or a header is
 * malformed (a size smaller than the header stops the walk).
 */
void *vm_state_record(void *buf, size_t len, uint16_t type, uint64_t instance)
{
	size_t off = 0;

	while (off + sizeof(struct hvx_state_header) <= len) {
		struct hvx_state_header *h = (void *)((uint8_t *)buf + off);

		if (h->size < sizeof(*h))
			return NULL;
		if (h->type == type &&
		    (instance == VM_STATE_ANY || h->instance == instance))
			return h;
		off += h->size;
	}
	return NULL;
}
